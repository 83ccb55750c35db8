// What this replica knows of every agent's load between ticks, for the create's sync match
// (CONTRACT §17, docs/scheduler.md "Sync match"): the agents as the last tick planned with them
// (drain flags, active counts, last assignment), kept current with what this replica did since —
// a slot taken by a sync match, a slot freed by a report it handled. A hint, never a guard: the
// create's statement (dispatch_create_matched) locks the agent row and recounts, so a stale view
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

  /** @param maxAgeMs views older than this (no tick since) are not used: the create goes to pending. */
  constructor(private readonly maxAgeMs: number) {}

  /** After a tick: the views it planned with, its own assignments counted. */
  refresh(views: readonly AgentView[], nowMs: number): void {
    this.views = new Map(views.map((v) => [v.id, { ...v }]));
    this.refreshedAt = nowMs;
    this.backlog = false;
  }

  /** The agents as last known, or undefined when no tick refreshed them lately or tasks wait in the queue (the scheduler's, in its order). */
  current(nowMs: number): AgentView[] | undefined {
    if (this.backlog || nowMs - this.refreshedAt > this.maxAgeMs || this.views.size === 0) return undefined;
    return [...this.views.values()];
  }

  /**
   * How many tasks the agents as last known can still take (the lean tick's page size,
   * assignment/assign.ts), or undefined when no tick refreshed them lately. Counts this replica's
   * frees since that tick, not other replicas' (the safety-net tick reads a whole page).
   */
  free(nowMs: number, maxConcurrent: number): number | undefined {
    if (nowMs - this.refreshedAt > this.maxAgeMs || this.views.size === 0) return undefined;
    let n = 0;
    for (const v of this.views.values()) if (!v.drained && availabilityOf(v, maxConcurrent).multiplier > 0) n += maxConcurrent - v.active;
    return n;
  }

  /** A create was refused because older tasks wait: none tries again until the next tick. */
  queued(): void {
    this.backlog = true;
  }

  /** A sync match gave `agent` a task. */
  taken(agent: string, nowMs: number, woke: boolean): void {
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

  /** A task of `agent` left assigned/running through this replica. */
  freed(agent: string): void {
    const v = this.views.get(agent);
    if (v && v.active > 0) v.active--;
  }

  /** Warren told us of a new state (a signal, between ticks). */
  stateChanged(agent: string, state: string): void {
    const v = this.views.get(agent);
    if (v) v.state = state;
  }
}
