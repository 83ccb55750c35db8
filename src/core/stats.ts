// The per-status counters behind GET /api/v1/stats and the queue-depth gauges (task_stats, with
// task_stat_deltas folded into it): what one task's change adds to them. Written by the statement
// that makes the change (store/), decided here — no trigger on `tasks` (issue "The lean engine";
// until migration 0021 three statement-level triggers computed these from transition tables on
// every statement that touched `tasks`, heartbeats and unmatched marks included).
import type { TaskRow, TaskStatus } from './task.js';

/** One counter change of one task: `n` ±1 for `status`, and its completion time when it counts as completed. */
export interface StatDelta {
  taskId: string;
  status: TaskStatus;
  n: 1 | -1;
  /** completed_at − created_at (ms) of a completed task, signed like n; 0 otherwise (avg_completion_ms). */
  completionMs: number;
}

const completionMs = (r: TaskRow): number => (r.status === 'completed' && r.completed_at ? r.completed_at.getTime() - r.created_at.getTime() : 0);

/**
 * What a task's change adds to the counters: `before` null for a new task, `next` null for one
 * deleted; nothing when its status did not change.
 */
export function statDeltas(before: TaskRow | null, next: TaskRow | null): StatDelta[] {
  if (before && next && before.status === next.status) return [];
  const out: StatDelta[] = [];
  if (before) out.push({ taskId: before.id, status: before.status, n: -1, completionMs: -completionMs(before) });
  if (next) out.push({ taskId: next.id, status: next.status, n: 1, completionMs: completionMs(next) });
  return out;
}
