// Dependency decisions (docs/workflows.md): what a task's dependencies mean for it. Pure, like
// core/decisions.ts: each returns the next row, its events and the guard to compare-and-set on.
//
//   waiting ──last dependency completed──▶ pending (event unblocked; context.upstream filled)
//   waiting ──a dependency failed / timed out / was cancelled──▶ cancelled (reason dependency_failed)
//   failed | timed_out | cancelled ──manual retry──▶ pending, or waiting while dependencies are not all completed (requeued)
//   cancelled (because of X) ──X retried──▶ waiting (requeued, reason dependency_retried)
import { InvalidTransitionError } from '../errors.js';
import { REDRIVABLE_STATUSES, rowToTask, type Change, type EventDraft, type EventType, type TaskRow, type TaskStatus } from './task.js';

/** What a dependent needs to know of one of its dependencies. */
export interface DependencyState {
  id: string;
  status: TaskStatus;
  result: unknown;
  step_id: string | null;
  workflow_run_id: string | null;
  cancelled_by: string | null;
}

const FAILED: readonly TaskStatus[] = ['failed', 'timed_out', 'cancelled'];

function change(before: TaskRow, next: TaskRow, events: Array<[EventType, Record<string, unknown>?]>, statuses: TaskStatus[]): Change {
  const task = rowToTask(next);
  const drafts: EventDraft[] = events.map(([type, extra]) => ({ type, task, ...(extra ? { extra } : {}) }));
  return { before, next, events: drafts, guard: { statuses } };
}

/** The key a dependency's result goes under in `context.upstream`: its step id inside the same run, else its task id. */
export function upstreamKey(dependent: Pick<TaskRow, 'workflow_run_id'>, dep: DependencyState): string {
  return dep.step_id !== null && dep.workflow_run_id !== null && dep.workflow_run_id === dependent.workflow_run_id ? dep.step_id : dep.id;
}

/** The first dependency (in depends_on order) that ended without completing, if any. */
export function failedDependency(depends: readonly string[], deps: ReadonlyMap<string, DependencyState>): DependencyState | undefined {
  for (const id of depends) {
    const d = deps.get(id);
    if (d && FAILED.includes(d.status)) return d;
  }
  return undefined;
}

/** The root of a cascade: a dependency cancelled by its own dependency passes the blame on. */
const rootOf = (d: DependencyState) => (d.status === 'cancelled' && d.cancelled_by !== null ? d.cancelled_by : d.id);

export type Readiness =
  { kind: 'ready'; upstream: Record<string, unknown> } | { kind: 'blocked' } | { kind: 'failed'; dependency: DependencyState; root: string };

/** Where a task stands given its dependencies' states (every id must be in `deps`). */
export function readiness(row: Pick<TaskRow, 'depends_on' | 'workflow_run_id'>, deps: ReadonlyMap<string, DependencyState>): Readiness {
  const failed = failedDependency(row.depends_on, deps);
  if (failed) return { kind: 'failed', dependency: failed, root: rootOf(failed) };
  const upstream: Record<string, unknown> = {};
  for (const id of row.depends_on) {
    const d = deps.get(id);
    if (!d || d.status !== 'completed') return { kind: 'blocked' };
    upstream[upstreamKey(row, d)] = d.result ?? null;
  }
  return { kind: 'ready', upstream };
}

/** A waiting task whose dependencies all completed becomes pending; undefined while it still waits. */
export function decideRelease(row: TaskRow, deps: ReadonlyMap<string, DependencyState>, now: Date): Change | undefined {
  if (row.status !== 'waiting') return undefined;
  const r = readiness(row, deps);
  if (r.kind !== 'ready') return undefined;
  const next: TaskRow = {
    ...row,
    status: 'pending',
    context: { ...row.context, upstream: r.upstream },
    queued_at: now,
    updated_at: now,
  };
  return change(row, next, [['unblocked']], ['waiting']);
}

/** A waiting task downstream of a failure is cancelled, remembering the root of the cascade. */
export function decideDependencyCancel(row: TaskRow, dependency: { id: string; status: TaskStatus }, root: string, now: Date): Change {
  const next: TaskRow = {
    ...row,
    status: 'cancelled',
    error: `dependency ${dependency.id} ${dependency.status}`,
    cancelled_by: root,
    completed_at: now,
    updated_at: now,
  };
  return change(row, next, [['cancelled', { reason: 'dependency_failed', dependency: dependency.id }]], ['waiting']);
}

/**
 * Manual retry (redrive) of a task that ended without completing: back to pending with a fresh
 * retry budget, or to waiting when its own dependencies are not all completed (again). The error
 * stays until the next attempt reports; the assignee is cleared (back to the queue).
 */
export function decideRedrive(row: TaskRow, deps: ReadonlyMap<string, DependencyState>, now: Date): Change {
  if (!REDRIVABLE_STATUSES.includes(row.status)) throw new InvalidTransitionError(row.id, row.status, 'pending');
  const r = readiness(row, deps);
  const back: Partial<TaskRow> = {
    assignee: null,
    retry_count: 0,
    // A window is still not assigned before its start_at (§19.3).
    not_before: row.start_at && row.start_at > now ? row.start_at : null,
    deadline_at: null,
    wake_deadline_at: null,
    avoid_agent: null,
    unmatched_reason: null,
    completed_at: null,
    cancelled_by: null,
    // The start deadline was for the first start: a manual retry starts without one.
    start_by: null,
    queued_at: now,
    updated_at: now,
  };
  if (r.kind === 'ready') {
    const next: TaskRow = { ...row, ...back, status: 'pending', context: row.depends_on.length ? { ...row.context, upstream: r.upstream } : row.context };
    return change(row, next, [['requeued', { reason: 'manual_retry' }]], [row.status]);
  }
  // A dependency that is itself failed keeps it from running: it waits until that one is retried too.
  const next: TaskRow = { ...row, ...back, status: 'waiting' };
  return change(row, next, [['requeued', { reason: 'manual_retry' }]], [row.status]);
}

/**
 * A task cancelled because of `root` after `root` was retried: back to waiting, unless another of
 * its dependencies still stands failed (then it stays cancelled, now blamed on that one).
 */
export function decideRevive(row: TaskRow, root: string, deps: ReadonlyMap<string, DependencyState>, now: Date): Change | undefined {
  if (row.status !== 'cancelled' || row.cancelled_by !== root) return undefined;
  const r = readiness(row, deps);
  if (r.kind === 'failed' && r.root !== root) {
    const next: TaskRow = { ...row, cancelled_by: r.root, error: `dependency ${r.dependency.id} ${r.dependency.status}`, updated_at: now };
    return change(row, next, [], ['cancelled']);
  }
  const next: TaskRow = { ...row, status: 'waiting', error: null, cancelled_by: null, completed_at: null, queued_at: now, updated_at: now };
  return change(row, next, [['requeued', { reason: 'dependency_retried', dependency: root }]], ['cancelled']);
}
