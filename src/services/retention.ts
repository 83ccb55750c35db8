// Retention (docs/retention.md): a long-running Dispatch keeps its database bounded. On every
// replica, every retention.sweep_interval_ms, in batches of BATCH rows per statement (each ordered
// by an index, rows in use skipped), in slices of SLICE_MS with rests between them so a backlog
// never takes more than retention.busy_fraction of one connection: finished tasks older than retention.finished_task_ms with
// their events, deliveries, idempotency keys and edges; finished runs left without tasks; schedule
// history beyond retention.schedule_runs_kept; track-record outcomes older than their agent's
// window (assignment.track_record_size; migration 0066). Published events of live tasks older than
// retention.event_ms are the outbox relay's retention (events/relay.ts cleanup). Two replicas at
// once only split the work.
import type { Logger } from 'pino';
import type { Component, DispatchContext } from '../context.js';
import { Loop } from '../loop.js';
import { purgeFinishedRuns, purgeFinishedTasks, pruneScheduleRuns, trimTrackRecord } from '../store/retention.js';

/** Rows per statement: small enough that no statement holds many locks or runs long. */
export const BATCH = 500;
/** The loop's slice of work: statements until this much wall time, then a rest (busy_fraction). */
export const SLICE_MS = 250;

/** The rest after `busyMs` of work that keeps the busy share at `fraction`: busy / (busy + rest) = fraction. */
export function restMs(busyMs: number, fraction: number): number {
  return Math.ceil((busyMs * (1 - fraction)) / fraction);
}

export interface RetentionResult {
  tasks: number;
  events: number;
  deliveries: number;
  idempotency_keys: number;
  runs: number;
  schedule_runs: number;
  /** Track-record outcomes older than their agent's window (migration 0066). */
  track_record: number;
}

/** One slice: what it deleted, whether work is left, and the wall time its statements took. */
export interface RetentionSlice extends RetentionResult {
  more: boolean;
  busyMs: number;
}

export interface Retention extends Component {
  /** A whole pass: every batch until none is full (tests, by hand). */
  runOnce(): Promise<RetentionResult>;
  /** Batches until `budgetMs` of statements or nothing left (the loop's unit of work). */
  runSlice(budgetMs: number): Promise<RetentionSlice>;
  readonly loop: Loop<RetentionSlice>;
}

export function createRetention(ctx: Pick<DispatchContext, 'sql' | 'config' | 'clock' | 'logger' | 'metrics'>, opts: { batch?: number } = {}): Retention {
  const batch = opts.batch ?? BATCH;
  const r = ctx.config.retention;
  const log: Logger = ctx.logger.child({ component: 'retention' });

  // Each kind in turn, a statement at a time, until its batch comes back short (then the next
  // kind) or the budget is spent (then `more`: the next slice starts again from the first kind).
  async function runSlice(budgetMs: number): Promise<RetentionSlice> {
    const out: RetentionSlice = { tasks: 0, events: 0, deliveries: 0, idempotency_keys: 0, runs: 0, schedule_runs: 0, track_record: 0, more: false, busyMs: 0 };
    const t0 = performance.now();
    const spent = () => performance.now() - t0 >= budgetMs;
    const cutoff = new Date(ctx.clock.now().getTime() - r.finished_task_ms);
    const kinds: Array<() => Promise<number>> = [];
    if (r.finished_task_ms > 0) {
      kinds.push(async () => {
        const p = await purgeFinishedTasks(ctx.sql, cutoff, batch);
        out.tasks += p.tasks;
        out.events += p.events;
        out.deliveries += p.deliveries;
        out.idempotency_keys += p.idempotency_keys;
        return p.tasks;
      });
      kinds.push(async () => {
        const n = await purgeFinishedRuns(ctx.sql, cutoff, batch);
        out.runs += n;
        return n;
      });
    }
    kinds.push(async () => {
      const n = await pruneScheduleRuns(ctx.sql, r.schedule_runs_kept, batch);
      out.schedule_runs += n;
      return n;
    });
    kinds.push(async () => {
      const n = await trimTrackRecord(ctx.sql, batch);
      out.track_record += n;
      return n;
    });
    try {
      for (const kind of kinds) {
        for (;;) {
          if (loop.stopping) return out;
          const full = (await kind()) >= batch;
          if (!full) break;
          if (spent()) {
            out.more = true;
            return out;
          }
        }
      }
      return out;
    } finally {
      out.busyMs = performance.now() - t0;
      const { more: _more, busyMs: _busy, ...counts } = out;
      for (const [kind, n] of Object.entries(counts)) if (n > 0) ctx.metrics.retentionDeleted.inc({ kind }, n);
      if (out.tasks || out.runs || out.schedule_runs || out.track_record) log.debug(counts, 'retention purged finished work');
    }
  }

  async function runOnce(): Promise<RetentionResult> {
    const { more: _more, busyMs: _busy, ...counts } = await runSlice(Infinity);
    return counts;
  }

  // First slice one interval after start, not during start-up. While a backlog lasts, slice after
  // slice with a rest of busyMs × (1 − f) / f between them, so the purge keeps one connection
  // busy at most the fraction f of the time (the rest of the database is the traffic's); then
  // the next sweep. A failed slice waits for the next sweep.
  const loop = new Loop<RetentionSlice>({
    name: 'retention',
    log,
    everyMs: r.sweep_interval_ms,
    runOnce: () => runSlice(SLICE_MS),
    delayAfter: (s) => (s.more ? restMs(s.busyMs, r.busy_fraction) : r.sweep_interval_ms),
    onError: (err) => log.warn({ err: (err as Error).message }, 'retention pass failed; will retry'),
  });

  return {
    name: 'retention',
    loop,
    runOnce,
    runSlice,
    start: async () => loop.start(),
    stop: () => loop.stop(),
  };
}
