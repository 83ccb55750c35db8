// An agent's track record (§16.4, docs/fairness.md) from the summary the database keeps over its
// last N finished attempts. Pure.

export interface AgentRecord {
  completed: number;
  failed: number;
  timed_out: number;
  /** completed / (completed + failed + timed_out); null with no finished attempt in the window. */
  success_rate: number | null;
  /** Mean duration (assignment → completion) of the completed attempts in the window; null with none. */
  avg_duration_ms: number | null;
}

export const EMPTY_RECORD: AgentRecord = { completed: 0, failed: 0, timed_out: 0, success_rate: null, avg_duration_ms: null };

/** The record from the window's totals (completed_ms: the completed attempts' summed durations). */
export function toRecord(r: { completed: number; failed: number; timed_out: number; completed_ms: number }): AgentRecord {
  const total = r.completed + r.failed + r.timed_out;
  return {
    completed: r.completed,
    failed: r.failed,
    timed_out: r.timed_out,
    success_rate: total > 0 ? r.completed / total : null,
    avg_duration_ms: r.completed > 0 ? Math.round(r.completed_ms / r.completed) : null,
  };
}

/** One finished attempt as the track record counts it. */
export interface Outcome {
  taskId: string;
  agent: string;
  outcome: 'completed' | 'failed' | 'timed_out';
  durationMs: number;
}

/**
 * The finished attempt an event records, if any (§16.4): `completed`; `failed` (retried or
 * final); `timeout` of an attempt. Not counted: `reassigned` (wake timeout, agent lost: the agent
 * did not fail the work), cancellations, and a start-deadline timeout (no agent). The agent is the
 * event's `agent`, else the task's assignee; the duration runs from the task's assigned_at (as the
 * event shows it) to the event. Written by the statement that writes the event (no trigger since
 * migration 0023).
 */
export function outcomeOf(
  draft: { type: string; task: { id: string; assignee: string | null; assigned_at: string | null }; extra?: Record<string, unknown> },
  now: Date,
): Outcome | null {
  if (draft.type !== 'completed' && draft.type !== 'failed' && draft.type !== 'timeout') return null;
  // A requester who never answered is not the agent's failure (§21.1's input timeout).
  if (draft.type === 'timeout' && draft.extra?.reason === 'input') return null;
  const agent = typeof draft.extra?.agent === 'string' ? draft.extra.agent : draft.task.assignee;
  if (!agent) return null;
  const assignedAt = draft.task.assigned_at ? Date.parse(draft.task.assigned_at) : null;
  return {
    taskId: draft.task.id,
    agent,
    outcome: draft.type === 'completed' ? 'completed' : draft.type === 'failed' ? 'failed' : 'timed_out',
    durationMs: assignedAt === null ? 0 : Math.max(0, now.getTime() - assignedAt),
  };
}
