// The neighbour fakes (neighbours.ts), plus small helpers the engine tests share.
import { expect } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import type { Sql } from '../../src/store/db.js';
import { rowToTask, transition } from '../../src/store/tasks.js';

export { startFakes, type Fakes } from './neighbours.js';
export { waitFor } from '../helpers/wait.js';

export function schedulerOf(t: TestApp): Scheduler {
  const s = t.dispatch.components.find((c) => c instanceof Scheduler);
  expect(s).toBeDefined();
  return s as Scheduler;
}

export async function statusCounts(sql: Sql): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; n: number }[]>`select status, count(*)::int as n from tasks group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export async function activeByAgent(sql: Sql): Promise<Record<string, number>> {
  const rows = await sql<{ assignee: string; n: number }[]>`
    select assignee, count(*)::int as n from tasks where status in ('assigned','running') group by assignee`;
  return Object.fromEntries(rows.map((r) => [r.assignee, r.n]));
}

export async function eventTypes(sql: Sql, taskId: string): Promise<string[]> {
  const rows = await sql<{ type: string }[]>`select type from task_events where task_id = ${taskId} order by seq`;
  return rows.map((r) => r.type);
}

/** A worker's first progress report (assigned → running), as the API would record it. */
export async function startWork(sql: Sql, id: string, agent: string): Promise<void> {
  const now = new Date();
  const r = await transition(sql, {
    id, from: ['assigned'], to: 'running', assignee: agent, now,
    set: { started_at: now, wake_deadline_at: null, progress: { message: 'started', at: now.toISOString() } },
    events: (after) => [{ type: 'started', task: rowToTask(after) }],
  });
  expect(r.ok).toBe(true);
}

/** A worker's completion report. */
export async function completeWork(sql: Sql, id: string, agent: string): Promise<boolean> {
  const now = new Date();
  const r = await transition(sql, {
    id, from: ['assigned', 'running'], to: 'completed', assignee: agent, now,
    set: { completed_at: now, result: { ok: true }, assignee: null, deadline_at: null, wake_deadline_at: null },
    events: (after) => [{ type: 'completed', task: rowToTask(after) }],
  });
  return r.ok;
}
