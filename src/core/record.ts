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
