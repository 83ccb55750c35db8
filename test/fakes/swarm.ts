// The three neighbour fakes together, plus small helpers the engine tests share.
import { expect } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import type { Sql } from '../../src/store/db.js';
import { rowToTask, transition } from '../../src/store/tasks.js';
import { FakeAlexandria } from './alexandria.js';
import { FakePromptForge } from './promptforge.js';
import { FakeWarren } from './warren.js';

export interface Fakes extends AsyncDisposable {
  promptforge: FakePromptForge;
  warren: FakeWarren;
  alexandria: FakeAlexandria;
  /** Config overrides pointing Dispatch at the fakes. */
  config: { warren: { url: string; token: string }; promptforge: { url: string }; alexandria: { url: string } };
  /** Add an agent to PromptForge (capabilities) and Warren (state) at once. */
  addAgent(id: string, capabilities: string[], state?: string): void;
  resetCalls(): void;
  close(): Promise<void>;
}

export async function startFakes(): Promise<Fakes> {
  const [promptforge, warren, alexandria] = await Promise.all([FakePromptForge.start(), FakeWarren.start(), FakeAlexandria.start()]);
  const close = async () => {
    const results = await Promise.allSettled([promptforge.close(), warren.close(), alexandria.close()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  return {
    promptforge, warren, alexandria,
    config: { warren: { url: warren.url, token: warren.token }, promptforge: { url: promptforge.url }, alexandria: { url: alexandria.url } },
    addAgent(id, capabilities, state = 'ready') {
      promptforge.setPersona(id, capabilities);
      warren.setAgent(id, state);
    },
    resetCalls() {
      promptforge.resetCalls();
      warren.resetCalls();
      alexandria.resetCalls();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

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
