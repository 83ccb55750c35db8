// Every lifecycle decision, as pure functions of the current row: each returns the next row, the
// events that describe the change, and the guard the write must compare-and-set on. This is the
// only place a next row is computed — store/ writes exactly these values (never recomputes them
// in SQL) and services/ only load, decide and apply. No I/O, no clock (`now` is a parameter), no
// randomness except the injected `random` of retry backoff.
//
// Assignee rule (docs/state-machine.md): a task keeps the assignee of its last attempt when it
// ends (completed, failed, timed_out, cancelled while active), so "what did scout finish" is a
// query; the assignee is cleared only on the way back to pending (retry, wake timeout, agent lost).
import { InvalidTransitionError, NotAssigneeError, ValidationError } from '../errors.js';
import { decideRetry, type BackoffPolicy } from './retry.js';
import {
  ACTIVE_STATUSES,
  DEFAULT_INPUT_TIMEOUT_MS,
  isTerminal,
  windowEnd,
  rowToTask,
  sourcesOf,
  type Change,
  type EventType,
  type Guard,
  type Progress,
  type TaskRow,
  type TaskStatus,
} from './task.js';
import { readiness, type DependencyState } from './dependencies.js';
import type { Random } from '../ports.js';
import { canonical } from './ids.js';

export type { Change, Guard } from './task.js';

/**
 * A fresh change marked retried or not. Never `{ ...change(…), retried }`: an object spread's copy
 * plus a new field is a brand-new V8 map every call (store/tasks.ts withVersion).
 */
function withRetried(c: Change, retried: boolean): Change & { retried: boolean } {
  const r = c as Change & { retried: boolean };
  r.retried = retried;
  return r;
}

function change(before: TaskRow, next: TaskRow, events: Array<[EventType, Record<string, unknown>?]>, guard: Guard): Change {
  const task = rowToTask(next);
  return {
    before,
    next,
    events: events.map(([type, extra]) => ({ type, task, ...(extra ? { extra } : {}) })),
    guard,
  };
}

/** The fields a row takes on its way back to the queue (no deadline, no unmatched reason, queued now). */
function requeued(row: TaskRow, now: Date): Partial<TaskRow> {
  return {
    status: 'pending',
    assignee: null,
    deadline_at: null,
    wake_deadline_at: null,
    heartbeat_deadline_at: null,
    input_deadline_at: null,
    // A question belongs to its attempt: the next one starts without.
    input: null,
    unmatched_reason: null,
    queued_at: now,
    updated_at: now,
  };
}

/** The fields a row takes when it ends (the assignee of its last attempt is kept). */
function ended(status: TaskStatus, now: Date): Partial<TaskRow> {
  return { status, deadline_at: null, wake_deadline_at: null, heartbeat_deadline_at: null, input_deadline_at: null, completed_at: now, updated_at: now };
}

const encoder = new TextEncoder();
const utf8Bytes = (s: string) => encoder.encode(s).length;

// ---------------------------------------------------------------------------------------------
// Create

/** What a create decides; every other column starts at its pending default. */
export type NewTask = Pick<
  TaskRow,
  | 'id'
  | 'title'
  | 'description'
  | 'requester'
  | 'owner'
  | 'scope'
  | 'capabilities'
  | 'required_tags'
  | 'priority'
  | 'context'
  | 'timeout_ms'
  | 'max_retries'
  | 'parent_id'
  | 'not_before'
  | 'depends_on'
  | 'workflow_run_id'
  | 'step_id'
> &
  Partial<Pick<TaskRow, 'start_by' | 'schedule_id' | 'scheduled_for' | 'callback_url' | 'callback_events'>> &
  Partial<Pick<TaskRow, 'heartbeat_timeout_ms' | 'input_timeout_ms' | 'call' | 'call_host' | 'flow_key'>> &
  Partial<Pick<TaskRow, 'start_at' | 'duration_ms' | 'dry_run' | 'target'>>;

/** The attempt deadline of an assignment (or an answer) at `now`: a window's end, else now + timeout_ms. */
export function attemptDeadline(row: TaskRow, now: Date): Date {
  return windowEnd(row, row.status === 'pending' ? now : (row.assigned_at ?? now)) ?? new Date(now.getTime() + row.timeout_ms);
}

/** The smallest heartbeat_timeout_ms (§16.1); the largest is the task's timeout_ms. */
export const HEARTBEAT_TIMEOUT_MIN_MS = 1000;

/** What is wrong with a heartbeat timeout for a task of this timeout_ms (null: nothing). */
export function heartbeatProblem(hb: number | null | undefined, timeoutMs: number): { field: string; message: string } | null {
  if (hb === null || hb === undefined || (hb >= HEARTBEAT_TIMEOUT_MIN_MS && hb <= timeoutMs)) return null;
  return { field: 'heartbeat_timeout_ms', message: `must be ${HEARTBEAT_TIMEOUT_MIN_MS}..timeout_ms (${timeoutMs}) inclusive` };
}

/**
 * A new task: pending, or — with dependencies (`deps` holds each one's state, read under its row
 * lock) — waiting until they all complete, pending at once with context.upstream when they
 * already have, or cancelled at once when one already failed (so retrying that one revives it).
 */
export function decideCreate(task: NewTask, now: Date, deps: ReadonlyMap<string, DependencyState> = new Map()): { row: TaskRow; events: Change['events'] } {
  const hb = task.heartbeat_timeout_ms ?? null;
  const problem = heartbeatProblem(hb, task.timeout_ms);
  if (problem) throw new ValidationError(`heartbeat_timeout_ms must be between ${HEARTBEAT_TIMEOUT_MIN_MS} and timeout_ms (${task.timeout_ms})`, [problem]);
  const startAt = task.start_at ?? null;
  // Every column spelled out, none spread: V8 builds `{ ...task, <30 more keys> }` key by key on a
  // fresh hidden class each time (~70 µs a create, most of decideCreate's time in a 200/s profile),
  // a plain literal in one step (~1 µs).
  const row: TaskRow = {
    id: task.id,
    title: task.title,
    description: task.description,
    requester: task.requester,
    owner: task.owner,
    scope: task.scope,
    capabilities: task.capabilities,
    required_tags: task.required_tags,
    priority: task.priority,
    context: task.context,
    timeout_ms: task.timeout_ms,
    max_retries: task.max_retries,
    parent_id: task.parent_id,
    depends_on: task.depends_on,
    workflow_run_id: task.workflow_run_id,
    step_id: task.step_id,
    // start_at is a not_before the retry backoff never moves earlier (§19.3).
    not_before: startAt && (task.not_before === null || task.not_before < startAt) ? startAt : task.not_before,
    start_at: startAt,
    duration_ms: task.duration_ms ?? null,
    dry_run: task.dry_run ?? false,
    target: task.target ?? null,
    start_by: task.start_by ?? null,
    schedule_id: task.schedule_id ?? null,
    scheduled_for: task.scheduled_for ?? null,
    callback_url: task.callback_url ?? null,
    callback_events: task.callback_events ?? null,
    heartbeat_timeout_ms: hb,
    heartbeat_deadline_at: null,
    input_timeout_ms: task.input_timeout_ms ?? DEFAULT_INPUT_TIMEOUT_MS,
    input: null,
    call: task.call ?? null,
    call_host: task.call_host ?? null,
    input_deadline_at: null,
    flow_key: task.flow_key ?? null,
    assigned_score: null,
    assigned_woke: null,
    status: 'pending',
    assignee: null,
    progress: null,
    result: null,
    error: null,
    retry_count: 0,
    attempt: 0,
    deadline_at: null,
    wake_deadline_at: null,
    avoid_agent: null,
    unmatched_reason: null,
    queued_at: now,
    created_at: now,
    updated_at: now,
    assigned_at: null,
    started_at: null,
    completed_at: null,
    has_dependents: false,
    cancelled_by: null,
  };
  if (row.depends_on.length === 0) return { row, events: [{ type: 'created', task: rowToTask(row) }] };
  const r = readiness(row, deps);
  if (r.kind === 'ready') {
    const ready: TaskRow = { ...row, context: { ...row.context, upstream: r.upstream } };
    return { row: ready, events: [{ type: 'created', task: rowToTask(ready) }] };
  }
  if (r.kind === 'blocked') {
    const waiting: TaskRow = { ...row, status: 'waiting' };
    return { row: waiting, events: [{ type: 'created', task: rowToTask(waiting) }] };
  }
  const cancelled: TaskRow = {
    ...row,
    status: 'cancelled',
    completed_at: now,
    cancelled_by: r.root,
    error: `dependency ${r.dependency.id} ${r.dependency.status}`,
  };
  const t = rowToTask(cancelled);
  return {
    row: cancelled,
    events: [
      { type: 'created', task: t },
      { type: 'cancelled', task: t, extra: { reason: 'dependency_failed', dependency: r.dependency.id } },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Worker reports (assignee only)

/**
 * 409 when the status does not allow the report; then 403 unless `agent` holds the task. In this
 * order, a late report from a former assignee is refused with 409 once the task left
 * assigned/running (20 racing completes: one 200, the rest 409) and with 403 while another agent
 * holds it. Progress is also accepted while running (running → running).
 */
function checkReport(row: TaskRow, to: TaskStatus, agent: string): void {
  const from = to === 'running' ? [...sourcesOf('running', 'assignee'), 'running'] : sourcesOf(to, 'assignee');
  if (!from.includes(row.status)) throw new InvalidTransitionError(row.id, row.status, to);
  if (row.assignee !== agent) throw new NotAssigneeError(row.id);
}

/** Complete; `extra` goes into the `completed` event beside the task (a call's status_code). */
export function decideComplete(row: TaskRow, agent: string, result: unknown, now: Date, extra?: Record<string, unknown>): Change {
  checkReport(row, 'completed', agent);
  const next: TaskRow = { ...row, ...ended('completed', now), result: result === undefined ? null : result };
  return change(row, next, [['completed', extra]], { statuses: [row.status], assignee: agent });
}

export interface FailReport {
  error: string;
  /** Default true. */
  retryable?: boolean;
  /** The retry waits at least this long (a call's Retry-After, §18.1), when longer than the backoff. */
  retryAfterMs?: number | undefined;
  /** The HTTP status of a call's answer: `status_code` in the `failed` event (null: no answer). */
  statusCode?: number | null | undefined;
}

/** Fail: retry with backoff (back to pending, retry_count + 1) or end `failed`. */
export function decideFail(row: TaskRow, agent: string, report: FailReport, policy: BackoffPolicy, random: Random, now: Date): Change & { retried: boolean } {
  checkReport(row, 'failed', agent);
  const guard = { statuses: [row.status], assignee: agent };
  const d = decideRetry(row, report.retryable ?? true, policy, random);
  const code = report.statusCode !== undefined ? { status_code: report.statusCode } : {};
  if (d.retry) {
    const next: TaskRow = {
      ...row,
      ...requeued(row, now),
      error: report.error,
      retry_count: d.retryCount,
      not_before: new Date(now.getTime() + Math.max(d.delayMs, report.retryAfterMs ?? 0)),
    };
    return withRetried(
      change(
        row,
        next,
        [
          ['failed', { will_retry: true, agent, ...code }],
          ['retry', { retry_count: next.retry_count, max_retries: next.max_retries, reason: 'failed' }],
        ],
        guard,
      ),
      true,
    );
  }
  const next: TaskRow = { ...row, ...ended('failed', now), error: report.error };
  return withRetried(change(row, next, [['failed', { will_retry: false, agent, ...code }]], guard), false);
}

export interface ProgressReport {
  message?: string;
  percent?: number;
  data?: Record<string, unknown>;
}

/** Progress: the first one moves assigned → running (the wake deadline is met); later ones only record. */
export function decideProgress(row: TaskRow, agent: string, report: ProgressReport, now: Date): Change {
  checkReport(row, 'running', agent);
  const progress: Progress = {
    ...(report.message !== undefined ? { message: report.message } : {}),
    ...(report.percent !== undefined ? { percent: report.percent } : {}),
    ...(report.data !== undefined ? { data: report.data } : {}),
    at: now.toISOString(),
  };
  const guard = { statuses: [row.status], assignee: agent };
  const beat = { heartbeat_deadline_at: heartbeatDeadline(row, now) };
  if (row.status === 'assigned') {
    const next: TaskRow = { ...row, ...beat, status: 'running', progress, started_at: now, wake_deadline_at: null, updated_at: now };
    return change(row, next, [['started'], ['progress']], guard);
  }
  return change(row, { ...row, ...beat, progress, updated_at: now }, [['progress']], guard);
}

/** The heartbeat deadline a beat at `now` sets: now + heartbeat_timeout_ms (null: the task has none). */
function heartbeatDeadline(row: TaskRow, now: Date): Date | null {
  return row.heartbeat_timeout_ms === null ? null : new Date(now.getTime() + row.heartbeat_timeout_ms);
}

/** A heartbeat as decided: the deadline to write, compare-and-set on the task still active with this assignee. */
export interface HeartbeatWrite {
  taskId: string;
  agent: string;
  /** null: the task has no heartbeat timeout, nothing to write. */
  deadline: Date | null;
}

/**
 * POST /heartbeat (§16.1): 409 unless assigned or running, then 403 unless `agent` holds it (the
 * order of the other reports). No status change, no event: only the heartbeat deadline moves
 * (written coalesced, services/heartbeats.ts). A beat does not acknowledge an assignment: the
 * first progress report does (the wake deadline stays).
 */
export function decideHeartbeat(row: TaskRow, agent: string, now: Date): HeartbeatWrite {
  if (row.status !== 'assigned' && row.status !== 'running') {
    throw new InvalidTransitionError(row.id, row.status, row.status, `task ${row.id} is ${row.status}: a heartbeat needs an assigned or running task`);
  }
  if (row.assignee !== agent) throw new NotAssigneeError(row.id);
  return { taskId: row.id, agent, deadline: heartbeatDeadline(row, now) };
}

// ---------------------------------------------------------------------------------------------
// Input required (§21.1): the assignee asks, the requester (or an admin) answers.

export interface InputRequest {
  question: string;
  schema?: Record<string, unknown> | null;
}

/**
 * The assignee of a running task asks its requester a question: input_required, still its task
 * (the slot stays taken), no attempt or heartbeat deadline while it waits, the input deadline
 * (input_timeout_ms) instead. 409 unless running, then 403 unless `agent` holds it.
 */
export function decideInputRequired(row: TaskRow, agent: string, req: InputRequest, now: Date): Change {
  if (row.status !== 'running') throw new InvalidTransitionError(row.id, row.status, 'input_required');
  if (row.assignee !== agent) throw new NotAssigneeError(row.id);
  const schema = req.schema ?? null;
  const next: TaskRow = {
    ...row,
    status: 'input_required',
    input: { question: req.question, schema, asked_at: now.toISOString(), answer: null, answered_at: null },
    input_deadline_at: new Date(now.getTime() + row.input_timeout_ms),
    deadline_at: null,
    heartbeat_deadline_at: null,
    updated_at: now,
  };
  return change(row, next, [['input_required', { question: req.question, schema, agent }]], { statuses: ['running'], assignee: agent });
}

/**
 * The answer (the caller checked that the requester or an admin gives it): back to running for
 * the same assignee, with a fresh attempt deadline (timeout_ms from the answer) and heartbeat
 * deadline; 409 unless the task is waiting for input.
 */
export function decideInput(row: TaskRow, answer: unknown, now: Date): Change {
  if (row.status !== 'input_required' || row.input === null)
    throw new InvalidTransitionError(
      row.id,
      row.status,
      'running',
      `task ${row.id} is ${row.status}: only a task waiting for input (input_required) takes an answer`,
    );
  const value = answer === undefined ? null : answer;
  const next: TaskRow = {
    ...row,
    status: 'running',
    input: { ...row.input, answer: value, answered_at: now.toISOString() },
    input_deadline_at: null,
    deadline_at: attemptDeadline(row, now),
    heartbeat_deadline_at: heartbeatDeadline(row, now),
    updated_at: now,
  };
  return change(row, next, [['input_received', { answer: value, agent: row.assignee }]], { statuses: ['input_required'] });
}

/** No answer by the input deadline: timed_out (reason input), no retry — the question is unanswered. */
export function decideInputTimeout(row: TaskRow, now: Date): Change | undefined {
  if (row.status !== 'input_required' || row.input_deadline_at === null || row.input_deadline_at > now) return undefined;
  const next: TaskRow = { ...row, ...ended('timed_out', now), error: `no input within ${row.input_timeout_ms} ms` };
  return change(
    row,
    next,
    [['timeout', { retry_count: next.retry_count, max_retries: next.max_retries, reason: 'input', agent: row.assignee, will_retry: false }]],
    { statuses: ['input_required'], ...(row.assignee !== null ? { assignee: row.assignee } : {}) },
  );
}

// ---------------------------------------------------------------------------------------------
// Requester or admin

export interface PatchRequest {
  status?: 'cancelled';
  context?: Record<string, unknown>;
  priority?: number;
  /** A window's reconfiguration (§19.3): what it acts on, and how long it runs. */
  target?: unknown;
  duration_ms?: number;
}

/** The fields whose change is announced with `updated` on an active window (§19.3), in this order. */
export const WINDOW_FIELDS = ['context', 'target', 'duration_ms'] as const;

/**
 * PATCH: cancel (waiting, pending, assigned or running), merge context keys, replace target or
 * duration_ms (until terminal), change the priority (only while pending or waiting). The caller
 * checked who asks; `maxContextBytes` bounds the merge. On an active window (assigned, running,
 * input_required with duration_ms) a change of context, target or duration_ms is announced with
 * `updated` (data.changed: the changed field names) — the actor reconfigures — and a new
 * duration_ms moves its end (the attempt deadline) with it.
 */
export function decidePatch(row: TaskRow, body: PatchRequest, now: Date, maxContextBytes: number): Change {
  const cancel = body.status === 'cancelled';
  const to: TaskStatus = cancel ? 'cancelled' : row.status;
  if (cancel && !sourcesOf('cancelled', 'requester_or_admin').includes(row.status)) {
    throw new InvalidTransitionError(row.id, row.status, 'cancelled');
  }
  if (isTerminal(row.status)) {
    throw new InvalidTransitionError(row.id, row.status, to, `task ${row.id} is ${row.status}: it can no longer change`);
  }
  if (body.priority !== undefined && row.status !== 'pending' && row.status !== 'waiting') {
    throw new InvalidTransitionError(row.id, row.status, to, `task ${row.id} is ${row.status}: priority can only change while pending or waiting`);
  }
  let context = row.context;
  if (body.context !== undefined) {
    context = { ...row.context, ...body.context };
    if (utf8Bytes(JSON.stringify(context)) > maxContextBytes) {
      throw new ValidationError(`context would exceed ${maxContextBytes / 1024} KiB after the merge`, [
        { field: 'context', message: `merged context must be at most ${maxContextBytes} bytes serialized` },
      ]);
    }
  }
  const target = body.target !== undefined ? body.target : row.target;
  const duration = body.duration_ms ?? row.duration_ms;
  const next: TaskRow = {
    ...row,
    ...(cancel ? ended('cancelled', now) : { updated_at: now }),
    context,
    target,
    duration_ms: duration,
    priority: body.priority ?? row.priority,
  };
  const changed = WINDOW_FIELDS.filter((f) => canonical(row[f] ?? null) !== canonical(next[f] ?? null));
  const working = row.status === 'assigned' || row.status === 'running';
  if (!cancel && working && changed.includes('duration_ms')) next.deadline_at = attemptDeadline(next, now);
  const window = next.duration_ms !== null && ACTIVE_STATUSES.includes(row.status);
  const events: Array<[EventType, Record<string, unknown>?]> = cancel ? [['cancelled']] : window && changed.length ? [['updated', { changed }]] : [];
  return change(row, next, events, { statuses: [row.status] });
}

/**
 * A window at its end (§19.3): completed with result {"ended":"window"}, event completed with
 * reason window_ended; the slot is freed. Undefined when the row is not an active window past its end.
 */
export function decideWindowEnd(row: TaskRow, now: Date): Change | undefined {
  if (row.duration_ms === null || (row.status !== 'assigned' && row.status !== 'running') || row.deadline_at === null || row.deadline_at > now)
    return undefined;
  const next: TaskRow = { ...row, ...ended('completed', now), result: { ended: 'window' } };
  return change(row, next, [['completed', { reason: 'window_ended', agent: row.assignee }]], {
    statuses: [row.status],
    ...(row.assignee !== null ? { assignee: row.assignee } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Scheduler

/** Assignment of a pending task to `agent` (the winner of core/assignment.ts's plan). */
export function decideAssignment(row: TaskRow, a: { agent: string; score: number; woke: boolean }, now: Date, wakeTimeoutMs: number): Change {
  const next: TaskRow = {
    ...row,
    status: 'assigned',
    assignee: a.agent,
    assigned_at: now,
    updated_at: now,
    attempt: row.attempt + 1,
    deadline_at: attemptDeadline(row, now),
    wake_deadline_at: new Date(now.getTime() + wakeTimeoutMs),
    heartbeat_deadline_at: heartbeatDeadline(row, now),
    assigned_score: a.score,
    assigned_woke: a.woke,
    avoid_agent: null,
    unmatched_reason: null,
  };
  return change(row, next, [['assigned', { agent: a.agent, score: a.score, woke: a.woke }]], { statuses: ['pending'] });
}

/** Why a pending task cannot be assigned now: announced once per reason. */
export function decideUnmatched(row: TaskRow, reason: string): Change {
  return change(row, { ...row, unmatched_reason: reason }, [['unmatched', { reason }]], { statuses: ['pending'] });
}

/**
 * Back to pending without spending a retry, the lapsed agent remembered so the next assignment
 * prefers another: the ack/wake timeout (`wake_timeout`) and an agent Warren says stopped or
 * degraded (its reason).
 */
export function decideRequeue(row: TaskRow, reason: string, now: Date): Change {
  const agent = row.assignee;
  const next: TaskRow = { ...row, ...requeued(row, now), avoid_agent: agent };
  return change(row, next, [['reassigned', { from_agent: agent, reason }]], {
    statuses: reason === 'wake_timeout' ? ['assigned'] : ['assigned', 'running'],
    ...(agent !== null ? { assignee: agent } : {}),
  });
}

/** Which active deadline expired: the attempt's own (timeout_ms), else the heartbeat's (§16.1). */
export type ExpiryReason = 'attempt' | 'heartbeat';

/** Why an active task swept as expired is: the attempt deadline wins when both passed. */
export function expiryOf(row: TaskRow, now: Date): ExpiryReason {
  if (row.deadline_at !== null && row.deadline_at <= now) return 'attempt';
  return row.heartbeat_deadline_at !== null && row.heartbeat_deadline_at <= now ? 'heartbeat' : 'attempt';
}

/**
 * An attempt past its deadline, or (`reason` heartbeat) with no heartbeat for heartbeat_timeout_ms:
 * retry with backoff (back to pending, the lapsed agent avoided next) or end `timed_out`. A
 * heartbeat timeout's `timeout` event carries reason `heartbeat` either way.
 */
export function decideAttemptTimeout(
  row: TaskRow,
  policy: BackoffPolicy,
  random: Random,
  now: Date,
  reason: ExpiryReason = 'attempt',
): Change & { retried: boolean } {
  const agent = row.assignee;
  const guard = { statuses: ['assigned', 'running'] as TaskStatus[], ...(agent !== null ? { assignee: agent } : {}) };
  const heartbeat = reason === 'heartbeat';
  // A call task's attempt is bounded by its call's timeout (core/calls.ts), an agent's by timeout_ms.
  const limit = row.call ? row.call.timeout_ms : row.timeout_ms;
  const error = heartbeat ? `no heartbeat for ${row.heartbeat_timeout_ms} ms` : `attempt timed out after ${limit} ms`;
  const counts = (r: TaskRow) => ({ retry_count: r.retry_count, max_retries: r.max_retries });
  const d = decideRetry(row, true, policy, random);
  if (d.retry) {
    const next: TaskRow = {
      ...row,
      ...requeued(row, now),
      error,
      avoid_agent: agent,
      retry_count: d.retryCount,
      not_before: new Date(now.getTime() + d.delayMs),
    };
    return withRetried(
      change(
        row,
        next,
        [
          ['timeout', { ...counts(next), reason: heartbeat ? 'heartbeat' : 'attempt_timeout', agent, will_retry: true }],
          ['retry', { ...counts(next), reason: 'timeout', not_before: next.not_before?.toISOString() ?? null }],
        ],
        guard,
      ),
      true,
    );
  }
  const next: TaskRow = { ...row, ...ended('timed_out', now), error, avoid_agent: agent };
  return withRetried(
    change(row, next, [['timeout', { ...counts(next), reason: heartbeat ? 'heartbeat' : 'retries_exhausted', agent, will_retry: false }]], guard),
    false,
  );
}

/**
 * The start deadline (§11.2): a task still not assigned at `start_by` (pending or waiting, never
 * assigned: attempt 0) ends timed_out; its dependents and run are settled by the caller.
 */
export function decideStartDeadline(row: TaskRow, now: Date): Change | undefined {
  if ((row.status !== 'pending' && row.status !== 'waiting') || row.attempt !== 0 || row.start_by === null || row.start_by > now) return undefined;
  const next: TaskRow = { ...row, ...ended('timed_out', now), error: `not started by ${row.start_by.toISOString()}` };
  return change(row, next, [['timeout', { retry_count: next.retry_count, max_retries: next.max_retries, reason: 'not_started', will_retry: false }]], {
    statuses: [row.status],
  });
}
