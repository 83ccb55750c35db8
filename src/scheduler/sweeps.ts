// The scheduler's deadline sweeps: attempt timeouts (retry with backoff or timed_out) and
// ack/wake timeouts (back to pending, no retry spent). One cheap read-only probe first, so a tick
// with nothing expired costs one round trip.
import type { Logger } from 'pino';
import type { DispatchContext } from '../context.js';
import type { Sql } from '../store/db.js';
import { decideAttemptTimeout, decideRequeue } from '../core/decisions.js';
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
  const expired = !due.attempt ? [] : await sweepAttemptTimeouts(sql, now, SWEEP_LIMIT, (row) => decideAttemptTimeout(row, policy, random, now));
  for (const e of expired) {
    recordTransition(metrics, e.next, e.retried ? 'timeout' : undefined);
    if (e.retried) result.retriedAfterTimeout++;
    else result.timedOut++;
  }
  if (expired.length) log.info({ retried: result.retriedAfterTimeout, timed_out: result.timedOut }, 'attempts timed out');
  const later = clock.now();
  const lapsed = due.wake ? await sweepWakeTimeouts(sql, later, SWEEP_LIMIT, (row) => decideRequeue(row, 'wake_timeout', later)) : [];
  for (const c of lapsed) recordTransition(metrics, c.next);
  result.requeuedAfterWakeTimeout = lapsed.length;
  if (lapsed.length) log.info({ tasks: lapsed.length }, 'assigned tasks not acknowledged in time went back to pending');
}
