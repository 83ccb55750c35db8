// The standalone roster (config `agents:`, docs/scheduler.md "The agent directory"): stands in for PromptForge, Warren and
// Alexandria while their URLs are empty, so a fresh `npm start` assigns work. A sleeping roster
// agent is "woken" by marking it ready.
import { AGENT_STATES, type RosterAgent } from '../config.js';
import type { AvailabilitySource, CapabilitySource, OwnershipSource } from '../agents/ports.js';

export class Roster implements CapabilitySource, AvailabilitySource, OwnershipSource {
  readonly name = 'roster' as const;
  private readonly agents: Map<string, RosterAgent>;

  constructor(agents: readonly RosterAgent[]) {
    this.agents = new Map(agents.map((a) => [a.id, { ...a, capabilities: a.capabilities.map((c) => c.toLowerCase()) }]));
  }

  async listCapabilities() {
    return new Map(
      [...this.agents.values()].map((a) => [a.id, { name: a.name, capabilities: [...a.capabilities], ...(a.endpoint ? { endpoint: a.endpoint } : {}) }]),
    );
  }

  async listStates() {
    return new Map([...this.agents.values()].map((a) => [a.id, a.state as string]));
  }

  async wake(agent: string): Promise<void> {
    const a = this.agents.get(agent);
    if (a && (a.state === 'sleeping' || a.state === 'starting')) a.state = 'ready';
  }

  /** Set a roster agent's state (agent-state signals, tests). */
  setState(agent: string, state: string): void {
    const a = this.agents.get(agent);
    if (a) a.state = (AGENT_STATES as readonly string[]).includes(state) ? (state as RosterAgent['state']) : 'unknown';
  }

  async agentsOf(owner: string): Promise<Set<string>> {
    return new Set([...this.agents.values()].filter((a) => a.owner === owner).map((a) => a.id));
  }
}
