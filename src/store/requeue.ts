// Re-queue an agent's work when Warren says it stopped or degraded: its assigned/running tasks go
// back to pending without spending a retry, the agent remembered in avoid_agent so the next
// assignment prefers another, deadlines cleared, a `reassigned` event per task in the same
// transaction. One set-based compare-and-set: only rows still active *for that agent* move, so a
// task completed or re-assigned meanwhile is left alone, and replicas handling the same Warren
// event at once re-queue each task exactly once.
import type { Sql } from './db.js';
import { insertEvents } from './events.js';
import { requeueSet, rowToTask, type TaskRow } from './tasks.js';

export async function requeueAgentTasks(sql: Sql, agent: string, reason: string, now: Date): Promise<TaskRow[]> {
  return sql.begin(async (tx) => {
    const rows = await tx<TaskRow[]>`
      update tasks t set ${requeueSet(tx, now)}
      where t.status in ('assigned','running') and t.assignee = ${agent}
      returning t.*`;
    await insertEvents(tx, rows.map((r) => ({
      type: 'reassigned' as const, task: rowToTask(r), extra: { from_agent: agent, reason },
    })), now);
    return rows;
  });
}
