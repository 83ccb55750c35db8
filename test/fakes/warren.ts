// Fake Warren speaking docs/scheduler.md "The agent directory" (Authorization: Bearer <token> on every call):
//   GET  /admin/agents               → [{name, state, policy, …}]
//   GET  /admin/agents/{name}        → one agent, or 404
//   POST /admin/agents/{name}/wake   → 200 {status: "waking"}; 400 "agent is not on-demand"; 404
import { FakeServer, type Call, type Reply } from './base.js';

export interface FakeWarrenAgent {
  state: string;
  policy: 'on-demand' | 'always-on';
}

export class FakeWarren extends FakeServer {
  readonly agents = new Map<string, FakeWarrenAgent>();
  /** Agent names in the order wake was requested. */
  readonly wakes: string[] = [];
  /** State an agent moves to when woken ('starting' like the real one; tests move it on). */
  wakeTo = 'starting';

  constructor(readonly token = 'warren-test-token') {
    super('warren', (c) => this.route(c));
  }

  setAgent(name: string, state: string, policy: FakeWarrenAgent['policy'] = state === 'sleeping' ? 'on-demand' : 'always-on'): void {
    this.agents.set(name, { state, policy });
  }

  setState(name: string, state: string): void {
    const a = this.agents.get(name);
    if (!a) throw new Error(`fake warren: no agent ${name}`);
    a.state = state;
  }

  private route(c: Call): Reply | undefined {
    if (c.headers.authorization !== `Bearer ${this.token}`) return { status: 401, body: { error: 'unauthorized' } };
    const view = (name: string, a: FakeWarrenAgent) => ({ name, state: a.state, policy: a.policy, hostname: `${name}.swarm`, port: 8080 });
    if (c.method === 'GET' && c.path === '/admin/agents') {
      return { status: 200, body: [...this.agents].map(([n, a]) => view(n, a)) };
    }
    const one = /^\/admin\/agents\/([^/]+)$/.exec(c.path);
    if (one && c.method === 'GET') {
      const name = decodeURIComponent(one[1]!);
      const a = this.agents.get(name);
      return a ? { status: 200, body: view(name, a) } : { status: 404, body: { error: 'agent not found' } };
    }
    const wake = /^\/admin\/agents\/([^/]+)\/wake$/.exec(c.path);
    if (wake && c.method === 'POST') {
      const name = decodeURIComponent(wake[1]!);
      const a = this.agents.get(name);
      if (!a) return { status: 404, body: { error: 'agent not found' } };
      if (a.policy !== 'on-demand') return { status: 400, body: { error: 'agent is not on-demand' } };
      this.wakes.push(name);
      if (a.state === 'sleeping') a.state = this.wakeTo;
      return { status: 200, body: { status: 'waking' } };
    }
    return undefined;
  }

  static async start(token?: string): Promise<FakeWarren> {
    return new FakeWarren(token).listen();
  }
}
