// The schedule firer: fires due occurrences (services/schedules.ts fireDue) on every replica.
//
// Timers are data: each schedule's next occurrence is its `next_run_at` column. After each run
// the firer reads `min(next_run_at)` and sleeps until then (at most schedules.max_sleep_ms, the
// safety net); a create or change NOTIFYs `dispatch_schedules`, which wakes every replica at
// once, so a new every-second schedule fires within a second. Due schedules are claimed with
// `for update skip locked` in batches of schedules.batch_size: replicas split the work and never
// fire one occurrence twice; a replica (re)starting applies each schedule's catch_up.
import type { Logger } from 'pino';
import type { Component, DispatchContext } from '../context.js';
import { Loop } from '../loop.js';
import { fireDue, type FiringResult } from '../services/schedules.js';
import type { Sql } from '../store/db.js';
import { earliestNextRun, SCHEDULES_CHANNEL } from '../store/schedules.js';

export interface FirerRun extends FiringResult {
  /** The earliest next_run_at after this run (null: nothing scheduled). */
  nextAt: Date | null;
}

export interface ScheduleFirer extends Component {
  readonly loop: Loop<FirerRun>;
  /** Stop waking on timers and notifications; runOnce() still works (tests drive it by hand). */
  stopLoop(): Promise<void>;
  /** Fire one batch of what is due now, then read the earliest timer. */
  runOnce(): Promise<FirerRun>;
}

/** `sql`: the pool the firings run on (the background pool in production). */
export function createScheduleFirer(ctx: DispatchContext, sql: Sql = ctx.sql): ScheduleFirer {
  const log: Logger = ctx.logger.child({ component: 'schedules' });
  const cfg = ctx.config.schedules;
  async function runOnce(): Promise<FirerRun> {
    const r = await fireDue({ ...ctx, sql: ctx.sql }, sql, ctx.clock.now(), cfg.batch_size);
    if (r.fired || r.skipped) log.debug({ fired: r.fired, skipped: r.skipped }, 'schedules fired');
    return { ...r, nextAt: await earliestNextRun(sql) };
  }
  const loop = new Loop<FirerRun>({
    name: 'schedules',
    log,
    everyMs: cfg.max_sleep_ms,
    runAtStart: true,
    runOnce: () => runOnce(),
    again: (r) => r.full,
    delayAfter: (r) => (r.nextAt === null ? cfg.max_sleep_ms : Math.min(cfg.max_sleep_ms, Math.max(0, r.nextAt.getTime() - ctx.clock.now().getTime()))),
    listen: [{ sql: ctx.sql, channel: SCHEDULES_CHANNEL }],
    onError: (err) => log.error({ err }, 'firing schedules failed'),
  });
  return {
    name: 'schedules',
    loop,
    runOnce,
    start: async () => loop.start(),
    stop: () => loop.stop(),
    stopLoop: () => loop.stop(),
  };
}
