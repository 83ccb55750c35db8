// Fake Alexandria speaking docs/scheduler.md "The agent directory":
//   GET /api/v1/devices?owner_id=<owner> with X-Agent-ID → {data: [{id, name, device_type, owner_id, identifier}], meta}
//   errors: {error: {code, message}}; 429 when rate-limited.
import { FakeServer, type Call, type Reply } from './base.js';

export interface FakeDevice {
  id: string;
  name: string;
  device_type: string;
  owner_id: string;
  identifier: string;
}

export class FakeAlexandria extends FakeServer {
  readonly devices: FakeDevice[] = [];

  constructor() {
    super('alexandria', (c) => this.route(c));
  }

  /** Give `owner` a device naming the agent (by name, or by identifier when `via` says so). */
  addDevice(owner: string, agent: string, via: 'name' | 'identifier' = 'name'): void {
    const n = this.devices.length + 1;
    this.devices.push({
      id: `dev-${n}`,
      name: via === 'name' ? agent : `device ${n}`,
      device_type: 'agent',
      owner_id: owner,
      identifier: via === 'identifier' ? agent : `serial-${n}`,
    });
  }

  private route(c: Call): Reply | undefined {
    if (c.method !== 'GET' || c.path !== '/api/v1/devices') return undefined;
    if (!c.headers['x-agent-id']) return { status: 401, body: { error: { code: 'missing_agent_id', message: 'X-Agent-ID required' } } };
    const owner = c.query.get('owner_id');
    if (!owner) return { status: 400, body: { error: { code: 'validation_failed', message: 'owner_id required' } } };
    const data = this.devices.filter((d) => d.owner_id === owner);
    return { status: 200, body: { data, meta: { total: data.length, page: 1, per_page: 100 } } };
  }

  static async start(): Promise<FakeAlexandria> {
    return new FakeAlexandria().listen();
  }
}
