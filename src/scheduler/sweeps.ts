// The scheduler's deadline sweeps: attempt timeouts (retry with backoff or timed_out) and
// ack/wake timeouts (back to pending, no retry spent). One cheap read-only probe first, so a tick
// with nothing expired costs one round trip.
import type { Logger } from 'pino';
import type { DispatchContext } from '../context.js';
import type { Sql } from '../store/db.js';
import { decideRetry } from '../core/retry.js';
import { recordTransition } from '../observability/metrics.js';
import { deadlinesDue, sweepAttemptTimeouts, sweepWakeTimeouts } from '../store/assignments.js';
import type { TickResult } from './tick.js';

/** Deadline rows handled per sweep statement (the rest wait for the next tick). */
export const SWEEP_LIMIT = 1000;

export type SweepDeps = Pick<DispatchContext, 'config' | 'clock' | 'random' | 'metrics'> & { sql: Sql; log: Logger };

export async function sweepDeadlines(deps: SweepDeps, result: TickResult): Promise<void> {
const { clock, random, metrics, config, sql, log } = deps;
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
  if (expired.length) log.info({ retried: result.retriedAfterTimeout, timed_out: result.timedOut }, 'attempts timed out');
  const lapsed = due.wake ? await sweepWakeTimeouts(sql, clock.now(), SWEEP_LIMIT) : [];
  for (const row of lapsed) recordTransition(metrics, row);
  result.requeuedAfterWakeTimeout = lapsed.length;
  if (lapsed.length) log.info({ tasks: lapsed.length }, 'assigned tasks not acknowledged in time went back to pending');
}
