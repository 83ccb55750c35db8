// The scheduler's assignment pages: read due pending tasks a page at a time (keyset), plan them
// against one directory snapshot (core/assignment.ts), write each page's assignments in one call
// (dispatch_assign) and record why the rest wait (unmatched). Holds the cursors that carry over
// between ticks, so tasks no agent can take at the head of the queue never starve those behind.
import type { Logger } from 'pino';
import type { DispatchContext } from '../context.js';
import type { AgentDirectory } from '../agents/directory.js';
import type { Sql } from '../store/db.js';
import { planAssignments, type Decision } from '../core/assignment.js';
import { decideAssignment, decideUnmatched } from '../core/decisions.js';
import { availabilityOf, type AgentView } from '../core/scoring.js';
import { recordTransition } from '../observability/metrics.js';
import { agentRowsAndCounts } from '../store/agents.js';
import { assignBatch, duePending, markUnmatched, type BatchCursor, type BatchItem, type PendingRef } from '../store/assignments.js';
import { unversioned, writeOf } from '../store/tasks.js';
import { committedEvents } from '../store/events.js';
import { since, type TickResult } from './tick.js';
import { agentViews, planPolicy, planTask } from './views.js';
import { FairReader } from './fair.js';
import { servedOrder } from '../core/fairness.js';
import { agentRecords, setTrackRecordSize } from '../store/fairness.js';
import { FlowReader, type FlowView } from './flow.js';

/** Pages of `batch_size` tasks one tick may read while agents still have free slots. */
export const MAX_PAGES_PER_TICK = 4;

/**
 * A lean tick's page (see run()): the free slots as this replica last knew them, plus this many
 * (tasks at the head that no free agent can take, slots freed by other replicas), at most batch_size.
 */
export const LEAN_PAGE_MARGIN = 16;

export interface RunOptions {
  /**
   * A tick started by a poke (a create, a freed slot) rather than the safety-net timer: its page
   * holds about as many tasks as there are free slots, and it announces only what is wrong with a
   * task itself (no capable agent, ownership unknown, …), not `no_available_agent` — every agent
   * busy is the normal state of a backlog being worked off, announced by the timer's full ticks
   * (and their marking pages), so a task that waits less than a tick interval for a slot costs no
   * row write and no event. Default false: a full tick (runOnce() in tests, the timer, the start).
   */
  lean?: boolean;
}

export type AssignerDeps = Pick<DispatchContext, 'config' | 'clock' | 'metrics' | 'signals' | 'slots' | 'versions'> & {
  sql: Sql;
  log: Logger;
  directory: AgentDirectory;
};

/** Where a keyset read continues after `t`. */
const cursorOf = (t: PendingRef): BatchCursor => ({ priority: t.priority, created_at: t.created_at, id: t.id });

/** Whether `a` comes after `b` in assignment order (priority desc, created_at, id). */
function isAfter(a: BatchCursor, b: BatchCursor): boolean {
  if (a.priority !== b.priority) return a.priority < b.priority;
  if (a.created_at.getTime() !== b.created_at.getTime()) return a.created_at > b.created_at;
  return a.id > b.id;
}

export class Assigner {
  /** Where the last full tick stopped reading (see run()). */
  private resumeAfter: BatchCursor | undefined;
  /** Where the next unmatched-marking page starts while every agent is busy (see markBeyond()). */
  private markAfter: BatchCursor | undefined;

  /** Whether the database was told assignment.track_record_size (first tick; again after a failure). */
  private recordSizeSet = false;
  /** The pages of `assignment.fairness: requester` (§16.3). */
  private readonly fair: FairReader;
  /** The flow keys with pending tasks, read each tick (§20). */
  private readonly flowReader: FlowReader;

  constructor(private readonly deps: AssignerDeps) {
    this.fair = new FairReader(deps.sql, () => deps.config.assignment.batch_size);
    this.flowReader = new FlowReader(deps.sql, deps.config);
  }

  /**
   * Assign what can be assigned now. Returns the backlog flag: whether due tasks were left
   * unassigned (or the whole queue was not seen), the only case in which a freed slot is worth a tick.
   */
  async run(result: TickResult, opts: RunOptions = {}): Promise<boolean> {
    const { clock, metrics, config, sql, directory } = this.deps;
    const a = config.assignment;
    const now = clock.now();
    const fair = a.fairness === 'requester';
    const lean = opts.lean === true;
    // Fair pages keep their size: a page is a turn order over requesters, not a slice of the queue.
    const free = lean && !fair ? this.deps.slots.free(now.getTime(), a.max_concurrent_per_agent) : undefined;
    const size = free === undefined ? a.batch_size : Math.min(a.batch_size, free + LEAN_PAGE_MARGIN);
    if (!this.recordSizeSet) {
      // The track-record trigger (migrations/0015) reads the window from the database.
      await setTrackRecordSize(sql, a.track_record_size);
      this.recordSizeSet = true;
    }
    if (!directory.hasAgentSource) return false;
    const ph = result.phases;
    let t0 = performance.now();
    // Two independent reads, concurrently (each on its own pooled connection).
    const weighted = a.track_record_weight > 0;
    // The page depends on the flow keys' standings (held keys are not read): those two in turn.
    const flowAndPage = async () => {
      const flow = await this.flowReader.read(now);
      this.fair.skipKeys(flow.held);
      return { flow, page: fair ? await this.fair.first(now) : await duePending(sql, now, size, undefined, flow.reads) };
    };
    this.deps.slots.readStarted();
    const [{ counts, rows: agentRows }, { flow, page: firstPage }, records] = await Promise.all([
      agentRowsAndCounts(sql),
      flowAndPage(),
      weighted ? agentRecords(sql) : undefined,
    ]);

    let page = firstPage;
    ph.read += since(t0);
    result.flowWakeAt = flow.wakeAt;
    // A held key's tasks wait on a freed slot (or a token): a completion is then worth a tick.
    const holding = flow.held.length > 0;
    if (page.length === 0) {
      // Nothing to plan: keep agent states (admin view, health) current without waiting, and the
      // creates' sync match current with the counts just read.
      directory.refreshAvailability();
      this.deps.slots.refresh(agentViews(directory.cachedSnapshot(), agentRows, counts, records), now.getTime());
      return holding;
    }
    // Ownership is only looked up for owners present in the first page (later pages reuse the cache).
    const owners = a.owner_filter_enabled ? page.map((t) => t.owner).filter((o): o is string => o !== null) : [];
    t0 = performance.now();
    const dir = await directory.snapshot(owners);
    ph.snapshot += since(t0);
    const agents: AgentView[] = agentViews(dir, agentRows, counts, records);
    const plan = (tasks: PendingRef[]) =>
      planAssignments({ tasks: tasks.map(planTask), agents, ...planPolicy(config, dir), now: now.getTime(), flow: flow.standings });
    let busy = false;

    for (let p = 0; p < MAX_PAGES_PER_TICK && page.length > 0; p++) {
      result.considered += page.length;
      t0 = performance.now();
      const decisions = plan(page);
      ph.plan += since(t0);
      const writeNow = clock.now();
      const { batch, unmatched } = this.decide(page, decisions, writeNow, lean);
      // All of the page's assignments in one transaction (agent rows locked, limit re-checked),
      // and, concurrently on another connection, the unmatched bookkeeping of the page's other
      // tasks (disjoint rows: the two transactions never touch the same task).
      t0 = performance.now();
      const unmatchedSink = committedEvents();
      const unmatchedP = markUnmatched(sql, unmatched, writeNow, unmatchedSink);
      unmatchedP.catch(() => {}); // awaited below; never an unhandled rejection meanwhile
      const sink = committedEvents();
      this.countHeld(decisions, result);
      const outcomes = await assignBatch(sql, batch, { now: writeNow, maxConcurrent: a.max_concurrent_per_agent, flowLimit: flow.limitOf }, sink);
      this.deps.signals.emit('events-committed', sink);
      ph.write += since(t0);
      const views = new Map(agents.map((v) => [v.id, v]));
      const woke = new Map(decisions.flatMap((d) => (d.kind === 'assign' ? [[d.taskId, d.wake] as const] : [])));
      const requesterOf = fair ? new Map(page.map((t) => [t.id, t.requester])) : undefined;
      const served: string[] = [];
      const keyOf = new Map(batch.map((b) => [b.next.id, b.next.flow_key]));
      for (const r of outcomes) {
        const view = views.get(r.agent)!;
        const key = keyOf.get(r.taskId) ?? null;
        if (!r.ok) {
          result.refused++;
          if (r.reason === 'drained') view.drained = true;
          if (r.reason === 'at_limit') view.active = a.max_concurrent_per_agent;
          if (r.reason === 'flow_paused' || r.reason === 'flow_rate' || r.reason === 'flow_concurrency') {
            // The database knew better (another replica started the key's tasks): nothing more of it this tick.
            const st = key !== null ? flow.standings.get(key) : undefined;
            if (key !== null)
              flow.standings.set(key, { ...(st ?? { key, limit: flow.limitOf(key), tokens: null, wakeAt: null }), admissible: 0, hold: r.reason });
            metrics.flowDeferred.inc({ limit: (key !== null ? flow.limitOf(key)?.key : undefined) ?? 'none' });
            result.held++;
          }
          continue;
        }
        const st = key !== null ? flow.standings.get(key) : undefined;
        if (st && st.admissible !== Infinity) st.admissible = Math.max(0, st.admissible - 1);
        const wake = woke.get(r.taskId) ?? false;
        this.deps.versions.put(r.row, r.version);
        view.active++;
        view.lastAssignedAt = r.row.assigned_at?.getTime() ?? now.getTime();
        if (wake) {
          directory.wake(r.agent);
          view.state = 'starting';
        }
        recordTransition(metrics, r.row);
        result.assigned.push({ taskId: r.taskId, agent: r.agent, woke: wake });
        if (requesterOf) served.push(requesterOf.get(r.taskId)!);
      }
      // Fair share: the requesters just served go to the back of their band's turn order.
      if (served.length) {
        t0 = performance.now();
        // A hint about order, never a guard: a failed stamp costs one out-of-turn assignment, not the tick.
        await this.fair
          .served(servedOrder(served))
          .catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message }, 'stamping requester turns failed'));
        ph.write += since(t0);
      }
      if (decisions.some((d) => d.kind === 'unmatched' && d.reason === 'no_capable_agent')) directory.capabilitiesMayBeStale();
      t0 = performance.now();
      for (const row of await unmatchedP) {
        result.unmatched.push({ taskId: row.id, reason: row.unmatched_reason ?? '' });
      }
      this.deps.signals.emit('events-committed', unmatchedSink);
      ph.unmatched += since(t0);
      // Read on only while someone can still take work.
      busy = !agents.some((v) => !v.drained && availabilityOf(v, a.max_concurrent_per_agent).multiplier > 0);
      if (busy) break;
      if (fair) {
        if (this.fair.atEnd) {
          this.fair.forgetPosition();
          break;
        }
        if (p + 1 >= MAX_PAGES_PER_TICK) {
          this.fair.keepPosition();
          break;
        }
        t0 = performance.now();
        page = await this.fair.next(now, p === 0);
        ph.read += since(t0);
        continue;
      }
      if (page.length < size) {
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
      page = await duePending(sql, now, size, cursor, flow.reads);
      ph.read += since(t0);
      if (page.length === 0 && this.resumeAfter) this.resumeAfter = undefined;
    }
    if (!lean && busy && (fair ? !this.fair.atEnd : page.length >= size)) {
      t0 = performance.now();
      await this.markBeyond(page[page.length - 1]!, now, plan, flow, result);
      ph.unmatched += since(t0);
    }
    // The views as they stand after this tick's assignments: what creates sync-match against until the next tick.
    this.deps.slots.refresh(agents, now.getTime());
    // Everything read was assigned and the queue's end was reached: nothing waits on a free slot.
    const backlog =
      holding ||
      (fair
        ? result.assigned.length < result.considered || !this.fair.atEnd
        : result.assigned.length < result.considered || this.resumeAfter !== undefined || page.length >= size);
    if (result.assigned.length) {
      for (const x of result.assigned) counts.set(x.agent, (counts.get(x.agent) ?? 0) + 1);
      this.deps.log.debug({ assigned: result.assigned.length }, 'tasks assigned');
    }
    return backlog;
  }

  /** Count the page's starts held back by a flow key (dispatch_flow_deferred_total{limit}). */
  private countHeld(decisions: Decision[], result: TickResult): void {
    for (const d of decisions) {
      if (d.kind !== 'held') continue;
      result.held++;
      this.deps.metrics.flowDeferred.inc({ limit: d.limitKey ?? 'none' });
    }
  }

  /**
   * A page's plan as decided rows: assignments, and the unmatched reasons that changed (on a lean
   * tick, not `no_available_agent`: see RunOptions).
   */
  private decide(page: PendingRef[], decisions: Decision[], now: Date, lean = false): { batch: BatchItem[]; unmatched: BatchItem[] } {
    const byId = new Map(page.map((t) => [t.id, t]));
    const batch: BatchItem[] = [];
    const unmatched: BatchItem[] = [];
    for (const d of decisions) {
      if (d.kind === 'held') continue; // stays pending as it is: no write, no event
      const read = byId.get(d.taskId)!;
      const row = unversioned(read);
      if (d.kind === 'unmatched') {
        if (read.unmatched_reason !== d.reason && !(lean && d.reason === 'no_available_agent'))
          unmatched.push(writeOf(decideUnmatched(row, d.reason), read.version));
        continue;
      }
      const c = decideAssignment(row, { agent: d.agent, score: d.score, woke: d.wake }, now, this.deps.config.assignment.wake_timeout_ms);
      batch.push(writeOf(c, read.version));
    }
    return { batch, unmatched };
  }

  /**
   * Every agent is busy and more tasks wait behind the page just planned: read ONE more page, from
   * where the previous tick's marking stopped, only to announce why those tasks wait (`unmatched`
   * where the reason changed). So the whole queue gets its reason over successive ticks — one page
   * per tick, no assignment — instead of only the head that assignment reads; once every waiting
   * task carries its reason, a marking page is a read that writes nothing.
   */
  private async markBeyond(
    last: PendingRef,
    now: Date,
    plan: (tasks: PendingRef[]) => ReturnType<typeof planAssignments>,
    flow: FlowView,
    result: TickResult,
  ): Promise<void> {
    const size = this.deps.config.assignment.batch_size;
    // Fair pages are not a position in fifo order: marking walks the queue from the top instead.
    let cursor: BatchCursor | undefined = this.deps.config.assignment.fairness === 'requester' ? undefined : cursorOf(last);
    if (this.markAfter && (!cursor || isAfter(this.markAfter, cursor))) cursor = this.markAfter;
    const page = await duePending(this.deps.sql, now, size, cursor, flow.reads);
    this.markAfter = page.length < size ? undefined : cursorOf(page[page.length - 1]!);
    const now2 = this.deps.clock.now();
    const { unmatched: changed } = this.decide(page, plan(page), now2);
    const sink = committedEvents();
    for (const row of await markUnmatched(this.deps.sql, changed, now2, sink)) {
      result.unmatched.push({ taskId: row.id, reason: row.unmatched_reason ?? '' });
    }
    this.deps.signals.emit('events-committed', sink);
  }
}
