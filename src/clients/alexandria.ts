// Alexandria (docs/scheduler.md "The agent directory"): which agents (devices) an owner holds.
//   GET /api/v1/devices?owner_id=<owner> with X-Agent-ID: dispatch
//     → {data: [{id, name, device_type, owner_id, identifier}], meta: {…}}
// An agent is the owner's if a device's name or identifier equals the agent id.
import type { OwnershipSource } from '../agents/ports.js';
import { expectShape, type HttpClient } from './http.js';
import { isObject } from '../core/ids.js';

export class AlexandriaClient implements OwnershipSource {
  readonly name = 'alexandria' as const;
  constructor(private readonly http: HttpClient) {}

  async agentsOf(owner: string): Promise<Set<string>> {
    const body = await this.http.getJson(`/api/v1/devices?owner_id=${encodeURIComponent(owner)}`);
    expectShape('alexandria', isObject(body) && Array.isArray(body.data), 'device list has no data array');
    const out = new Set<string>();
    for (const d of (body as { data: unknown[] }).data) {
      expectShape('alexandria', isObject(d), 'device is not an object');
      const dev = d as Record<string, unknown>;
      // Trust but verify: only devices of this owner count, whatever the filter returned.
      if (dev.owner_id !== undefined && dev.owner_id !== owner) continue;
      if (typeof dev.name === 'string' && dev.name) out.add(dev.name);
      if (typeof dev.identifier === 'string' && dev.identifier) out.add(dev.identifier);
    }
    return out;
  }
}
