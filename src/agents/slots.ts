// What this replica knows of every agent's load between ticks, for the create's sync match
// (CONTRACT §17, docs/scheduler.md "Sync match"): the agents as the last tick planned with them
// (drain flags, active counts, last assignment), kept current with what this replica did since —
// a slot taken by a sync match, a slot freed by a report it handled. A hint, never a guard: the
// create's statement (dispatch_create_matched_diff) locks the agent row and recounts, so a stale view
// costs at most a create that goes to pending as before, never an agent over its limit.
import { availabilityOf, type AgentView } from '../core/scoring.js';

export class AgentSlots {
  private views = new Map<string, AgentView>();
  private refreshedAt = -Infinity;
  /**
   * A create was refused because older tasks wait for the agents (the database said so): until the
   * next tick, creates go straight to pending behind them. Not taken from the tick's own view of
   * the queue, which counts tasks no agent can take (those never hold a create back).
   */
  private backlog = false;
  /**
   * Slots this replica took (sync matches, +1) and freed (reports, −1) per agent since the running
   * tick began reading its counts (readStarted): the tick's counts may not include them, so its
   * refresh adds them back — else a create that committed during a tick is forgotten by the view,
   * and the next create for that agent is refused by the database (`at_limit`), goes pending, and
   * holds every create after it back until the next tick. Undefined while no tick reads.
   */
  private sinceRead: Map<string, number> | undefined;

  /** @param maxAgeMs views older than this (no tick since) are not used: the create goes to pending. */
  constructor(private readonly maxAgeMs: number) {}

  /** A tick is about to read the agents' active counts (its refresh comes after). */
  readStarted(): void {
    this.sinceRead = new Map();
  }

  /**
   * After a tick: the views it planned with, its own assignments counted, and what this replica
   * took and freed since the tick began reading (a take counted twice — committed before the
   * tick's read yet recorded after readStarted — only makes the view cautious: a create goes
   * pending, never an agent over its limit, the database guards that).
   */
  refresh(views: readonly AgentView[], nowMs: number): void {
    const delta = this.sinceRead;
    this.sinceRead = undefined;
    this.views = new Map(views.map((v) => [v.id, { ...v, active: Math.max(0, v.active + (delta?.get(v.id) ?? 0)) }]));
    this.refreshedAt = nowMs;
    this.backlog = false;
  }

  /** Whether a tick refreshed the views lately (and there are any). */
  private known(nowMs: number): boolean {
    return nowMs - this.refreshedAt <= this.maxAgeMs && this.views.size > 0;
  }

  private note(agent: string, d: number): void {
    if (this.sinceRead) this.sinceRead.set(agent, (this.sinceRead.get(agent) ?? 0) + d);
  }

  /** The agents as last known, or undefined when no tick refreshed them lately or tasks wait in the queue (the scheduler's, in its order). */
  current(nowMs: number): AgentView[] | undefined {
    if (this.backlog || !this.known(nowMs)) return undefined;
    return [...this.views.values()];
  }

  /**
   * How many tasks the agents as last known can still take (the lean tick's page size,
   * assignment/assign.ts), or undefined when no tick refreshed them lately. Counts this replica's
   * frees since that tick, not other replicas' (the safety-net tick reads a whole page).
   */
  free(nowMs: number, maxConcurrent: number): number | undefined {
    if (!this.known(nowMs)) return undefined;
    let n = 0;
    for (const v of this.views.values()) if (!v.drained && availabilityOf(v, maxConcurrent).multiplier > 0) n += maxConcurrent - v.active;
    return n;
  }

  /** A create was refused because older tasks wait: none tries again until the next tick. */
  queued(): void {
    this.backlog = true;
  }

  /** A sync match is giving `agent` a task (counted from the plan on; released() if the database refuses). */
  taken(agent: string, nowMs: number, woke: boolean): void {
    this.note(agent, 1);
    const v = this.views.get(agent);
    if (!v) return;
    v.active++;
    v.lastAssignedAt = nowMs;
    if (woke) v.state = 'starting'; // woken once; later tasks ride on the same wake
  }

  /** The database refused a sync match for `agent` (at its limit, or drained): none for it until the next tick. */
  refused(agent: string): void {
    this.views.delete(agent);
  }

  /** The database did not give `agent` the task taken() counted (it went pending, or failed). */
  released(agent: string): void {
    this.freed(agent);
  }

  /** A task of `agent` left assigned/running through this replica. */
  freed(agent: string): void {
    this.note(agent, -1);
    const v = this.views.get(agent);
    if (v && v.active > 0) v.active--;
  }

  /** Warren told us of a new state (a signal, between ticks). */
  stateChanged(agent: string, state: string): void {
    const v = this.views.get(agent);
    if (v) v.state = state;
  }
}
