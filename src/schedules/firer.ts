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

export class ScheduleFirer implements Component {
  readonly name = 'schedules';
  readonly loop: Loop<FirerRun>;
  private readonly log: Logger;

  constructor(
    private readonly ctx: DispatchContext,
    private readonly sql: Sql = ctx.sql,
  ) {
    this.log = ctx.logger.child({ component: 'schedules' });
    const cfg = ctx.config.schedules;
    this.loop = new Loop<FirerRun>({
      name: 'schedules',
      log: this.log,
      everyMs: cfg.max_sleep_ms,
      runAtStart: true,
      runOnce: () => this.runOnce(),
      again: (r) => r.full,
      delayAfter: (r) => (r.nextAt === null ? cfg.max_sleep_ms : Math.min(cfg.max_sleep_ms, Math.max(0, r.nextAt.getTime() - this.ctx.clock.now().getTime()))),
      listen: [{ sql: ctx.sql, channel: SCHEDULES_CHANNEL }],
      onError: (err) => this.log.error({ err }, 'firing schedules failed'),
    });
  }

  async start(): Promise<void> {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Stop waking on timers and notifications; runOnce() still works (tests drive it by hand). */
  async stopLoop(): Promise<void> {
    await this.loop.stop();
  }

  /** Fire one batch of what is due now, then read the earliest timer. */
  async runOnce(): Promise<FirerRun> {
    const r = await fireDue({ ...this.ctx, sql: this.ctx.sql }, this.sql, this.ctx.clock.now(), this.ctx.config.schedules.batch_size);
    if (r.fired || r.skipped) this.log.debug({ fired: r.fired, skipped: r.skipped }, 'schedules fired');
    return { ...r, nextAt: await earliestNextRun(this.sql) };
  }
}
