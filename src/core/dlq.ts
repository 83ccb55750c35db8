// Dead-letter entries (docs/callbacks.md "swarm-dlq"): which events end a task badly enough to be
// recorded on dlq.task.<reason>. Pure. The entry itself is written by the statement that inserts the
// event (store/events.ts dlqRows, with dispatch_dlq_entry of migration 0065 for its retry history).
import type { Task } from './task.js';

export type DlqReason = 'execution_failed' | 'assignment_timeout' | 'execution_timeout' | 'dependency_failed';

/**
 * The reason an event of this type, leaving its task in this state, is dead-lettered, or null: a
 * failure that ends the task, a timeout that ends it (before it started: assignment_timeout), a
 * cancel because a dependency ended badly. `data` is the event's own fields (its `reason`).
 */
export function dlqReasonOf(type: string, task: Pick<Task, 'status'>, data: { reason?: unknown } | undefined): DlqReason | null {
  if (type === 'failed' && task.status === 'failed') return 'execution_failed';
  if (type === 'timeout' && task.status === 'timed_out') return data?.reason === 'not_started' ? 'assignment_timeout' : 'execution_timeout';
  if (type === 'cancelled' && data?.reason === 'dependency_failed') return 'dependency_failed';
  return null;
}
