// The scheduler: sweeps deadlines and assigns pending tasks.
//
// Concurrency model: one tick at a time per replica; reads without locks; every write is a
// compare-and-set in one short transaction, with its events in the same transaction. The
// per-agent limit is re-checked inside the assignment transaction while the agent's row is
// locked, so any number of replicas on one database never exceed max_concurrent_per_agent.
// Replicas wake each other through Postgres NOTIFY `dispatch_assign` (fired by a trigger when a
// task becomes pending or leaves assigned/running); the tick interval is only a safety net.
import type { Logger } from 'pino';
import type { Component, DispatchContext } from '../app.js';
import type { AgentDirectory } from '../agents/directory.js';
import type { Sql } from '../store/db.js';
import { planAssignments, type PlanTask } from '../core/assignment.js';
import { availabilityOf, type AgentView } from '../core/scoring.js';
import { decideRetry } from '../core/retry.js';
import { recordTransition } from '../observability/metrics.js';
import { STOP_WAIT_MS, waitAtMost } from '../wait.js';
import { agentRowsAndCounts } from '../store/agents.js';
import {
  assignBatch, deadlinesDue, duePending, markUnmatched, sweepAttemptTimeouts, sweepWakeTimeouts, type BatchCursor, type BatchItem, type PendingRef,
} from '../store/assignments.js';

/** Pages of `batch_size` tasks one tick may read while agents still have free slots. */
export const MAX_PAGES_PER_TICK = 4;
/** Deadline rows handled per sweep statement (the rest wait for the next tick). */
const SWEEP_LIMIT = 1000;
/**
 * Ticks started by a notification or signal sweep deadlines only if the last sweep is at least
 * this old (the tick_interval_ms timer always sweeps): under a stream of creates most ticks then
 * go straight to assignment. Deadline precision stays within this gap.
 */
export const SWEEP_MIN_GAP_MS = 100;

/** Where a keyset read continues after `t`. */
const cursorOf = (t: PendingRef): BatchCursor => ({ priority: t.priority, created_at: t.created_at, id: t.id });

const planTask = (t: PendingRef): PlanTask => ({
  id: t.id, requiredTags: t.required_tags, priority: t.priority, owner: t.owner, avoidAgent: t.avoid_agent,
});

/** Whether `a` comes after `b` in assignment order (priority desc, created_at, id). */
function isAfter(a: BatchCursor, b: BatchCursor): boolean {
  if (a.priority !== b.priority) return a.priority < b.priority;
  if (a.created_at.getTime() !== b.created_at.getTime()) return a.created_at > b.created_at;
  return a.id > b.id;
}

export interface TickResult {
  /** Pending tasks read this tick. */
  considered: number;
  assigned: { taskId: string; agent: string; woke: boolean }[];
  /** Tasks whose unmatched reason changed (an event was written). */
  unmatched: { taskId: string; reason: string }[];
  /** Decisions refused by the database re-check (drained, at limit, or lost a race). */
  refused: number;
  requeuedAfterWakeTimeout: number;
  retriedAfterTimeout: number;
  timedOut: number;
  /** Milliseconds spent per phase of this tick (scripts/profile-tick.ts prints them). */
  phases: TickPhases;
}

export interface TickPhases {
  sweep: number;
  read: number;
  snapshot: number;
  plan: number;
  write: number;
  unmatched: number;
}

function since(t0: number): number {
  return performance.now() - t0;
}

export class Scheduler implements Component {
  readonly name = 'scheduler';
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** performance.now() of the last sweep (monotonic: scheduling, not business time). */
  private lastSweepAt = -Infinity;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private unlisten: (() => Promise<void>) | undefined;
  private listenWarned = false;
  /** Where the last full tick stopped reading (see assign()). */
  private resumeAfter: BatchCursor | undefined;
  /** Where the next unmatched-marking page starts while every agent is busy (see markBeyond()). */
  private markAfter: BatchCursor | undefined;
  /**
   * Whether the last tick left due tasks unassigned (or did not see the whole queue): only then
   * is a freed slot worth a tick. A task that becomes pending always pokes.
   */
  private backlog = true;
  private readonly onAssignNeeded = (reason?: 'freed') => this.poke(reason);
  /** Kept while the loop is stopped too: a state change must reach the directory either way. */
  private readonly onAgentState = ({ agent, state }: { agent: string; state: string }) => {
    this.directory.applyState(agent, state);
    this.poke();
  };

  /**
   * `sql`: the pool the scheduler's own statements use (a dedicated small pool in production, so
   * ticks do not wait behind API requests for a connection; the shared pool by default).
   */
  constructor(private readonly ctx: DispatchContext, private readonly directory: AgentDirectory, private readonly sql: Sql = ctx.sql) {
    this.log = ctx.logger.child({ component: 'scheduler' });
  }

  async start(): Promise<void> {
    this.stopped = false;
    if (!this.directory.hasAgentSource) {
      this.log.warn('no agents: the roster (agents:) is empty and no PromptForge/Warren/Alexandria URL is set; tasks wait, only deadlines are swept');
    }
    this.directory.start();
    await this.listen();
    this.ctx.signals.off('assign-needed', this.onAssignNeeded).on('assign-needed', this.onAssignNeeded);
    this.ctx.signals.off('agent-state', this.onAgentState).on('agent-state', this.onAgentState);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    // Shutdown waits for a tick in flight, but not forever: with the database unreachable a tick
    // (or the UNLISTEN) can wait on connection attempts, and nothing it left undone is lost.
    await waitAtMost(this.stopLoop(), STOP_WAIT_MS);
    this.ctx.signals.off('agent-state', this.onAgentState);
    this.directory.stop();
  }

  /**
   * Stop ticking on timers, notifications and signals, keeping the directory's background
   * refresh: runOnce() still works (tests drive ticks by hand this way).
   */
  async stopLoop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.ctx.signals.off('assign-needed', this.onAssignNeeded);
    await this.unlisten?.().catch(() => {});
    this.unlisten = undefined;
    await this.running;
  }

  /**
   * LISTEN dispatch_assign (postgres.js re-listens by itself after a reconnect). If the database
   * is unreachable at start, the service still starts; every tick tries again.
   */
  private async listen(): Promise<void> {
    if (this.unlisten || this.stopped) return;
    try {
      const sub = await this.ctx.sql.listen('dispatch_assign', (payload) => this.poke(payload === 'freed' ? 'freed' : undefined));
      this.unlisten = () => sub.unlisten();
    } catch (err) {
      if (this.listenWarned) return;
      this.listenWarned = true;
      this.log.warn({ err: (err as Error).message }, 'cannot LISTEN dispatch_assign yet; relying on the tick until the database is back');
    }
  }

  /**
   * Ask for a tick now. Coalesced, never delayed: pokes within one turn of the event loop fold
   * into one tick started on setImmediate (no sleep first); pokes while a tick runs fold into
   * exactly one more tick right after it. A 'freed' poke (a slot freed, no task became pending)
   * starts a tick only while tasks wait (`backlog`); during a tick it always folds into one more,
   * since that tick may have counted the slot as taken.
   */
  poke(reason?: 'freed'): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (reason === 'freed' && !this.backlog) return;
    if (!this.immediate) this.immediate = setImmediate(() => this.loop(false));
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.stopped) this.timer = setTimeout(() => this.loop(true), ms);
  }

  /** `timer`: started by the safety-net timer (always sweeps) rather than a poke. */
  private loop(timer: boolean): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    if (this.running || this.stopped) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      let first = true;
      do {
        this.again = false;
        try {
          await this.listen();
          const sweep = (first && timer) || performance.now() - this.lastSweepAt >= SWEEP_MIN_GAP_MS;
          first = false;
          const r = await this.runOnce({ sweep });
          // A full tick that assigned something may leave more to do: go again at once.
          if (r.considered >= this.ctx.config.assignment.batch_size * MAX_PAGES_PER_TICK && r.assigned.length > 0) this.again = true;
        } catch (err) {
          this.log.error({ err }, 'scheduler tick failed');
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
      this.schedule(this.ctx.config.assignment.tick_interval_ms);
    });
  }

  /**
   * One tick: sweep deadlines (unless `sweep: false`), then read → plan → write assignments for a
   * bounded batch.
   */
  async runOnce(opts: { sweep?: boolean } = {}): Promise<TickResult> {
    const endTimer = this.ctx.metrics.tickDuration.startTimer();
    try {
      const result: TickResult = {
        considered: 0, assigned: [], unmatched: [], refused: 0, requeuedAfterWakeTimeout: 0, retriedAfterTimeout: 0, timedOut: 0,
        phases: { sweep: 0, read: 0, snapshot: 0, plan: 0, write: 0, unmatched: 0 },
      };
      if (opts.sweep ?? true) {
        const t0 = performance.now();
        this.lastSweepAt = t0;
        await this.sweep(result);
        result.phases.sweep = since(t0);
      }
      await this.assign(result);
      return result;
    } finally {
      endTimer();
    }
  }

  private async sweep(result: TickResult): Promise<void> {
    const { clock, random, metrics, config } = this.ctx;
    const sql = this.sql;
    const now = clock.now();
    const policy = { baseMs: config.assignment.retry_backoff_base_ms, maxMs: config.assignment.retry_backoff_max_ms };
    // One cheap probe first: the sweeps' transactions only run when something is due.
    const due = await deadlinesDue(sql, now);
    const expired = !due.attempt ? [] : await sweepAttemptTimeouts(sql, now, SWEEP_LIMIT, (t) => {
      const d = decideRetry(t, true, policy, random);
      return d.retry ? { retry: true, retryCount: d.retryCount, notBefore: new Date(now.getTime() + d.delayMs) } : { retry: false };
    });
    for (const e of expired) {
      recordTransition(metrics, e.row, e.retried ? 'timeout' : undefined);
      if (e.retried) result.retriedAfterTimeout++;
      else result.timedOut++;
    }
    if (expired.length) this.log.info({ retried: result.retriedAfterTimeout, timed_out: result.timedOut }, 'attempts timed out');
    const lapsed = due.wake ? await sweepWakeTimeouts(sql, clock.now(), SWEEP_LIMIT) : [];
    for (const row of lapsed) recordTransition(metrics, row);
    result.requeuedAfterWakeTimeout = lapsed.length;
    if (lapsed.length) this.log.info({ tasks: lapsed.length }, 'assigned tasks not acknowledged in time went back to pending');
  }

  private async assign(result: TickResult): Promise<void> {
    const { clock, metrics, config } = this.ctx;
    const sql = this.sql;
    const a = config.assignment;
    const now = clock.now();
    if (!this.directory.hasAgentSource) return;
    const ph = result.phases;
    let t0 = performance.now();
    // Two independent reads, concurrently (each on its own pooled connection).
    const [{ counts, rows: agentRows }, firstPage] = await Promise.all([agentRowsAndCounts(sql), duePending(sql, now, a.batch_size)]);

    let page = firstPage;
    ph.read += since(t0);
    this.backlog = true;
    if (page.length === 0) {
      this.backlog = false;
      // Nothing to plan: keep agent states (admin view, health) current without waiting.
      this.directory.refreshAvailability();
      return;
    }
    // Ownership is only looked up for owners present in the first page (later pages reuse the cache).
    const owners = a.owner_filter_enabled ? page.map((t) => t.owner).filter((o): o is string => o !== null) : [];
    t0 = performance.now();
    const dir = await this.directory.snapshot(owners);
    ph.snapshot += since(t0);
    const rows = new Map(agentRows.map((r) => [r.id, r]));
    const agents: AgentView[] = dir.agents.map((d) => ({
      id: d.id,
      capabilities: d.capabilities,
      state: d.state,
      active: counts.get(d.id) ?? 0,
      drained: rows.get(d.id)?.drained ?? false,
      lastAssignedAt: rows.get(d.id)?.last_assigned_at?.getTime() ?? null,
    }));
    const plan = (tasks: PendingRef[]) => planAssignments({
      tasks: tasks.map(planTask), agents, maxConcurrent: a.max_concurrent_per_agent, ownerFilter: a.owner_filter_enabled,
      ownership: dir.ownership, capabilitiesKnown: dir.capabilitiesKnown, availabilityKnown: dir.availabilityKnown, now: now.getTime(),
    });
    let busy = false;

    for (let p = 0; p < MAX_PAGES_PER_TICK && page.length > 0; p++) {
      result.considered += page.length;
      t0 = performance.now();
      const decisions = plan(page);
      ph.plan += since(t0);
      const unmatched: { task: PendingRef; reason: string }[] = [];
      const byId = new Map(page.map((t) => [t.id, t]));
      const batch: BatchItem[] = [];
      for (const d of decisions) {
        if (d.kind === 'unmatched') {
          const task = byId.get(d.taskId)!;
          if (task.unmatched_reason !== d.reason) unmatched.push({ task, reason: d.reason });
          continue;
        }
        batch.push({ task: byId.get(d.taskId)!, agent: d.agent, score: d.score, woke: d.wake });
      }
      // All of the page's assignments in one transaction (agent rows locked, limit re-checked),
      // and, concurrently on another connection, the unmatched bookkeeping of the page's other
      // tasks (disjoint rows: the two transactions never touch the same task).
      t0 = performance.now();
      const unmatchedP = markUnmatched(sql, unmatched, clock.now());
      unmatchedP.catch(() => {}); // awaited below; never an unhandled rejection meanwhile
      const outcomes = await assignBatch(sql, batch, {
        now: clock.now(), maxConcurrent: a.max_concurrent_per_agent, wakeTimeoutMs: a.wake_timeout_ms,
      });
      ph.write += since(t0);
      const views = new Map(agents.map((v) => [v.id, v]));
      const woke = new Map(batch.map((b) => [b.task.id, b.woke]));
      for (const r of outcomes) {
        const view = views.get(r.agent)!;
        if (!r.ok) {
          result.refused++;
          if (r.reason === 'drained') view.drained = true;
          if (r.reason === 'at_limit') view.active = a.max_concurrent_per_agent;
          continue;
        }
        const wake = woke.get(r.taskId) ?? false;
        view.active++;
        view.lastAssignedAt = r.row.assigned_at?.getTime() ?? now.getTime();
        if (wake) {
          this.directory.wake(r.agent);
          view.state = 'starting';
        }
        recordTransition(metrics, r.row);
        result.assigned.push({ taskId: r.taskId, agent: r.agent, woke: wake });
      }
      if (decisions.some((d) => d.kind === 'unmatched' && d.reason === 'no_capable_agent')) this.directory.capabilitiesMayBeStale();
      t0 = performance.now();
      for (const row of await unmatchedP) {
        result.unmatched.push({ taskId: row.id, reason: row.unmatched_reason ?? '' });
      }
      ph.unmatched += since(t0);
      // Read on only while someone can still take work.
      busy = !agents.some((v) => !v.drained && availabilityOf(v, a.max_concurrent_per_agent).multiplier > 0);
      if (busy) break;
      if (page.length < a.batch_size) {
        this.resumeAfter = undefined; // reached the end of the queue: next time start at the top
        break;
      }
      let cursor = cursorOf(page[page.length - 1]!);
      // Pages after the first continue where the previous tick stopped, so tasks that no agent can
      // take (at the head of the queue) cannot starve the ones behind them.
      if (p === 0 && this.resumeAfter && isAfter(this.resumeAfter, cursor)) cursor = this.resumeAfter;
      if (p + 1 >= MAX_PAGES_PER_TICK) {
        this.resumeAfter = cursor;
        break;
      }
      t0 = performance.now();
      page = await duePending(sql, now, a.batch_size, cursor);
      ph.read += since(t0);
      if (page.length === 0 && this.resumeAfter) this.resumeAfter = undefined;
    }
    if (busy && page.length >= a.batch_size) {
      t0 = performance.now();
      await this.markBeyond(page[page.length - 1]!, now, plan, result);
      ph.unmatched += since(t0);
    }
    // Everything read was assigned and the queue's end was reached: nothing waits on a free slot.
    this.backlog = result.assigned.length < result.considered || this.resumeAfter !== undefined || page.length >= a.batch_size;
    if (result.assigned.length) {
      for (const x of result.assigned) counts.set(x.agent, (counts.get(x.agent) ?? 0) + 1);
      this.log.debug({ assigned: result.assigned.length }, 'tasks assigned');
    }
  }

  /**
   * Every agent is busy and more tasks wait behind the page just planned: read ONE more page, from
   * where the previous tick's marking stopped, only to announce why those tasks wait (`unmatched`
   * where the reason changed). So the whole queue gets its reason over successive ticks — one page
   * per tick, no assignment — instead of only the head that assignment reads; once every waiting
   * task carries its reason, a marking page is a read that writes nothing.
   */
  private async markBeyond(last: PendingRef, now: Date, plan: (tasks: PendingRef[]) => ReturnType<typeof planAssignments>, result: TickResult): Promise<void> {
    const size = this.ctx.config.assignment.batch_size;
    let cursor = cursorOf(last);
    if (this.markAfter && isAfter(this.markAfter, cursor)) cursor = this.markAfter;
    const page = await duePending(this.sql, now, size, cursor);
    this.markAfter = page.length < size ? undefined : cursorOf(page[page.length - 1]!);
    const byId = new Map(page.map((t) => [t.id, t]));
    const changed: { task: PendingRef; reason: string }[] = [];
    for (const d of plan(page)) {
      const task = byId.get(d.taskId)!;
      if (d.kind === 'unmatched' && task.unmatched_reason !== d.reason) changed.push({ task, reason: d.reason });
    }
    for (const row of await markUnmatched(this.sql, changed, this.ctx.clock.now())) {
      result.unmatched.push({ taskId: row.id, reason: row.unmatched_reason ?? '' });
    }
  }
}
