// Retention (docs/retention.md): a long-running Dispatch keeps its database bounded. On every
// replica, every retention.sweep_interval_ms, in batches of BATCH rows per statement (each ordered
// by an index, rows in use skipped): finished tasks older than retention.finished_task_ms with
// their events, deliveries, idempotency keys and edges; finished runs left without tasks; schedule
// history beyond retention.schedule_runs_kept. Published events of live tasks older than
// retention.event_ms are the outbox relay's retention (events/relay.ts cleanup). Two replicas at
// once only split the work.
import type { Logger } from 'pino';
import type { Component, DispatchContext } from '../context.js';
import { Loop } from '../loop.js';
import { purgeFinishedRuns, purgeFinishedTasks, pruneScheduleRuns } from '../store/retention.js';

/** Rows per statement: small enough that no statement holds many locks or runs long. */
export const BATCH = 500;
/** Statements per sweep and kind at most (the rest waits for the next sweep). */
const MAX_ROUNDS = 200;

export interface RetentionResult {
  tasks: number;
  events: number;
  deliveries: number;
  idempotency_keys: number;
  runs: number;
  schedule_runs: number;
}

export interface Retention extends Component {
  runOnce(): Promise<RetentionResult>;
  readonly loop: Loop<RetentionResult>;
}

export function createRetention(ctx: Pick<DispatchContext, 'sql' | 'config' | 'clock' | 'logger' | 'metrics'>, opts: { batch?: number } = {}): Retention {
  const batch = opts.batch ?? BATCH;
  const r = ctx.config.retention;
  const log: Logger = ctx.logger.child({ component: 'retention' });

  async function runOnce(): Promise<RetentionResult> {
    const out: RetentionResult = { tasks: 0, events: 0, deliveries: 0, idempotency_keys: 0, runs: 0, schedule_runs: 0 };
    if (r.finished_task_ms > 0) {
      const cutoff = new Date(ctx.clock.now().getTime() - r.finished_task_ms);
      for (let i = 0; i < MAX_ROUNDS && !loop.stopping; i++) {
        const p = await purgeFinishedTasks(ctx.sql, cutoff, batch);
        out.tasks += p.tasks;
        out.events += p.events;
        out.deliveries += p.deliveries;
        out.idempotency_keys += p.idempotency_keys;
        if (p.tasks < batch) break;
      }
      for (let i = 0; i < MAX_ROUNDS && !loop.stopping; i++) {
        const n = await purgeFinishedRuns(ctx.sql, cutoff, batch);
        out.runs += n;
        if (n < batch) break;
      }
    }
    for (let i = 0; i < MAX_ROUNDS && !loop.stopping; i++) {
      const n = await pruneScheduleRuns(ctx.sql, r.schedule_runs_kept, batch);
      out.schedule_runs += n;
      if (n < batch) break;
    }
    for (const [kind, n] of Object.entries(out)) if (n > 0) ctx.metrics.retentionDeleted.inc({ kind }, n);
    if (out.tasks || out.runs || out.schedule_runs) log.info(out, 'retention purged finished work');
    return out;
  }

  // First pass one interval after start, not during start-up; a failed pass waits for the next.
  const loop = new Loop<RetentionResult>({
    name: 'retention',
    log,
    everyMs: r.sweep_interval_ms,
    runOnce: () => runOnce(),
    onError: (err) => log.warn({ err: (err as Error).message }, 'retention pass failed; will retry'),
  });

  return {
    name: 'retention',
    loop,
    runOnce,
    start: async () => loop.start(),
    stop: () => loop.stop(),
  };
}
