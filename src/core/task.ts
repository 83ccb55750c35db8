// Glossary
//   task       a unit of work posted by a requester agent; one row in `tasks`.
//   attempt    one assignment of a task to an agent, from `assigned` to a report or a deadline.
//              `attempt` counts every assignment; `retry_count` counts only retries spent.
//   agent      a worker, identified by its id (PromptForge persona slug = Warren agent name).
//   candidate  an agent that holds every tag a task requires and is not drained / filtered out.
//   tick       one pass of the scheduler: sweep deadlines, then assign a bounded batch.
//   decision   what planning decides for one task: assign (maybe with wake) or unmatched.
//   drain      an admin's flag on an agent: no new assignments, running work continues.
//   active     holds one of its agent's slots (counted in the per-agent limit): assigned,
//              running, input_required (ACTIVE_STATUSES; the SQL twin is migrations/0030).
//   input      a question the assignee of a running task asks its requester (input_required)
//              and the answer that sends it back to running (§21.1).
//   dependency a task another waits for (`depends_on`); the waiting one is its dependent.
//   run        one execution of a workflow definition: a task per step, edges from depends_on.
//   flow key   whose rate/concurrency budget a task's start spends (§20; core/flow.ts).
//   deadline   `deadline_at` (attempt timeout), `wake_deadline_at` (ack/wake timeout),
//              `heartbeat_deadline_at` (heartbeat timeout) and
//              `start_by` (start deadline, until the first assignment),
//              `input_deadline_at` (input timeout, while input_required);
//              timers are columns, swept every tick, never in-process setTimeouts.
//   window     a task with `duration_ms` (§19.3): once assigned it runs until
//              max(start_at, assigned_at) + duration_ms (`until`), its attempt deadline, and
//              then ends by itself (completed, reason window_ended).
//
// This module is pure: no I/O, no clock, no randomness.
import type { CallSpec } from './call-spec.js';

export const TASK_STATUSES = ['waiting', 'pending', 'assigned', 'running', 'input_required', 'completed', 'failed', 'timed_out', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'timed_out', 'cancelled'];
/** Statuses that hold one of the assignee's slots (counted in the per-agent limit). */
export const ACTIVE_STATUSES: readonly TaskStatus[] = ['assigned', 'running', 'input_required'];
/** Statuses with a running attempt: reports apply, attempt and heartbeat deadlines run. */
export const WORKING_STATUSES: readonly TaskStatus[] = ['assigned', 'running'];
/** input_timeout_ms when the create gives none (24 h). */
export const DEFAULT_INPUT_TIMEOUT_MS = 86_400_000;

export const EVENT_TYPES = [
  'created',
  'assigned',
  'started',
  'progress',
  'completed',
  'failed',
  'retry',
  'timeout',
  'cancelled',
  'unmatched',
  'reassigned',
  'unblocked',
  'requeued',
  'input_required',
  'input_received',
  'updated',
] as const;
/** Statuses a manual retry (redrive) starts from. */
export const REDRIVABLE_STATUSES: readonly TaskStatus[] = ['failed', 'timed_out', 'cancelled'];
export type EventType = (typeof EVENT_TYPES)[number];

/** The question of an input_required task and, once given, its answer (§21.1). */
export interface TaskInput {
  question: string;
  /** A JSON Schema the answer should follow (advisory, not enforced); null when none. */
  schema: Record<string, unknown> | null;
  asked_at: string;
  answer: unknown;
  answered_at: string | null;
}

export interface Progress {
  message?: string;
  percent?: number;
  data?: Record<string, unknown>;
  at: string;
}

/** The task as clients see it (openapi.yaml, Task). */
export interface Task {
  id: string;
  title: string;
  description: string | null;
  requester: string;
  owner: string | null;
  scope: string | null;
  capabilities: string[];
  priority: number;
  status: TaskStatus;
  assignee: string | null;
  context: Record<string, unknown>;
  progress: Progress | null;
  result: unknown;
  error: string | null;
  timeout_ms: number;
  max_retries: number;
  retry_count: number;
  parent_id: string | null;
  not_before: string | null;
  /** Tasks this one waits for (status `waiting` until all completed). */
  depends_on: string[];
  workflow_run_id: string | null;
  step_id: string | null;
  /** Not yet assigned at this instant → timed_out (§11.2). */
  start_by: string | null;
  /** The schedule whose occurrence created this task, and that occurrence (§11.1). */
  schedule_id: string | null;
  scheduled_for: string | null;
  /** Where lifecycle events are POSTed (docs/callbacks.md); null: no callbacks. */
  callback_url: string | null;
  /** Event types (without `task.`) or ['*']; null: only the event that ends the task. */
  callback_events: string[] | null;
  /** No heartbeat (progress or POST heartbeat) for this long while assigned/running → timeout, reason heartbeat (§16.1); null: none. */
  heartbeat_timeout_ms: number | null;
  /** How long an input_required task waits for its answer before it ends timed_out (reason input). */
  input_timeout_ms: number;
  /** The last question asked (input_required) and its answer; null when none was asked. */
  input: TaskInput | null;
  /** The HTTP request Dispatch performs for this task (§18.1, docs/calls.md); null: an agent's task. */
  call: CallSpec | null;
  /** Not assigned before this instant (§19.3). */
  start_at: string | null;
  /** A window: runs this long once assigned, then ends by itself; null: not a window. */
  duration_ms: number | null;
  /** A window's end once assigned: max(start_at, assigned_at) + duration_ms; null otherwise. */
  until: string | null;
  dry_run: boolean;
  /** Free JSON naming what the work acts on (Frequenz's components); null: none. */
  target: unknown;
  /** Whose flow budget its starts spend (§20, core/flow.ts); null: none. */
  flow_key: string | null;
  created_at: string;
  updated_at: string;
  assigned_at: string | null;
  started_at: string | null;
  completed_at: string | null;
}

/**
 * A task as stored: the contract's fields plus the scheduler's bookkeeping columns. The one type
 * every decision reads and returns (core/decisions.ts); store/ writes exactly what it is given.
 */
export interface TaskRow {
  id: string;
  title: string;
  description: string | null;
  requester: string;
  owner: string | null;
  scope: string | null;
  capabilities: string[];
  required_tags: string[];
  priority: number;
  status: TaskStatus;
  assignee: string | null;
  context: Record<string, unknown>;
  progress: Progress | null;
  result: unknown;
  error: string | null;
  timeout_ms: number;
  max_retries: number;
  retry_count: number;
  /** Assignments so far (retry_count counts only retries spent). */
  attempt: number;
  parent_id: string | null;
  not_before: Date | null;
  depends_on: string[];
  workflow_run_id: string | null;
  step_id: string | null;
  callback_url: string | null;
  callback_events: string[] | null;
  /** Some task depends on this one: its ending releases or cancels dependents. */
  has_dependents: boolean;
  /** The dependency whose failure cancelled this task (the root of the cascade). */
  cancelled_by: string | null;
  /** Start deadline: a task still unassigned (attempt 0) at this instant ends timed_out. */
  start_by: Date | null;
  schedule_id: string | null;
  scheduled_for: Date | null;
  /** Attempt timeout: assigned_at + timeout_ms, while assigned or running. */
  deadline_at: Date | null;
  /** Ack/wake timeout, while assigned. */
  wake_deadline_at: Date | null;
  /** No heartbeat for this long → timeout (reason heartbeat); null: none. */
  heartbeat_timeout_ms: number | null;
  /** Heartbeat deadline, while assigned or running with a heartbeat_timeout_ms: the last beat (or the assignment) + heartbeat_timeout_ms. */
  heartbeat_deadline_at: Date | null;
  input_timeout_ms: number;
  input: TaskInput | null;
  /** Input deadline, while input_required: asked_at + input_timeout_ms. */
  input_deadline_at: Date | null;
  /** A call task's request (§18.1): performed by the executor, never assigned to an agent. */
  call: CallSpec | null;
  /** Its destination host (lower-case host:port; null for a path joined to http_work.base_url): the per-host limit. */
  call_host: string | null;
  start_at: Date | null;
  duration_ms: number | null;
  dry_run: boolean;
  target: unknown;
  /** Flow key (§20): its key's limits and pause gate its starts. */
  flow_key: string | null;
  /** The assignment's record (with assignee and assigned_at): the score and whether it woke the agent. */
  assigned_score: number | null;
  assigned_woke: boolean | null;
  /** The agent that let the last attempt lapse: the next assignment prefers another. */
  avoid_agent: string | null;
  /** The last unmatched reason announced, so `unmatched` is not repeated every tick. */
  unmatched_reason: string | null;
  /** Created or last re-queued (schedule → assign latency, oldest pending age). */
  queued_at: Date;
  created_at: Date;
  updated_at: Date;
  assigned_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** A call as a template gives it (a workflow step's, normalised to the object form; §19.1): the create fills in the defaults (CallSpec). */
export interface TaskCall {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  credential?: string;
  body?: unknown;
  timeout_ms?: number;
}

/**
 * A window's end (§19.3): max(start_at, assigned_at) + duration_ms, `assigned_at` being the last
 * assignment's (or `at`, the instant of the assignment being decided). Null for a task without
 * duration_ms and for a window never assigned.
 */
export function windowEnd(r: Pick<TaskRow, 'duration_ms' | 'start_at' | 'assigned_at'>, at: Date | null = r.assigned_at): Date | null {
  if (r.duration_ms === null || r.duration_ms === undefined || at === null) return null;
  const from = r.start_at && r.start_at > at ? r.start_at : at;
  return new Date(from.getTime() + r.duration_ms);
}

export function rowToTask(r: TaskRow): Task {
  return {
    id: r.id,
    title: r.title,
    description: r.description,
    requester: r.requester,
    owner: r.owner,
    scope: r.scope,
    capabilities: r.capabilities,
    priority: r.priority,
    status: r.status,
    assignee: r.assignee,
    context: r.context,
    progress: r.progress,
    result: r.result ?? null,
    error: r.error,
    timeout_ms: r.timeout_ms,
    max_retries: r.max_retries,
    retry_count: r.retry_count,
    parent_id: r.parent_id,
    not_before: iso(r.not_before),
    depends_on: r.depends_on,
    workflow_run_id: r.workflow_run_id,
    step_id: r.step_id,
    start_by: iso(r.start_by ?? null),
    schedule_id: r.schedule_id ?? null,
    scheduled_for: iso(r.scheduled_for ?? null),
    callback_url: r.callback_url ?? null,
    callback_events: r.callback_events ?? null,
    heartbeat_timeout_ms: r.heartbeat_timeout_ms ?? null,
    input_timeout_ms: r.input_timeout_ms ?? DEFAULT_INPUT_TIMEOUT_MS,
    input: r.input ?? null,
    call: r.call ?? null,
    start_at: iso(r.start_at ?? null),
    duration_ms: r.duration_ms ?? null,
    until: iso(windowEnd(r)),
    dry_run: r.dry_run ?? false,
    target: r.target ?? null,
    flow_key: r.flow_key ?? null,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    assigned_at: iso(r.assigned_at),
    started_at: iso(r.started_at),
    completed_at: iso(r.completed_at),
  };
}

/** A lifecycle event before it gets its envelope id and timestamp (store/events.ts). */
export interface EventDraft {
  type: EventType;
  task: Task;
  /** Type-specific fields, merged into `data` beside `task`. */
  extra?: Record<string, unknown>;
}

/** What the write must still find for a decision to apply (a lost race re-reads and decides again). */
export interface Guard {
  /** The row's status must be one of these. */
  statuses: readonly TaskStatus[];
  /** When set, the row's assignee must also equal this. */
  assignee?: string;
}

/** A decided change (core/decisions.ts): apply `next` and `events` only if the row still satisfies `guard`. */
export interface Change {
  before: TaskRow;
  next: TaskRow;
  events: EventDraft[];
  guard: Guard;
}

/** Who causes a transition. */
export type Actor = 'scheduler' | 'assignee' | 'requester_or_admin' | 'dependency';

export interface TransitionRule {
  from: TaskStatus;
  to: TaskStatus;
  by: Actor;
  why: string;
}

/** The lifecycle (docs/state-machine.md), one row per allowed edge. */
export const TRANSITIONS: readonly TransitionRule[] = [
  { from: 'pending', to: 'assigned', by: 'scheduler', why: 'assignment' },
  { from: 'assigned', to: 'running', by: 'assignee', why: 'first progress report' },
  { from: 'assigned', to: 'completed', by: 'assignee', why: 'complete without progress' },
  { from: 'running', to: 'completed', by: 'assignee', why: 'complete' },
  { from: 'assigned', to: 'failed', by: 'assignee', why: 'fail, not retryable or retries exhausted' },
  { from: 'running', to: 'failed', by: 'assignee', why: 'fail, not retryable or retries exhausted' },
  { from: 'assigned', to: 'pending', by: 'assignee', why: 'fail, retry with backoff' },
  { from: 'running', to: 'pending', by: 'assignee', why: 'fail, retry with backoff' },
  { from: 'assigned', to: 'pending', by: 'scheduler', why: 'attempt or heartbeat timeout with retries left, ack/wake timeout, agent stopped' },
  { from: 'running', to: 'pending', by: 'scheduler', why: 'attempt or heartbeat timeout with retries left, agent stopped' },
  { from: 'assigned', to: 'timed_out', by: 'scheduler', why: 'attempt or heartbeat timeout, retries exhausted' },
  { from: 'running', to: 'timed_out', by: 'scheduler', why: 'attempt or heartbeat timeout, retries exhausted' },
  { from: 'pending', to: 'cancelled', by: 'requester_or_admin', why: 'cancel' },
  { from: 'assigned', to: 'cancelled', by: 'requester_or_admin', why: 'cancel' },
  { from: 'running', to: 'cancelled', by: 'requester_or_admin', why: 'cancel' },
  { from: 'waiting', to: 'cancelled', by: 'requester_or_admin', why: 'cancel' },
  { from: 'input_required', to: 'cancelled', by: 'requester_or_admin', why: 'cancel' },
  { from: 'running', to: 'input_required', by: 'assignee', why: 'asks its requester a question (input-required)' },
  { from: 'input_required', to: 'running', by: 'requester_or_admin', why: 'answers the question (input)' },
  { from: 'input_required', to: 'timed_out', by: 'scheduler', why: 'no answer within input_timeout_ms (reason input)' },
  { from: 'waiting', to: 'pending', by: 'dependency', why: 'the last dependency completed (unblocked)' },
  { from: 'waiting', to: 'cancelled', by: 'dependency', why: 'a dependency failed, timed out or was cancelled' },
  { from: 'failed', to: 'pending', by: 'requester_or_admin', why: 'manual retry (requeued)' },
  { from: 'timed_out', to: 'pending', by: 'requester_or_admin', why: 'manual retry (requeued)' },
  { from: 'cancelled', to: 'pending', by: 'requester_or_admin', why: 'manual retry (requeued)' },
  { from: 'failed', to: 'waiting', by: 'requester_or_admin', why: 'manual retry, dependencies not all completed' },
  { from: 'timed_out', to: 'waiting', by: 'requester_or_admin', why: 'manual retry, dependencies not all completed' },
  { from: 'cancelled', to: 'waiting', by: 'requester_or_admin', why: 'manual retry, dependencies not all completed' },
  { from: 'cancelled', to: 'waiting', by: 'dependency', why: 'the dependency that cancelled it was retried' },
  { from: 'pending', to: 'timed_out', by: 'scheduler', why: 'start deadline (start_by) passed before the first assignment' },
  { from: 'waiting', to: 'timed_out', by: 'scheduler', why: 'start deadline (start_by) passed before the first assignment' },
];

/** Statuses a task may be in for `to` to apply (by a given actor). Used as the CAS predicate. */
export function sourcesOf(to: TaskStatus, by?: Actor): TaskStatus[] {
  return [...new Set(TRANSITIONS.filter((t) => t.to === to && (by === undefined || t.by === by)).map((t) => t.from))];
}

export function isTerminal(s: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(s);
}

/** Required tags: scope ∪ capabilities, lower-cased, trimmed, de-duplicated. */
export function requiredTags(scope: string | null | undefined, capabilities: readonly string[] = []): string[] {
  const tags = [...(scope ? [scope] : []), ...capabilities].map((t) => t.trim().toLowerCase()).filter(Boolean);
  return [...new Set(tags)].sort();
}
