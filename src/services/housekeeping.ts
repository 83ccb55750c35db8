// Housekeeping: forget idempotency keys once their 24 h window is over, so the table holds about
// one day of keys instead of growing forever. Runs on every replica (deletes are idempotent and
// batched, so two replicas at once only split the work), once a minute — not during start-up.
import type { Logger } from 'pino';
import type { Component, DispatchContext } from '../context.js';
import { pruneKeys, RUN_KEYS, TASK_KEYS, TRIGGER_KEYS } from '../store/idempotency.js';
import { pruneDeliveries } from '../store/hooks.js';
import { DELIVERY_RETENTION_MS } from '../core/hooks.js';
import { Loop } from '../loop.js';

/** How long a create's Idempotency-Key is remembered (openapi.yaml createTask, startRun: 24 h). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface Housekeeping extends Component {
  /** One pass; returns the keys deleted. */
  runOnce(): Promise<number>;
  /** The loop shell around runOnce() (tests await its signals). */
  readonly loop: Loop<number>;
}

export function createHousekeeping(ctx: DispatchContext, opts: { everyMs?: number; batch?: number } = {}): Housekeeping {
  const everyMs = opts.everyMs ?? 60_000;
  const batch = opts.batch ?? 1000;
  const log: Logger = ctx.logger.child({ component: 'housekeeping' });
  async function runOnce(): Promise<number> {
    const before = new Date(ctx.clock.now().getTime() - IDEMPOTENCY_WINDOW_MS);
    let total = 0;
    for (;;) {
      const n =
        (await pruneKeys(ctx.sql, TASK_KEYS, before, batch)) +
        (await pruneKeys(ctx.sql, RUN_KEYS, before, batch)) +
        (await pruneKeys(ctx.sql, TRIGGER_KEYS, before, batch)) +
        // Webhook delivery ids (services/hooks.ts) are kept 7 days, not 24 h.
        (await pruneDeliveries(ctx.sql, new Date(ctx.clock.now().getTime() - DELIVERY_RETENTION_MS), batch));
      total += n;
      if (n < batch || loop.stopping) break;
    }
    if (total > 0) log.info({ deleted: total }, 'forgot idempotency keys past their 24 h window');
    return total;
  }

  // First pass one interval after start, not during start-up; a failed pass waits for the next.
  const loop = new Loop<number>({
    name: 'housekeeping',
    log,
    everyMs,
    runOnce: () => runOnce(),
    onError: (err) => log.warn({ err: (err as Error).message }, 'pruning idempotency keys failed; will retry'),
  });

  return {
    name: 'housekeeping',
    loop,
    runOnce,
    async start() {
      loop.start();
    },
    async stop() {
      // Let a pass in flight finish, but never hang shutdown on an unreachable database: the
      // deletes are idempotent, the next start simply does them again.
      await loop.stop();
    },
  };
}
