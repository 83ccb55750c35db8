// Warren (docs/scheduler.md "The agent directory"): agent states and wake, with `Authorization: Bearer <warren.token>`.
//   GET  /admin/agents               → [{name, state, policy, …}]
//   POST /admin/agents/{name}/wake   → 200 {status: "waking"}; 400 agent is not on-demand; 404
import type { AvailabilitySource } from '../agents/ports.js';
import { expectShape, type HttpClient } from './http.js';
import { isObject } from '../core/ids.js';

export class WarrenClient implements AvailabilitySource {
  readonly name = 'warren' as const;
  constructor(private readonly http: HttpClient) {}

  async listStates(): Promise<Map<string, string>> {
    const list = await this.http.getJson('/admin/agents');
    expectShape('warren', Array.isArray(list), 'agent list is not an array');
    const out = new Map<string, string>();
    for (const a of list as unknown[]) {
      expectShape('warren', isObject(a) && typeof a.name === 'string' && typeof a.state === 'string', 'agent without name/state');
      const { name, state } = a as { name: string; state: string };
      out.set(name, state);
    }
    return out;
  }

  async wake(agent: string): Promise<void> {
    await this.http.postJson(`/admin/agents/${encodeURIComponent(agent)}/wake`);
  }
}
