// The agent directory: one view of the swarm combining capabilities (PromptForge or roster),
// availability (Warren or roster) and ownership (Alexandria or roster), cached so that assignment
// stays cheap and a slow or broken neighbour never stalls the scheduler:
//   - capabilities refresh in the background every `capabilityRefreshMs`; served stale forever
//     while PromptForge is down (only a never-loaded directory makes tasks wait);
//   - Warren's list is fetched at most once per snapshot (= per tick), waited for at most
//     `waitBudgetMs`, and a list older than `availabilityStaleMs` is not trusted (agents unknown);
//   - ownership is cached per owner for `ownershipTtlMs`, served stale while Alexandria is down;
//   - a neighbour's failure is logged once when it starts failing and once when it recovers.
import type { Logger } from 'pino';
import type { HealthState } from '../ports.js';
import type { Signals } from '../signals.js';
import { Cached, type Outcome } from './cache.js';
import type { AgentFacts, AvailabilitySource, CapabilitySource, OwnershipSource } from './ports.js';
import type { AgentEndpoint } from '../config.js';
import { CALL_ASSIGNEE } from '../core/call-spec.js';

export interface DirectoryOptions {
  capabilities: CapabilitySource;
  availability: AvailabilitySource;
  ownership: OwnershipSource;
  logger: Logger;
  signals?: Signals;
  capabilityRefreshMs: number;
  ownershipTtlMs: number;
  /** How long a tick waits for a neighbour before going on with what is cached. */
  waitBudgetMs: number;
  /** A Warren list older than this (Warren failing) is not used: agents count as unknown. */
  availabilityStaleMs: number;
  /** After a wake request, the agent is not woken again for this long (wake_timeout_ms). */
  wakeHoldMs: number;
  /** Agents in the standalone roster (config `agents:`). */
  rosterSize?: number;
}

export interface DirectoryAgent {
  id: string;
  name: string;
  capabilities: string[];
  state: string;
  /** Owners whose cached device list names this agent (roster: its owner). */
  ownerIds: string[];
  /** An endpoint agent's url and credential (§18.2): its tasks are POSTed there. */
  endpoint?: AgentEndpoint;
}

export interface DirectorySnapshot {
  agents: DirectoryAgent[];
  capabilitiesKnown: boolean;
  availabilityKnown: boolean;
  /** owner → agent ids; null when unknown (Alexandria down, nothing cached). */
  ownership: Map<string, Set<string> | null>;
}

/** Earliest early refresh of capabilities when tasks find no capable agent. */
const CAPABILITY_NUDGE_MS = 5000;

type Part = 'capabilities' | 'availability' | 'ownership';

export class AgentDirectory {
  private readonly caps: Cached<Map<string, AgentFacts>>;
  private readonly states: Cached<Map<string, string>>;
  private readonly owners = new Map<string, Cached<Set<string>>>();
  /** States learnt from signals (Warren's events) that its list does not show yet. */
  private readonly overrides = new Map<string, { state: string; at: number }>();
  private readonly wokenAt = new Map<string, number>();
  private readonly failing = new Set<Part>();
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: DirectoryOptions) {
    this.log = opts.logger.child({ component: 'agent-directory' });
    this.caps = new Cached(
      () => opts.capabilities.listCapabilities(),
      (o) => {
        this.report('capabilities', opts.capabilities.name, o);
      },
    );
    this.states = new Cached(
      () => opts.availability.listStates(),
      (o) => {
        this.report('availability', opts.availability.name, o);
        // A signalled state stands until Warren's list agrees with it (or it grows stale).
        if (o.ok) for (const [id, ov] of this.overrides) if (this.states.current?.get(id) === ov.state) this.overrides.delete(id);
      },
    );
  }

  /** Begin background capability refreshes (the first one right away). */
  start(): void {
    const first = this.caps.current === undefined;
    void this.caps.refresh().then(() => {
      if (first && this.caps.current) this.opts.signals?.emit('assign-needed');
    });
    void this.states.refresh();
    this.timer = setInterval(() => void this.caps.refresh(), this.opts.capabilityRefreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * What one tick plans with. Makes at most one Warren call, at most one PromptForge refresh (only
   * while nothing was ever loaded) and at most one Alexandria call per owner whose entry expired.
   */
  async snapshot(owners: Iterable<string> = []): Promise<DirectorySnapshot> {
    const budget = this.opts.waitBudgetMs;
    const capsP = this.caps.current ? Promise.resolve(this.caps.current) : this.caps.get(0, budget);
    const statesP = this.states.get(0, budget);
    const ownerList = [...new Set(owners)];
    const ownedP = Promise.all(ownerList.map((o) => this.ownerEntry(o).get(this.opts.ownershipTtlMs, budget)));
    const [caps, states, owned] = await Promise.all([capsP, statesP, ownedP]);
    const availabilityKnown = states !== undefined && this.states.age() <= this.opts.availabilityStaleMs;
    const ownership = new Map<string, Set<string> | null>(ownerList.map((o, i) => [o, owned[i] ?? null]));
    return {
      agents: this.merge(caps, availabilityKnown ? states : undefined),
      capabilitiesKnown: caps !== undefined,
      availabilityKnown,
      ownership,
    };
  }

  /**
   * A task found no capable agent: a persona may have been added since the last refresh. Refresh
   * early in the background, at most every CAPABILITY_NUDGE_MS.
   */
  capabilitiesMayBeStale(): void {
    if (this.caps.age() >= Math.min(CAPABILITY_NUDGE_MS, this.opts.capabilityRefreshMs)) void this.caps.refresh();
  }

  /**
   * False when no agent can ever be known: the roster stands in for every neighbour and is
   * empty. The scheduler then only sweeps deadlines (and says so once at start).
   */
  get hasAgentSource(): boolean {
    const all = [this.opts.capabilities, this.opts.availability, this.opts.ownership];
    return !(all.every((x) => x.name === 'roster') && this.opts.rosterSize === 0);
  }

  /** Refresh agent states in the background (single flight); never waits. */
  refreshAvailability(): void {
    void this.states.refresh();
  }

  /**
   * What the directory knows, from cache only, never waiting for a neighbour (the create's sync
   * match plans against AgentSlots' views and needs only this): no ownership known (a task whose
   * owner filter applies is left to the scheduler).
   */
  known(): Pick<DirectorySnapshot, 'ownership' | 'capabilitiesKnown' | 'availabilityKnown'> {
    return {
      capabilitiesKnown: this.caps.current !== undefined,
      availabilityKnown: this.states.current !== undefined && this.states.age() <= this.opts.availabilityStaleMs,
      ownership: new Map(),
    };
  }

  /** known() with the merged agents: a whole snapshot from cache only. */
  cachedSnapshot(): DirectorySnapshot {
    const k = this.known();
    return { ...k, agents: this.merge(this.caps.current, k.availabilityKnown ? this.states.current : undefined) };
  }

  /** The endpoint agents (§18.2) as the capability cache knows them: id → endpoint. Never waits. */
  endpoints(): Map<string, AgentEndpoint> {
    const out = new Map<string, AgentEndpoint>();
    for (const [id, c] of this.caps.current ?? []) if (c.endpoint) out.set(id, c.endpoint);
    return out;
  }

  /** The merged view from cache only (admin listing): never waits for a neighbour. */
  cachedAgents(): DirectoryAgent[] {
    const fresh = this.states.age() <= this.opts.availabilityStaleMs;
    return this.merge(this.caps.current, fresh ? this.states.current : undefined);
  }

  private merge(caps: Map<string, AgentFacts> | undefined, states: Map<string, string> | undefined): DirectoryAgent[] {
    const ids = new Set<string>([...(caps?.keys() ?? []), ...(states?.keys() ?? []), ...this.overrides.keys()]);
    const ownerIds = new Map<string, string[]>();
    for (const [owner, entry] of this.owners) {
      for (const id of entry.current ?? []) ownerIds.set(id, [...(ownerIds.get(id) ?? []), owner]);
    }
    const now = performance.now();
    return [...ids].sort().map((id) => {
      const c = caps?.get(id);
      const ov = this.overrides.get(id);
      const signalled = ov && now - ov.at <= this.opts.availabilityStaleMs ? ov.state : undefined;
      let state = signalled ?? states?.get(id) ?? 'unknown';
      // Woken recently but Warren does not show it yet: starting, not to be woken again.
      const woken = this.wokenAt.get(id);
      if (state === 'sleeping' && woken !== undefined && now - woken < this.opts.wakeHoldMs) state = 'starting';
      return {
        id,
        name: c?.name ?? id,
        // No agent holds the tag every call task requires (core/calls.ts): only the executor performs those.
        capabilities: (c?.capabilities ?? []).filter((t) => t !== CALL_ASSIGNEE),
        state,
        ownerIds: ownerIds.get(id) ?? [],
        ...(c?.endpoint ? { endpoint: c.endpoint } : {}),
      };
    });
  }

  private ownerEntry(owner: string): Cached<Set<string>> {
    let e = this.owners.get(owner);
    if (!e) {
      e = new Cached(
        () => this.opts.ownership.agentsOf(owner),
        (o) => this.report('ownership', this.opts.ownership.name, o),
      );
      this.owners.set(owner, e);
    }
    return e;
  }

  /** An agent's state changed (Warren event): effective at once, until Warren's list agrees. */
  applyState(agent: string, state: string): void {
    const source = this.opts.availability as AvailabilitySource & { setState?: (agent: string, state: string) => void };
    source.setState?.(agent, state); // the roster keeps it; Warren's next list confirms it
    this.overrides.set(agent, { state, at: performance.now() });
    if (state === 'ready' || state === 'sleeping') this.wokenAt.delete(agent);
  }

  /**
   * Wake a sleeping agent without waiting: the request runs in the background, and for
   * `wakeHoldMs` the agent counts as `starting` (not woken again) while Warren still says sleeping.
   */
  wake(agent: string): void {
    const now = performance.now();
    const last = this.wokenAt.get(agent);
    if (last !== undefined && now - last < this.opts.wakeHoldMs) return;
    this.wokenAt.set(agent, now);
    this.opts.availability.wake(agent).then(
      () => this.log.info({ agent }, 'agent woken'),
      (err: unknown) => this.log.warn({ agent, err: (err as Error).message }, 'wake request failed'),
    );
  }

  /** Health of one neighbour: disabled when the roster stands in, else the last call's outcome. */
  health(part: Part): HealthState {
    const source = part === 'capabilities' ? this.opts.capabilities : part === 'availability' ? this.opts.availability : this.opts.ownership;
    if (source.name === 'roster') return 'disabled';
    return this.failing.has(part) ? 'down' : 'ok';
  }

  private report(part: Part, source: string, o: Outcome): void {
    if (o.ok) {
      if (this.failing.delete(part)) this.log.info({ neighbour: source }, `${source} is reachable again`);
      return;
    }
    if (!this.failing.has(part)) {
      this.failing.add(part);
      this.log.warn(
        { neighbour: source, err: (o.error as Error)?.message ?? String(o.error) },
        `${source} call failed; serving cached ${part} and retrying in the background (logged once until it recovers)`,
      );
    }
  }
}
