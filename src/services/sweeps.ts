// The deadline sweeps the scheduler runs each tick (injected by app.ts: assignment/ does not import
// services/): attempt and heartbeat timeouts (one sweep over the earlier of
// the two deadlines: retry with backoff or timed_out), ack/wake
// timeouts (back to pending, no retry spent) and start deadlines (never assigned by start_by:
// timed_out). One cheap read-only probe first, so a tick
// with nothing expired costs one round trip.
import type { Logger } from 'pino';
import type { DispatchContext } from '../context.js';
import type { Sql, Tx } from '../store/db.js';
import type { TaskRow } from '../core/task.js';
import { decideAttemptTimeout, decideInputTimeout, decideRequeue, decideStartDeadline, decideWindowEnd, expiryOf, type Change } from '../core/decisions.js';
import { recordTransition } from '../observability/metrics.js';
import { deadlinesDue, extendHeartbeatDeadlines, lockExpiredAttempts, lockInputExpired, lockLapsedWakes, lockUnstartedDue } from '../store/assignments.js';
import { inTransaction } from '../store/db.js';
import { applyChanges } from '../store/tasks.js';
import { settle } from './dependencies.js';
import { wakesOf } from '../core/wakes.js';

/** What one sweep ended or moved (the scheduler adds them to its tick's result). */
export interface SweepCounts {
  requeuedAfterWakeTimeout: number;
  retriedAfterTimeout: number;
  timedOut: number;
  notStarted: number;
  inputTimedOut: number;
  windowsEnded: number;
}

/** Deadline rows handled per sweep statement (the rest wait for the next tick). */
export const SWEEP_LIMIT = 1000;

export type SweepDeps = Pick<DispatchContext, 'config' | 'clock' | 'random' | 'metrics' | 'signals'> &
  Partial<Pick<DispatchContext, 'heartbeats'>> & { sql: Sql; log: Logger };

export async function sweepDeadlines(deps: SweepDeps): Promise<SweepCounts> {
  const result: SweepCounts = { requeuedAfterWakeTimeout: 0, retriedAfterTimeout: 0, timedOut: 0, notStarted: 0, inputTimedOut: 0, windowsEnded: 0 };
  const { clock, random, metrics, config, sql, log, signals } = deps;
  /** After a commit: what the sweep ended may end waits, here and on the other replicas (events/wakes.ts). */
  const announce = (changes: readonly Change[]) => {
    if (changes.length) signals.emit('tasks-changed', wakesOf(changes));
  };
  const now = clock.now();
  const policy = { baseMs: config.assignment.retry_backoff_base_ms, maxMs: config.assignment.retry_backoff_max_ms };
  // One cheap probe first: the sweeps' transactions only run when something is due.
  const due = await deadlinesDue(sql, now);
  // Timeouts end tasks: their dependents and runs are settled in the same transaction.
  const { expired, others } = !due.attempt
    ? { expired: [], others: [] }
    : await inTransaction(sql, async (tx) => {
        const locked = (await lockExpiredAttempts(tx, now, SWEEP_LIMIT)).map(({ row, beatDeadline }) => ({ row, beatDeadline, reason: expiryOf(row, now) }));
        // A beat recorded since (task_beats, migrations/0070) keeps its task alive: its deadline
        // moves to the beat's, where the index sees it.
        const beaten = new Set(locked.filter(({ reason, beatDeadline }) => reason === 'heartbeat' && beatDeadline !== null && beatDeadline > now));
        await extendHeartbeatDeadlines(
          tx,
          [...beaten].map(({ row, beatDeadline }) => ({ id: row.id, deadline: beatDeadline! })),
        );
        const changes = locked
          .filter((l) => !beaten.has(l))
          // A heartbeat buffered on this replica, not yet flushed, keeps its task alive (services/heartbeats.ts).
          .filter(({ row, reason }) => reason !== 'heartbeat' || !deps.heartbeats?.buffered(row.id, row.assignee, now))
          // A window's attempt deadline is its end (§19.3): it completes rather than times out.
          .map(({ row, reason }) =>
            row.duration_ms !== null && reason === 'attempt'
              ? { ...decideWindowEnd(row, now)!, retried: false, window: true }
              : { ...decideAttemptTimeout(row, policy, random, now, reason), window: false },
          );
        const written = await applyChanges(tx, changes, now);
        const done = changes.filter((c) => written.has(c.next.id));
        return { expired: done, others: (await settle(tx, done, now)).changes };
      });
  announce([...expired, ...others]);
  for (const o of others) recordTransition(metrics, o.next);
  for (const e of expired) {
    recordTransition(metrics, e.next, e.retried ? 'timeout' : undefined);
    if (e.window) result.windowsEnded++;
    else if (e.retried) result.retriedAfterTimeout++;
    else result.timedOut++;
  }
  if (result.windowsEnded) log.info({ tasks: result.windowsEnded }, 'windows ended');
  if (expired.length > result.windowsEnded) log.info({ retried: result.retriedAfterTimeout, timed_out: result.timedOut }, 'attempts timed out');
  const later = clock.now();
  const lapsed = !due.wake
    ? []
    : await inTransaction(sql, async (tx) => {
        const changes = (await lockLapsedWakes(tx, later, SWEEP_LIMIT)).map((row) => decideRequeue(row, 'wake_timeout', later));
        const written = await applyChanges(tx, changes, later);
        return changes.filter((c) => written.has(c.next.id));
      });
  announce(lapsed);
  for (const c of lapsed) recordTransition(metrics, c.next);
  result.requeuedAfterWakeTimeout = lapsed.length;
  if (lapsed.length) log.info({ tasks: lapsed.length }, 'assigned tasks not acknowledged in time went back to pending');
  // Start deadlines and input deadlines (§21.1) end tasks too: dependents and runs settled in the
  // same transaction, the slot of an unanswered task freed.
  const unstarted = due.start ? await endDue(sql, clock.now(), lockUnstartedDue, decideStartDeadline) : [];
  result.notStarted = unstarted.length;
  if (unstarted.length) log.info({ tasks: unstarted.length }, 'tasks not started by their start_by timed out');
  const unanswered = due.input ? await endDue(sql, clock.now(), lockInputExpired, decideInputTimeout) : [];
  result.inputTimedOut = unanswered.length;
  if (unanswered.length) log.info({ tasks: unanswered.length }, 'tasks waiting for input timed out');
  return result;

  /** Lock the due rows, decide, apply and settle in one transaction; metrics after it. The tasks ended. */
  async function endDue(
    db: Sql,
    at: Date,
    lock: (tx: Tx, now: Date, limit: number) => Promise<TaskRow[]>,
    decide: (row: TaskRow, now: Date) => Change | undefined,
  ): Promise<Change[]> {
    const { ended, others } = await inTransaction(db, async (tx) => {
      const changes = (await lock(tx, at, SWEEP_LIMIT)).map((row) => decide(row, at)).filter((c): c is Change => c !== undefined);
      const written = await applyChanges(tx, changes, at);
      const done = changes.filter((c) => written.has(c.next.id));
      return { ended: done, others: (await settle(tx, done, at)).changes };
    });
    announce([...ended, ...others]);
    for (const c of [...ended, ...others]) recordTransition(metrics, c.next);
    return ended;
  }
}
