// Helpers for the task API tests: row counts (to prove a refused request stored nothing) and
// an assigned task made through the factory (no scheduler needed).
import type { Sql } from '../../src/store/db.js';
import { insertTask, type TaskOverrides } from './factories.js';

export async function counts(sql: Sql): Promise<{ tasks: number; events: number; keys: number }> {
  const [r] = await sql<{ tasks: number; events: number; keys: number }[]>`
    select (select count(*) from tasks)::int as tasks,
           (select count(*) from task_events)::int as events,
           (select count(*) from idempotency_keys)::int as keys`;
  return r!;
}

export async function eventTypes(sql: Sql, taskId: string): Promise<string[]> {
  const rows = await sql<{ type: string }[]>`select type from task_events where task_id = ${taskId} and kind = 'task' order by seq`;
  return rows.map((r) => r.type);
}

export async function assignedTask(sql: Sql, agent = 'worker-1', o: TaskOverrides = {}) {
  return insertTask(sql, { status: 'assigned', assignee: agent, requester: 'boss', ...o });
}
