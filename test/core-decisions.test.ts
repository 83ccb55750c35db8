import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import {
  decideAssignment,
  decideAttemptTimeout,
  decideComplete,
  decideCreate,
  decideFail,
  decidePatch,
  decideProgress,
  decideRequeue,
  decideUnmatched,
  decideHeartbeat,
  decideInput,
  decideInputRequired,
  decideInputTimeout,
  decideWindowEnd,
  expiryOf,
  type Change,
  type NewTask,
} from '../src/core/decisions.js';
import { DispatchError, InvalidTransitionError, NotAssigneeError, ValidationError } from '../src/errors.js';
import { backoffDelay, type BackoffPolicy } from '../src/core/retry.js';
import { TRANSITIONS, isTerminal, rowToTask, type TaskRow, type TaskStatus } from '../src/core/task.js';

const T0 = new Date('2025-06-01T12:00:00.000Z'); // created / queued
const T1 = new Date('2025-06-01T12:00:02.000Z'); // assigned
const T2 = new Date('2025-06-01T12:00:03.000Z'); // started
const NOW = new Date('2025-06-01T12:00:30.000Z');
const at = (d: Date, ms: number) => new Date(d.getTime() + ms);
const POLICY: BackoffPolicy = { baseMs: 1000, maxMs: 60_000 };
const WAKE_MS = 15_000;
const MAX_CONTEXT = 1024;
const ID = '5d0c1a7e-8f2b-4e6a-9c3d-000000000001';

const pendingRow = (o: Partial<TaskRow> = {}): TaskRow => ({
  id: ID,
  title: 'Summarise the report',
  description: null,
  requester: 'req',
  owner: null,
  scope: null,
  capabilities: ['research'],
  required_tags: ['research'],
  priority: 5,
  status: 'pending',
  assignee: null,
  context: { doc: 'a' },
  progress: null,
  result: null,
  error: null,
  timeout_ms: 60_000,
  max_retries: 3,
  retry_count: 0,
  attempt: 0,
  parent_id: null,
  not_before: null,
  depends_on: [],
  workflow_run_id: null,
  step_id: null,
  callback_url: null,
  callback_events: null,
  has_dependents: false,
  cancelled_by: null,
  start_by: null,
  schedule_id: null,
  scheduled_for: null,
  deadline_at: null,
  wake_deadline_at: null,
  heartbeat_timeout_ms: null,
  heartbeat_deadline_at: null,
  assigned_score: null,
  input_timeout_ms: 86_400_000,
  input: null,
  input_deadline_at: null,
  call: null,
  start_at: null,
  duration_ms: null,
  dry_run: false,
  target: null,
  call_host: null,
  flow_key: null,
  assigned_woke: null,
  avoid_agent: null,
  unmatched_reason: null,
  queued_at: T0,
  created_at: T0,
  updated_at: T0,
  assigned_at: null,
  started_at: null,
  completed_at: null,
  ...o,
});
const assignedRow = (o: Partial<TaskRow> = {}): TaskRow =>
  pendingRow({
    status: 'assigned',
    assignee: 'scout',
    attempt: 1,
    assigned_at: T1,
    updated_at: T1,
    deadline_at: at(T1, 60_000),
    wake_deadline_at: at(T1, WAKE_MS),
    ...o,
  });
const runningRow = (o: Partial<TaskRow> = {}): TaskRow =>
  assignedRow({
    status: 'running',
    started_at: T2,
    updated_at: T2,
    wake_deadline_at: null,
    progress: { message: 'reading', at: T2.toISOString() },
    ...o,
  });
const endedRow = (status: TaskStatus, o: Partial<TaskRow> = {}): TaskRow =>
  runningRow({
    status,
    deadline_at: null,
    completed_at: T2,
    updated_at: T2,
    ...o,
  });

/** Every event carries the next row as the client sees it; the decision leaves `before` alone. */
function checked<C extends Change>(before: TaskRow, decide: (row: TaskRow) => C): C {
  const snapshot = structuredClone(before);
  const c = decide(deepFreeze(before));
  expect(before).toStrictEqual(snapshot);
  expect(c.before).toBe(before);
  expect(c.next).not.toBe(before);
  for (const e of c.events) expect(e.task).toStrictEqual(rowToTask(c.next));
  return c;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

const eventsOf = (c: Change) => c.events.map((e) => [e.type, e.extra]);

function refusal(fn: () => unknown): DispatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DispatchError) return e;
    throw e;
  }
  throw new Error('expected a refusal, the decision went through');
}

/** The database's check (migration 0007): assignee set while assigned/running, none while pending or waiting. */
const assigneeCheck = (r: TaskRow) =>
  (!['assigned', 'running', 'input_required'].includes(r.status) || r.assignee !== null) && (!['pending', 'waiting'].includes(r.status) || r.assignee === null);

// ---------------------------------------------------------------------------------------------

describe('decideCreate', () => {
  it('starts pending with every bookkeeping column at its default, queued now, one created event', () => {
    const input: NewTask = {
      id: ID,
      title: 'T',
      description: 'd',
      requester: 'req',
      owner: 'alice',
      scope: 'acme',
      capabilities: ['research'],
      required_tags: ['acme', 'research'],
      priority: 8,
      context: { x: 1 },
      timeout_ms: 5000,
      max_retries: 2,
      parent_id: null,
      not_before: at(NOW, 1000),
      depends_on: [],
      workflow_run_id: null,
      step_id: null,
    };
    const { row, events } = decideCreate(input, NOW);
    expect(row).toStrictEqual({
      ...input,
      flow_key: null,
      start_by: null,
      schedule_id: null,
      scheduled_for: null,
      callback_url: null,
      callback_events: null,
      status: 'pending',
      assignee: null,
      progress: null,
      result: null,
      error: null,
      retry_count: 0,
      attempt: 0,
      deadline_at: null,
      wake_deadline_at: null,
      heartbeat_timeout_ms: null,
      heartbeat_deadline_at: null,
      input_timeout_ms: 86_400_000,
      input: null,
      input_deadline_at: null,
      call: null,
      start_at: null,
      duration_ms: null,
      dry_run: false,
      target: null,
      call_host: null,
      assigned_score: null,
      assigned_woke: null,
      avoid_agent: null,
      unmatched_reason: null,
      queued_at: NOW,
      created_at: NOW,
      updated_at: NOW,
      assigned_at: null,
      started_at: null,
      completed_at: null,
      has_dependents: false,
      cancelled_by: null,
    });
    expect(events).toStrictEqual([{ type: 'created', task: rowToTask(row) }]);
    expect(assigneeCheck(row)).toBe(true);
  });
});

describe('decideComplete', () => {
  it.each([
    ['assigned', assignedRow()],
    ['running', runningRow()],
  ] as const)('from %s: keeps the assignee, clears the deadlines, completed_at = updated_at = now', (_s, before) => {
    const c = checked(before, (r) => decideComplete(r, 'scout', { summary: 'done' }, NOW));
    expect(c.next).toStrictEqual({
      ...before,
      status: 'completed',
      assignee: 'scout',
      result: { summary: 'done' },
      deadline_at: null,
      wake_deadline_at: null,
      completed_at: NOW,
      updated_at: NOW,
    });
    expect(eventsOf(c)).toEqual([['completed', undefined]]);
    expect(c.guard).toEqual({ statuses: [before.status], assignee: 'scout' });
  });

  it('an undefined result is stored as null; falsy results are kept', () => {
    expect(checked(runningRow(), (r) => decideComplete(r, 'scout', undefined, NOW)).next.result).toBeNull();
    expect(checked(runningRow(), (r) => decideComplete(r, 'scout', null, NOW)).next.result).toBeNull();
    expect(checked(runningRow(), (r) => decideComplete(r, 'scout', 0, NOW)).next.result).toBe(0);
    expect(checked(runningRow(), (r) => decideComplete(r, 'scout', false, NOW)).next.result).toBe(false);
  });
});

describe('decideFail', () => {
  it('with retries left: back to pending, no assignee, retry_count + 1, not_before = now + backoff of the current count', () => {
    const before = runningRow({ retry_count: 1, attempt: 2, unmatched_reason: 'stale' });
    const random = vi.fn(() => 0.5);
    const c = checked(before, (r) => decideFail(r, 'scout', { error: 'boom' }, POLICY, random, NOW));
    // backoff of retry_count 1: ceiling 2000 ms, × 0.5
    expect(c.next).toStrictEqual({
      ...before,
      status: 'pending',
      assignee: null,
      error: 'boom',
      retry_count: 2,
      not_before: at(NOW, 1000),
      queued_at: NOW,
      updated_at: NOW,
      deadline_at: null,
      wake_deadline_at: null,
      unmatched_reason: null,
    });
    expect(random).toHaveBeenCalledTimes(1);
    expect(c.retried).toBe(true);
    expect(eventsOf(c)).toEqual([
      ['failed', { will_retry: true, agent: 'scout' }],
      ['retry', { retry_count: 2, max_retries: 3, reason: 'failed' }],
    ]);
    expect(c.guard).toEqual({ statuses: ['running'], assignee: 'scout' });
  });

  it('retryable defaults to true and matches backoffDelay exactly', () => {
    const before = assignedRow({ retry_count: 0 });
    const c = checked(before, (r) => decideFail(r, 'scout', { error: 'e' }, POLICY, () => 0.999, NOW));
    expect(c.next.not_before).toStrictEqual(
      at(
        NOW,
        backoffDelay(0, POLICY, () => 0.999),
      ),
    );
    expect(c.next.not_before).toStrictEqual(at(NOW, 999));
    expect(c.next.status).toBe('pending');
  });

  it.each([
    ['not retryable', runningRow({ retry_count: 0 }), false],
    ['retries exhausted', runningRow({ retry_count: 3, max_retries: 3 }), true],
    ['max_retries 0', assignedRow({ max_retries: 0 }), true],
  ] as const)('final (%s): failed, assignee kept, deadlines cleared', (_l, before, retryable) => {
    const random = vi.fn(() => 0.5);
    const c = checked(before, (r) => decideFail(r, 'scout', { error: 'fatal', retryable }, POLICY, random, NOW));
    expect(c.next).toStrictEqual({
      ...before,
      status: 'failed',
      assignee: 'scout',
      error: 'fatal',
      deadline_at: null,
      wake_deadline_at: null,
      completed_at: NOW,
      updated_at: NOW,
    });
    expect(c.retried).toBe(false);
    expect(eventsOf(c)).toEqual([['failed', { will_retry: false, agent: 'scout' }]]);
    expect(c.guard).toEqual({ statuses: [before.status], assignee: 'scout' });
    if (!retryable) expect(random).not.toHaveBeenCalled();
  });
});

describe('decideProgress', () => {
  it('the first report moves assigned → running: started_at = now, wake deadline met, events started + progress', () => {
    const before = assignedRow();
    const c = checked(before, (r) => decideProgress(r, 'scout', { message: 'half', percent: 50, data: { n: 1 } }, NOW));
    expect(c.next).toStrictEqual({
      ...before,
      status: 'running',
      started_at: NOW,
      wake_deadline_at: null,
      updated_at: NOW,
      progress: { message: 'half', percent: 50, data: { n: 1 }, at: NOW.toISOString() },
    });
    expect(c.next.deadline_at).toStrictEqual(before.deadline_at);
    expect(eventsOf(c)).toEqual([
      ['started', undefined],
      ['progress', undefined],
    ]);
    expect(c.guard).toEqual({ statuses: ['assigned'], assignee: 'scout' });
  });

  it('later reports only record progress (started_at unchanged), event progress only', () => {
    const before = runningRow();
    const c = checked(before, (r) => decideProgress(r, 'scout', { percent: 80 }, NOW));
    expect(c.next).toStrictEqual({ ...before, progress: { percent: 80, at: NOW.toISOString() }, updated_at: NOW });
    expect(eventsOf(c)).toEqual([['progress', undefined]]);
    expect(c.guard).toEqual({ statuses: ['running'], assignee: 'scout' });
  });

  it('an empty report is a heartbeat: progress holds only `at`, no undefined keys', () => {
    const c = checked(runningRow(), (r) => decideProgress(r, 'scout', {}, NOW));
    expect(c.next.progress).toStrictEqual({ at: NOW.toISOString() });
  });
});

describe('report refusals', () => {
  const reports = {
    complete: (r: TaskRow, agent: string) => decideComplete(r, agent, { ok: true }, NOW),
    fail: (r: TaskRow, agent: string) => decideFail(r, agent, { error: 'x' }, POLICY, () => 0.5, NOW),
    progress: (r: TaskRow, agent: string) => decideProgress(r, agent, { percent: 1 }, NOW),
  };
  const target = { complete: 'completed', fail: 'failed', progress: 'running' } as const;
  const kinds = Object.keys(reports) as Array<keyof typeof reports>;
  const inactive: Array<[string, TaskRow]> = [
    ['pending', pendingRow()],
    ['pending after a retry (former assignee)', pendingRow({ retry_count: 1, attempt: 1, avoid_agent: 'scout' })],
    ['completed', endedRow('completed', { result: 1 })],
    ['failed', endedRow('failed', { error: 'x' })],
    ['timed_out', endedRow('timed_out', { error: 'x' })],
    ['cancelled', endedRow('cancelled')],
  ];

  for (const kind of kinds) {
    it.each(inactive)(`${kind} on %s → 409 invalid_transition with details {from, to}, even from the (former) assignee`, (_l, row) => {
      for (const agent of ['scout', 'someone-else']) {
        const e = refusal(() => reports[kind](deepFreeze(row), agent));
        expect(e).toBeInstanceOf(InvalidTransitionError);
        expect(e.statusCode).toBe(409);
        expect(e.code).toBe('invalid_transition');
        expect(e.details).toEqual({ from: row.status, to: target[kind] });
      }
    });

    it.each([
      ['assigned', assignedRow()],
      ['running', runningRow()],
    ] as const)(`${kind} from another agent while %s → 403 not_assignee`, (_s, row) => {
      const e = refusal(() => reports[kind](deepFreeze(row), 'intruder'));
      expect(e).toBeInstanceOf(NotAssigneeError);
      expect(e.statusCode).toBe(403);
      expect(e.code).toBe('not_assignee');
    });
  }
});

describe('decidePatch', () => {
  it('cancel while pending: cancelled, no assignee, completed_at = now, event cancelled', () => {
    const before = pendingRow({ not_before: at(NOW, 5000), unmatched_reason: 'no_capable_agent' });
    const c = checked(before, (r) => decidePatch(r, { status: 'cancelled' }, NOW, MAX_CONTEXT));
    expect(c.next).toStrictEqual({
      ...before,
      status: 'cancelled',
      assignee: null,
      deadline_at: null,
      wake_deadline_at: null,
      completed_at: NOW,
      updated_at: NOW,
    });
    expect(eventsOf(c)).toEqual([['cancelled', undefined]]);
    expect(c.guard).toEqual({ statuses: ['pending'] });
  });

  it.each([
    ['assigned', assignedRow()],
    ['running', runningRow()],
  ] as const)('cancel while %s: cancelled, the assignee kept, deadlines cleared', (_s, before) => {
    const c = checked(before, (r) => decidePatch(r, { status: 'cancelled' }, NOW, MAX_CONTEXT));
    expect(c.next).toStrictEqual({
      ...before,
      status: 'cancelled',
      assignee: 'scout',
      deadline_at: null,
      wake_deadline_at: null,
      completed_at: NOW,
      updated_at: NOW,
    });
    expect(eventsOf(c)).toEqual([['cancelled', undefined]]);
    expect(c.guard).toEqual({ statuses: [before.status] });
  });

  it.each(['completed', 'failed', 'timed_out', 'cancelled'] as const)('cancel of a %s task → 409, details.to = cancelled', (s) => {
    const e = refusal(() => decidePatch(deepFreeze(endedRow(s)), { status: 'cancelled' }, NOW, MAX_CONTEXT));
    expect(e).toBeInstanceOf(InvalidTransitionError);
    expect(e.statusCode).toBe(409);
    expect(e.details).toEqual({ from: s, to: 'cancelled' });
  });

  it.each([
    ['context', { context: { more: 1 } }],
    ['priority', { priority: 1 }],
    ['an empty patch', {}],
  ] as const)('%s on a terminal task → 409, details.to = the unchanged status', (_l, body) => {
    for (const s of ['completed', 'failed', 'timed_out', 'cancelled'] as const) {
      const e = refusal(() => decidePatch(deepFreeze(endedRow(s)), body, NOW, MAX_CONTEXT));
      expect(e).toBeInstanceOf(InvalidTransitionError);
      expect(e.details).toEqual({ from: s, to: s });
    }
  });

  it('priority changes while pending, with no event and no status change', () => {
    const before = pendingRow();
    const c = checked(before, (r) => decidePatch(r, { priority: 9 }, NOW, MAX_CONTEXT));
    expect(c.next).toStrictEqual({ ...before, priority: 9, updated_at: NOW });
    expect(c.events).toEqual([]);
    expect(c.guard).toEqual({ statuses: ['pending'] });
  });

  it('priority 0 is applied (not mistaken for "absent")', () => {
    expect(checked(pendingRow(), (r) => decidePatch(r, { priority: 0 }, NOW, MAX_CONTEXT)).next.priority).toBe(0);
  });

  it.each([
    ['assigned', assignedRow()],
    ['running', runningRow()],
  ] as const)('priority while %s → 409 with details {from, to: %s}', (s, row) => {
    const e = refusal(() => decidePatch(deepFreeze(row), { priority: 9 }, NOW, MAX_CONTEXT));
    expect(e).toBeInstanceOf(InvalidTransitionError);
    expect(e.details).toEqual({ from: s, to: s });
    expect(refusal(() => decidePatch(deepFreeze(row), { priority: 0 }, NOW, MAX_CONTEXT))).toBeInstanceOf(InvalidTransitionError);
    expect(refusal(() => decidePatch(deepFreeze(row), { priority: row.priority }, NOW, MAX_CONTEXT))).toBeInstanceOf(InvalidTransitionError);
    const both = refusal(() => decidePatch(deepFreeze(row), { priority: 9, status: 'cancelled' }, NOW, MAX_CONTEXT));
    expect(both.details).toEqual({ from: s, to: 'cancelled' });
  });

  it.each([
    ['pending', pendingRow()],
    ['assigned', assignedRow()],
    ['running', runningRow()],
  ] as const)('context merges keys while %s (new keys added, existing overwritten, others kept)', (_s, raw) => {
    const before = { ...raw, context: { keep: 1, over: 'old' } };
    const c = checked(before, (r) => decidePatch(r, { context: { over: 'new', add: [1] } }, NOW, MAX_CONTEXT));
    expect(c.next).toStrictEqual({ ...before, context: { keep: 1, over: 'new', add: [1] }, updated_at: NOW });
    expect(c.events).toEqual([]);
    expect(c.guard).toEqual({ statuses: [before.status] });
  });

  it('the merged context is bounded by maxContextBytes (UTF-8 bytes of its JSON): at the limit passes, one byte over → 400', () => {
    const before = pendingRow({ context: {} });
    const json = (v: string) => JSON.stringify({ k: v }).length; // ASCII: bytes = chars
    const fits = 'x'.repeat(MAX_CONTEXT - json(''));
    expect(checked(before, (r) => decidePatch(r, { context: { k: fits } }, NOW, MAX_CONTEXT)).next.context).toEqual({ k: fits });
    const e = refusal(() => decidePatch(deepFreeze(before), { context: { k: `${fits}x` } }, NOW, MAX_CONTEXT));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.statusCode).toBe(400);
    expect(e.code).toBe('validation_failed');
    expect(e.details).toEqual([expect.objectContaining({ field: 'context' })]);
  });

  it('the limit counts the merge, not the patch alone, and counts bytes, not characters', () => {
    const half = 'y'.repeat(MAX_CONTEXT / 2);
    const before = pendingRow({ context: { a: half } });
    expect(refusal(() => decidePatch(deepFreeze(before), { context: { b: half } }, NOW, MAX_CONTEXT))).toBeInstanceOf(ValidationError);
    // 400 × 'é' is 400 characters but 800 bytes: over a 500-byte limit
    const e = refusal(() => decidePatch(deepFreeze(pendingRow({ context: {} })), { context: { k: 'é'.repeat(400) } }, NOW, 500));
    expect(e).toBeInstanceOf(ValidationError);
  });
});

describe('decideAssignment', () => {
  it('pending → assigned: attempt + 1, deadlines from now, avoid_agent and unmatched_reason cleared', () => {
    const before = pendingRow({ attempt: 2, retry_count: 1, avoid_agent: 'lazy', unmatched_reason: 'no_available_agent', timeout_ms: 45_000 });
    const c = checked(before, (r) => decideAssignment(r, { agent: 'scout', score: 1.25, woke: true }, NOW, WAKE_MS));
    expect(c.next).toStrictEqual({
      ...before,
      status: 'assigned',
      assignee: 'scout',
      assigned_at: NOW,
      updated_at: NOW,
      attempt: 3,
      deadline_at: at(NOW, 45_000),
      wake_deadline_at: at(NOW, WAKE_MS),
      heartbeat_deadline_at: null,
      assigned_score: 1.25,
      assigned_woke: true,
      avoid_agent: null,
      unmatched_reason: null,
    });
    expect(c.next.retry_count).toBe(1);
    expect(eventsOf(c)).toEqual([['assigned', { agent: 'scout', score: 1.25, woke: true }]]);
    expect(c.guard).toEqual({ statuses: ['pending'] });
  });
});

describe('decideUnmatched', () => {
  it('records the reason only, event unmatched {reason}, guard pending', () => {
    const before = pendingRow();
    const c = checked(before, (r) => decideUnmatched(r, 'no_capable_agent'));
    expect(c.next).toStrictEqual({ ...before, unmatched_reason: 'no_capable_agent' });
    expect(eventsOf(c)).toEqual([['unmatched', { reason: 'no_capable_agent' }]]);
    expect(c.guard).toEqual({ statuses: ['pending'] });
  });
});

describe('decideRequeue', () => {
  const requeued = (before: TaskRow) => ({
    ...before,
    status: 'pending',
    assignee: null,
    avoid_agent: 'scout',
    deadline_at: null,
    wake_deadline_at: null,
    unmatched_reason: null,
    queued_at: NOW,
    updated_at: NOW,
  });

  it('wake_timeout: assigned → pending, no retry spent, the lapsed agent avoided, guard assigned + assignee', () => {
    const before = assignedRow({ retry_count: 1, unmatched_reason: 'stale' });
    const c = checked(before, (r) => decideRequeue(r, 'wake_timeout', NOW));
    expect(c.next).toStrictEqual(requeued(before));
    expect(c.next.retry_count).toBe(1);
    expect(c.next.attempt).toBe(before.attempt);
    expect(eventsOf(c)).toEqual([['reassigned', { from_agent: 'scout', reason: 'wake_timeout' }]]);
    expect(c.guard).toEqual({ statuses: ['assigned'], assignee: 'scout' });
  });

  it.each([
    ['assigned', 'agent_stopped', assignedRow()],
    ['running', 'agent_stopped', runningRow()],
    ['running', 'agent_degraded', runningRow()],
  ] as const)('%s, %s: → pending, guard assigned/running + assignee', (_s, reason, before) => {
    const c = checked(before, (r) => decideRequeue(r, reason, NOW));
    expect(c.next).toStrictEqual(requeued(before));
    expect(eventsOf(c)).toEqual([['reassigned', { from_agent: 'scout', reason }]]);
    expect(c.guard).toEqual({ statuses: ['assigned', 'running'], assignee: 'scout' });
  });
});

describe('decideAttemptTimeout', () => {
  it('with retries left: → pending, no assignee, avoid the agent, retry_count + 1, not_before = now + backoff, events timeout + retry', () => {
    const before = runningRow({ retry_count: 2, max_retries: 3, timeout_ms: 60_000, unmatched_reason: 'stale' });
    const c = checked(before, (r) => decideAttemptTimeout(r, POLICY, () => 0.25, NOW));
    // backoff of retry_count 2: ceiling 4000 ms, × 0.25
    const notBefore = at(NOW, 1000);
    expect(c.next).toStrictEqual({
      ...before,
      status: 'pending',
      assignee: null,
      avoid_agent: 'scout',
      retry_count: 3,
      not_before: notBefore,
      error: 'attempt timed out after 60000 ms',
      deadline_at: null,
      wake_deadline_at: null,
      unmatched_reason: null,
      queued_at: NOW,
      updated_at: NOW,
    });
    expect(c.retried).toBe(true);
    expect(eventsOf(c)).toEqual([
      ['timeout', { retry_count: 3, max_retries: 3, reason: 'attempt_timeout', agent: 'scout', will_retry: true }],
      ['retry', { retry_count: 3, max_retries: 3, reason: 'timeout', not_before: notBefore.toISOString() }],
    ]);
    expect(c.guard).toEqual({ statuses: ['assigned', 'running'], assignee: 'scout' });
  });

  it.each([
    ['retries exhausted', runningRow({ retry_count: 3, max_retries: 3, timeout_ms: 1234 })],
    ['max_retries 0', assignedRow({ max_retries: 0, timeout_ms: 1234 })],
  ] as const)('%s: → timed_out, the assignee kept, deadlines cleared, one timeout event', (_l, before) => {
    const random = vi.fn(() => 0.5);
    const c = checked(before, (r) => decideAttemptTimeout(r, POLICY, random, NOW));
    expect(c.next).toStrictEqual({
      ...before,
      status: 'timed_out',
      assignee: 'scout',
      avoid_agent: 'scout',
      error: 'attempt timed out after 1234 ms',
      deadline_at: null,
      wake_deadline_at: null,
      completed_at: NOW,
      updated_at: NOW,
    });
    expect(c.retried).toBe(false);
    expect(eventsOf(c)).toEqual([
      ['timeout', { retry_count: before.retry_count, max_retries: before.max_retries, reason: 'retries_exhausted', agent: 'scout', will_retry: false }],
    ]);
    expect(c.guard).toEqual({ statuses: ['assigned', 'running'], assignee: 'scout' });
    expect(random).not.toHaveBeenCalled();
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over random rows and random sequences of reports, patches and scheduler decisions.

const AGENTS = ['scout', 'forge', 'quill'] as const;
const agentArb = fc.constantFrom(...AGENTS);
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

const activeRowArb = fc
  .record({
    status: fc.constantFrom<TaskStatus>('assigned', 'running'),
    assignee: agentArb,
    max_retries: fc.integer({ min: 0, max: 4 }),
    used: fc.integer({ min: 0, max: 4 }),
    timeout_ms: fc.integer({ min: 1, max: 3_600_000 }),
    priority: fc.integer({ min: 0, max: 10 }),
    context: fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.boolean()), {
      maxKeys: 3,
      noNullPrototype: true,
    }),
  })
  .map(({ status, assignee, max_retries, used, ...o }) =>
    (status === 'assigned' ? assignedRow : runningRow)({
      ...o,
      assignee,
      max_retries,
      retry_count: Math.min(used, max_retries),
      attempt: Math.min(used, max_retries) + 1,
    }),
  );

type Op =
  | { kind: 'complete' | 'progress'; agent: string }
  | { kind: 'fail'; agent: string; retryable: boolean | undefined; r: number }
  | { kind: 'cancel' | 'priority' | 'context' }
  | { kind: 'assign'; agent: string }
  | { kind: 'requeue'; reason: string }
  | { kind: 'timeout'; r: number }
  | { kind: 'ask'; agent: string }
  | { kind: 'answer' | 'input_timeout' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('complete' as const, 'progress' as const), agent: agentArb }),
  fc.record({ kind: fc.constant('fail' as const), agent: agentArb, retryable: fc.option(fc.boolean(), { nil: undefined }), r: unit }),
  fc.record({ kind: fc.constantFrom('cancel' as const, 'priority' as const, 'context' as const) }),
  fc.record({ kind: fc.constant('assign' as const), agent: agentArb }),
  fc.record({ kind: fc.constant('requeue' as const), reason: fc.constantFrom('wake_timeout', 'agent_stopped', 'agent_degraded') }),
  fc.record({ kind: fc.constant('timeout' as const), r: unit }),
  fc.record({ kind: fc.constant('ask' as const), agent: agentArb }),
  fc.record({ kind: fc.constantFrom('answer' as const, 'input_timeout' as const) }),
);

function decideOp(row: TaskRow, op: Op, now: Date): Change {
  switch (op.kind) {
    case 'complete':
      return decideComplete(row, op.agent, { by: op.agent }, now);
    case 'progress':
      return decideProgress(row, op.agent, { message: 'tick' }, now);
    case 'fail':
      return decideFail(row, op.agent, { error: 'e', retryable: op.retryable }, POLICY, () => op.r, now);
    case 'cancel':
      return decidePatch(row, { status: 'cancelled' }, now, MAX_CONTEXT);
    case 'priority':
      return decidePatch(row, { priority: 3 }, now, MAX_CONTEXT);
    case 'context':
      return decidePatch(row, { context: { n: now.getTime() } }, now, 1 << 20);
    case 'assign':
      return decideAssignment(row, { agent: op.agent, score: 1, woke: false }, now, WAKE_MS);
    case 'requeue':
      return decideRequeue(row, op.reason, now);
    case 'timeout':
      return decideAttemptTimeout(row, POLICY, () => op.r, now);
    case 'ask':
      return decideInputRequired(row, op.agent, { question: 'which one?' }, now);
    case 'answer':
      return decideInput(row, { pick: 1 }, now);
    case 'input_timeout': {
      const c = decideInputTimeout(row, at(now, row.input_timeout_ms));
      if (!c) throw new InvalidTransitionError(row.id, row.status, 'timed_out');
      return c;
    }
  }
}

/** What store/ does: write `next` only when the row still satisfies the guard. */
const guardHolds = (row: TaskRow, c: Change) => c.guard.statuses.includes(row.status) && (c.guard.assignee === undefined || c.guard.assignee === row.assignee);

const isEdge = (from: TaskStatus, to: TaskStatus) => from === to || TRANSITIONS.some((t) => t.from === from && t.to === to);

describe('properties', () => {
  it('no sequence of decisions produces a row the database check refuses, or an edge outside TRANSITIONS', () => {
    fc.assert(
      fc.property(activeRowArb, fc.array(opArb, { minLength: 1, maxLength: 25 }), (start, ops) => {
        let row = start;
        expect(assigneeCheck(row)).toBe(true);
        ops.forEach((op, i) => {
          const now = at(NOW, (i + 1) * 1000);
          let c: Change;
          try {
            c = checked(row, (r) => decideOp(r, op, now));
          } catch (e) {
            // a refusal changes nothing; anything else is a bug
            expect(e).toBeInstanceOf(DispatchError);
            return;
          }
          if (!guardHolds(row, c)) return; // the compare-and-set would not apply it
          const { next } = c;
          expect(assigneeCheck(next), `${op.kind} on ${row.status} → ${next.status} assignee ${next.assignee}`).toBe(true);
          expect(isEdge(row.status, next.status), `${row.status} → ${next.status}`).toBe(true);
          expect(next.retry_count).toBeLessThanOrEqual(next.max_retries);
          expect(next.retry_count).toBeGreaterThanOrEqual(row.retry_count);
          expect(next.updated_at.getTime()).toBeGreaterThanOrEqual(row.updated_at.getTime());
          if (next.status === 'pending') expect([next.deadline_at, next.wake_deadline_at]).toEqual([null, null]);
          if (['assigned', 'running'].includes(next.status)) expect(next.deadline_at).not.toBeNull();
          if (next.status === 'running') expect(next.wake_deadline_at).toBeNull();
          if (next.status === 'input_required') {
            expect([next.deadline_at, next.heartbeat_deadline_at]).toEqual([null, null]);
            expect(next.input_deadline_at).not.toBeNull();
            expect(next.assignee).toBe(row.assignee);
          } else expect(next.input_deadline_at).toBeNull();
          if (isTerminal(next.status)) {
            expect([next.deadline_at, next.wake_deadline_at]).toEqual([null, null]);
            expect(next.completed_at).not.toBeNull();
            expect(next.assignee, 'a task ends with the assignee of its last attempt').toBe(row.assignee);
          }
          row = next;
        });
      }),
    );
  });

  it('decisions never mutate `before`, even when they refuse', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          activeRowArb,
          activeRowArb.map((r) => ({ ...r, status: 'pending' as const, assignee: null })),
          activeRowArb.map((r) => ({ ...r, status: 'completed' as const, completed_at: NOW, deadline_at: null })),
        ),
        opArb,
        (row, op) => {
          const snapshot = structuredClone(row);
          try {
            decideOp(deepFreeze(row), op, NOW);
          } catch (e) {
            expect(e).toBeInstanceOf(DispatchError);
          }
          expect(row).toStrictEqual(snapshot);
        },
      ),
    );
  });

  it('a report by the holder of an active task is never refused (complete, fail, progress)', () => {
    fc.assert(
      fc.property(activeRowArb, fc.constantFrom('complete', 'fail', 'progress') as fc.Arbitrary<'complete' | 'fail' | 'progress'>, unit, (row, kind, r) => {
        const op: Op = kind === 'fail' ? { kind, agent: row.assignee!, retryable: undefined, r } : { kind, agent: row.assignee! };
        const c = checked(row, (x) => decideOp(x, op, NOW));
        expect(guardHolds(row, c)).toBe(true);
      }),
    );
  });
});

describe('heartbeats (§16.1)', () => {
  const hbRow = (o: Partial<TaskRow> = {}) => pendingRow({ heartbeat_timeout_ms: 2000, ...o });

  it('the assignment sets the heartbeat deadline from now, progress moves it, requeue and end clear it', () => {
    const a = decideAssignment(hbRow(), { agent: 'scout', score: 1, woke: false }, T1, WAKE_MS).next;
    expect(a.heartbeat_deadline_at).toEqual(at(T1, 2000));
    const p = decideProgress(a, 'scout', {}, T2).next;
    expect(p.heartbeat_deadline_at).toEqual(at(T2, 2000));
    expect(decideComplete(p, 'scout', null, NOW).next.heartbeat_deadline_at).toBeNull();
    expect(decideRequeue(p, 'agent_stopped', NOW).next.heartbeat_deadline_at).toBeNull();
    // Without a heartbeat timeout there is no heartbeat deadline at all.
    expect(decideAssignment(pendingRow(), { agent: 'scout', score: 1, woke: false }, T1, WAKE_MS).next.heartbeat_deadline_at).toBeNull();
  });

  it('decideHeartbeat: 409 unless active, then 403 unless the assignee; the deadline now + heartbeat_timeout_ms', () => {
    const running = hbRow({ status: 'running', assignee: 'scout', assigned_at: T1 });
    expect(decideHeartbeat(running, 'scout', NOW)).toEqual({ taskId: ID, agent: 'scout', deadline: at(NOW, 2000) });
    expect(decideHeartbeat({ ...running, heartbeat_timeout_ms: null }, 'scout', NOW).deadline).toBeNull();
    expect(() => decideHeartbeat(running, 'other', NOW)).toThrow(NotAssigneeError);
    for (const status of ['pending', 'completed', 'failed', 'timed_out', 'cancelled', 'waiting'] as TaskStatus[]) {
      expect(() => decideHeartbeat({ ...running, status }, 'scout', NOW), status).toThrow(InvalidTransitionError);
    }
  });

  it('expiryOf: the attempt deadline wins when both passed; the heartbeat deadline alone → heartbeat', () => {
    const r = hbRow({ status: 'running', assignee: 'scout', deadline_at: at(NOW, 1), heartbeat_deadline_at: NOW });
    expect(expiryOf(r, NOW)).toBe('heartbeat');
    expect(expiryOf({ ...r, deadline_at: NOW }, NOW)).toBe('attempt');
  });

  it('a heartbeat timeout: timeout event reason heartbeat, the agent avoided next, retry or timed_out', () => {
    const r = hbRow({ status: 'running', assignee: 'scout', attempt: 1, deadline_at: at(NOW, 1000), heartbeat_deadline_at: NOW, max_retries: 1 });
    const retried = decideAttemptTimeout(r, POLICY, () => 0, NOW, 'heartbeat');
    expect(retried.retried).toBe(true);
    expect(retried.next).toMatchObject({ status: 'pending', avoid_agent: 'scout', heartbeat_deadline_at: null, error: 'no heartbeat for 2000 ms' });
    expect(eventsOf(retried)[0]).toEqual(['timeout', expect.objectContaining({ reason: 'heartbeat', will_retry: true })]);
    const ended = decideAttemptTimeout({ ...r, retry_count: 1 }, POLICY, () => 0, NOW, 'heartbeat');
    expect(ended.next.status).toBe('timed_out');
    expect(eventsOf(ended)).toEqual([['timeout', expect.objectContaining({ reason: 'heartbeat', will_retry: false })]]);
  });

  it('decideCreate: heartbeat_timeout_ms within 1000..timeout_ms, else 400', () => {
    const base = { ...pendingRow(), timeout_ms: 5000 } as unknown as NewTask;
    expect(decideCreate({ ...base, heartbeat_timeout_ms: 5000 }, NOW).row.heartbeat_timeout_ms).toBe(5000);
    expect(decideCreate({ ...base, heartbeat_timeout_ms: 1000 }, NOW).row.heartbeat_timeout_ms).toBe(1000);
    expect(decideCreate(base, NOW).row.heartbeat_timeout_ms).toBeNull();
    for (const bad of [999, 5001]) expect(() => decideCreate({ ...base, heartbeat_timeout_ms: bad }, NOW)).toThrow(ValidationError);
  });
});

describe('input required (§21.1)', () => {
  const asked = () =>
    decideInputRequired(runningRow({ heartbeat_timeout_ms: 5000, heartbeat_deadline_at: at(T2, 5000) }), 'scout', { question: 'Which year?' }, NOW);

  it('a running task asks: input_required, same assignee, no attempt or heartbeat deadline, the input deadline instead', () => {
    const c = asked();
    expect(c.next).toMatchObject({
      status: 'input_required',
      assignee: 'scout',
      deadline_at: null,
      heartbeat_deadline_at: null,
      input_deadline_at: at(NOW, 86_400_000),
      input: { question: 'Which year?', schema: null, asked_at: NOW.toISOString(), answer: null, answered_at: null },
    });
    expect(c.events.map((e) => [e.type, e.extra])).toEqual([['input_required', { question: 'Which year?', schema: null, agent: 'scout' }]]);
    expect(c.guard).toEqual({ statuses: ['running'], assignee: 'scout' });
  });

  it('only the assignee of a running task may ask: 409 on another status, then 403 for another agent', () => {
    expect(() => decideInputRequired(assignedRow(), 'scout', { question: 'q' }, NOW)).toThrow(InvalidTransitionError);
    expect(() => decideInputRequired(runningRow(), 'other', { question: 'q' }, NOW)).toThrow(NotAssigneeError);
  });

  it('the answer sends it back to running for the same assignee, with fresh deadlines and event input_received', () => {
    const later = at(NOW, 60_000);
    const c = decideInput(asked().next, { year: 2024 }, later);
    expect(c.next).toMatchObject({
      status: 'running',
      assignee: 'scout',
      input_deadline_at: null,
      deadline_at: at(later, 60_000),
      heartbeat_deadline_at: at(later, 5000),
      input: { question: 'Which year?', answer: { year: 2024 }, answered_at: later.toISOString() },
    });
    expect(c.events.map((e) => [e.type, e.extra])).toEqual([['input_received', { answer: { year: 2024 }, agent: 'scout' }]]);
    expect(c.guard).toEqual({ statuses: ['input_required'] });
  });

  it('an answer to a task that is not waiting for input is 409 invalid_transition', () => {
    for (const row of [runningRow(), assignedRow(), pendingRow(), endedRow('completed')]) {
      expect(() => decideInput(row, 'x', NOW)).toThrow(InvalidTransitionError);
    }
  });

  it('no answer by the input deadline: timed_out with reason input, no retry; nothing before the deadline', () => {
    const waiting = asked().next;
    expect(decideInputTimeout(waiting, at(NOW, 1000))).toBeUndefined();
    const c = decideInputTimeout(waiting, at(NOW, 86_400_000))!;
    expect(c.next).toMatchObject({ status: 'timed_out', assignee: 'scout', input_deadline_at: null, retry_count: 0 });
    expect(c.events[0]).toMatchObject({ type: 'timeout', extra: { reason: 'input', will_retry: false } });
  });

  it('cancel works as for running; reports other than the answer are refused while it waits', () => {
    const waiting = asked().next;
    expect(decidePatch(waiting, { status: 'cancelled' }, NOW, MAX_CONTEXT).next).toMatchObject({
      status: 'cancelled',
      assignee: 'scout',
      input_deadline_at: null,
    });
    expect(() => decideProgress(waiting, 'scout', {}, NOW)).toThrow(InvalidTransitionError);
    expect(() => decideComplete(waiting, 'scout', 1, NOW)).toThrow(InvalidTransitionError);
    expect(() => decideHeartbeat(waiting, 'scout', NOW)).toThrow(InvalidTransitionError);
  });
});

describe('windows (§19.3)', () => {
  const window = (o: Partial<TaskRow> = {}) => pendingRow({ duration_ms: 60_000, timeout_ms: 1000, ...o });

  it('start_at is a not_before the create keeps (the later of the two)', () => {
    const base = { ...pendingRow(), depends_on: [] };
    expect(decideCreate({ ...base, not_before: null, start_at: at(NOW, 5000) }, NOW).row.not_before).toEqual(at(NOW, 5000));
    expect(decideCreate({ ...base, not_before: at(NOW, 9000), start_at: at(NOW, 5000) }, NOW).row.not_before).toEqual(at(NOW, 9000));
  });

  it('the attempt deadline of an assigned window is its end, max(start_at, assigned_at) + duration_ms, whatever timeout_ms says', () => {
    const c = decideAssignment(window(), { agent: 'a', score: 1, woke: false }, NOW, WAKE_MS);
    expect(c.next.deadline_at).toEqual(at(NOW, 60_000));
    expect(rowToTask(c.next).until).toBe(at(NOW, 60_000).toISOString());
    const early = decideAssignment(window({ start_at: at(NOW, 10_000) }), { agent: 'a', score: 1, woke: false }, NOW, WAKE_MS);
    expect(early.next.deadline_at).toEqual(at(NOW, 70_000));
    expect(rowToTask(pendingRow()).until).toBeNull();
  });

  it('decideWindowEnd completes an active window at its end with reason window_ended, and nothing before', () => {
    const running = { ...decideAssignment(window(), { agent: 'a', score: 1, woke: false }, NOW, WAKE_MS).next, status: 'running' as const };
    expect(decideWindowEnd(running, at(NOW, 59_999))).toBeUndefined();
    const c = decideWindowEnd(running, at(NOW, 60_000))!;
    expect(c.next).toMatchObject({ status: 'completed', result: { ended: 'window' }, assignee: 'a', deadline_at: null, completed_at: at(NOW, 60_000) });
    expect(c.events.map((e) => [e.type, e.extra])).toEqual([['completed', { reason: 'window_ended', agent: 'a' }]]);
    expect(c.guard).toEqual({ statuses: ['running'], assignee: 'a' });
    expect(decideWindowEnd({ ...running, duration_ms: null }, at(NOW, 60_000))).toBeUndefined();
  });

  it('decidePatch announces updated with the changed fields only on an active window', () => {
    const assigned = decideAssignment(window({ target: [1] }), { agent: 'a', score: 1, woke: false }, NOW, WAKE_MS).next;
    const c = decidePatch(assigned, { target: [2], duration_ms: 90_000, context: { doc: 'a' } }, at(NOW, 1000), MAX_CONTEXT);
    expect(c.events.map((e) => [e.type, e.extra])).toEqual([['updated', { changed: ['target', 'duration_ms'] }]]);
    expect(c.next.deadline_at).toEqual(at(NOW, 90_000));
    expect(decidePatch(assigned, { target: [1] }, NOW, MAX_CONTEXT).events).toEqual([]);
    expect(decidePatch(window(), { target: [2] }, NOW, MAX_CONTEXT).events).toEqual([]);
  });
});
