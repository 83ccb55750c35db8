// The neighbour fakes (neighbours.ts), plus small helpers the engine tests share.
import { expect } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import type { Scheduler } from '../../src/assignment/scheduler.js';
import type { Sql } from '../../src/store/db.js';
import { decideComplete, decideProgress } from '../../src/core/decisions.js';
import { applyDecision } from '../helpers/factories.js';

export { startFakes, type Fakes } from './neighbours.js';
export { waitFor } from '../helpers/wait.js';

export function schedulerOf(t: TestApp): Scheduler {
  const s = t.dispatch.components.find((c) => c.name === 'scheduler');
  expect(s).toBeDefined();
  return s as Scheduler;
}

export async function statusCounts(sql: Sql): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; n: number }[]>`select status, count(*)::int as n from tasks group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export async function activeByAgent(sql: Sql): Promise<Record<string, number>> {
  const rows = await sql<{ assignee: string; n: number }[]>`
    select assignee, count(*)::int as n from tasks where status in ('assigned','running','input_required') group by assignee`;
  return Object.fromEntries(rows.map((r) => [r.assignee, r.n]));
}

export async function eventTypes(sql: Sql, taskId: string): Promise<string[]> {
  const rows = await sql<{ type: string }[]>`select type from task_events where task_id = ${taskId} and kind = 'task' order by seq`;
  return rows.map((r) => r.type);
}

/** A worker's first progress report (assigned → running), as the API would record it. */
export async function startWork(sql: Sql, id: string, agent: string): Promise<void> {
  const now = new Date();
  const row = await applyDecision(sql, id, (r) => decideProgress(r, agent, { message: 'started' }, now));
  expect(row?.status).toBe('running');
}

/** A worker's completion report. */
export async function completeWork(sql: Sql, id: string, agent: string): Promise<boolean> {
  const row = await applyDecision(sql, id, (r) => decideComplete(r, agent, { ok: true }, new Date()));
  return row !== undefined;
}
