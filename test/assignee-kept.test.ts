// A finished task remembers who did it: every path that ends a task keeps the assignee of its
// last attempt, and only the way back to pending clears it (docs/state-machine.md).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { schedulerOf } from './fakes/swarm.js';
import { requeueAgentWork } from '../src/services/agents.js';
import type { Scheduler } from '../src/assignment/scheduler.js';

let t: TestApp;
let s: Scheduler;
let now = new Date('2031-02-03T04:05:06.000Z');
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

beforeAll(async () => {
  t = await startApp({
    clock: { now: () => now },
    random: () => 0,
    config: {
      agents: [{ id: 'scout', name: 'Scout', capabilities: ['research'], state: 'ready' }],
      // Ticks driven by hand: no sync match at create (engine-sync-match.test.ts covers it).
      assignment: { wake_timeout_ms: 10_000, max_concurrent_per_agent: 50, retry_backoff_base_ms: 1, retry_backoff_max_ms: 1, sync_match: false },
    },
  });
  s = schedulerOf(t);
  await s.stopLoop(); // ticks only when the test says so
});
afterAll(async () => t?.stop());
beforeEach(() => advance(60_000));

/** A task posted and assigned to scout by one scheduler tick. */
async function assigned(body: Record<string, unknown> = {}): Promise<string> {
  const created = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'x', scope: 'research', ...body } });
  expect(created.status).toBe(201);
  const tick = await s.runOnce();
  expect(tick.assigned.map((a) => [a.taskId, a.agent])).toContainEqual([created.body.id, 'scout']);
  return created.body.id;
}

async function running(body: Record<string, unknown> = {}): Promise<string> {
  const id = await assigned(body);
  expect((await t.call('POST', `/api/v1/tasks/${id}/progress`, { agent: 'scout', body: {} })).body.status).toBe('running');
  return id;
}

const get = async (id: string) => (await t.call('GET', `/api/v1/tasks/${id}`)).body;

describe('the assignee of a finished task', () => {
  it('complete: the response and the stored task name who completed it, and the assignee filter lists it', async () => {
    const id = await running();
    const res = await t.call('POST', `/api/v1/tasks/${id}/complete`, { agent: 'scout', body: { result: 1 } });
    expect(res.body).toMatchObject({ status: 'completed', assignee: 'scout' });
    expect(await get(id)).toMatchObject({ status: 'completed', assignee: 'scout' });
    const list = await t.call('GET', '/api/v1/tasks?assignee=scout&status=completed');
    expect(list.body.tasks.map((x: { id: string }) => x.id)).toContain(id);
    const events = (await t.call('GET', `/api/v1/tasks/${id}/events`)).body.events;
    expect(events.at(-1)).toMatchObject({ type: 'task.completed', data: { task: { assignee: 'scout' } } });
  });

  it('fail without retry keeps it; fail with a retry clears it (back to pending)', async () => {
    const final = await running();
    expect((await t.call('POST', `/api/v1/tasks/${final}/fail`, { agent: 'scout', body: { error: 'no', retryable: false } })).body).toMatchObject({
      status: 'failed',
      assignee: 'scout',
    });
    const retried = await running();
    expect((await t.call('POST', `/api/v1/tasks/${retried}/fail`, { agent: 'scout', body: { error: 'again' } })).body).toMatchObject({
      status: 'pending',
      assignee: null,
      retry_count: 1,
    });
  });

  it('an attempt timeout with no retries left keeps it; one with a retry left clears it', async () => {
    const exhausted = await running({ timeout_ms: 1000, max_retries: 0 });
    const retry = await running({ timeout_ms: 1000, max_retries: 1 });
    advance(1001);
    const tick = await s.runOnce();
    expect([tick.timedOut, tick.retriedAfterTimeout]).toEqual([1, 1]);
    expect(await get(exhausted)).toMatchObject({ status: 'timed_out', assignee: 'scout' });
    // The retried task went back to pending without an assignee (the same tick may assign it again).
    const events = (await t.call('GET', `/api/v1/tasks/${retry}/events`)).body.events;
    const timeout = events.find((e: { type: string }) => e.type === 'task.timeout');
    expect(timeout.data).toMatchObject({ agent: 'scout', will_retry: true, task: { status: 'pending', assignee: null } });
  });

  it('cancel while assigned or running keeps it; cancel while pending has none', async () => {
    const a = await assigned();
    const r = await running();
    for (const id of [a, r]) {
      expect((await t.call('PATCH', `/api/v1/tasks/${id}`, { agent: 'alice', body: { status: 'cancelled' } })).body).toMatchObject({
        status: 'cancelled',
        assignee: 'scout',
      });
    }
    expect((await t.call('POST', '/api/v1/agents/scout/drain', { agent: 'ops', admin: true })).status).toBe(200);
    try {
      const p = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'p', scope: 'research' } });
      expect((await t.call('PATCH', `/api/v1/tasks/${p.body.id}`, { agent: 'alice', body: { status: 'cancelled' } })).body).toMatchObject({
        status: 'cancelled',
        assignee: null,
      });
    } finally {
      expect((await t.call('DELETE', '/api/v1/agents/scout/drain', { agent: 'ops', admin: true })).status).toBe(200);
    }
  });

  it('an agent that stopped and a wake timeout put the task back to pending with no assignee', async () => {
    const r = await running();
    const requeued = await requeueAgentWork(t.dispatch.context, 'scout', 'agent_stopped');
    expect(requeued.map((x) => x.id)).toContain(r);
    expect(await get(r)).toMatchObject({ status: 'pending', assignee: null });
    // The only agent is the lapsed one, so it takes the task again; then it never acknowledges.
    await s.runOnce();
    expect(await get(r)).toMatchObject({ status: 'assigned', assignee: 'scout' });
    advance(10_001);
    expect((await s.runOnce()).requeuedAfterWakeTimeout).toBeGreaterThanOrEqual(1);
    const events = (await t.call('GET', `/api/v1/tasks/${r}/events`)).body.events;
    const lapsed = events.filter((e: { type: string; data: { reason?: string } }) => e.type === 'task.reassigned' && e.data.reason === 'wake_timeout');
    expect(lapsed).toHaveLength(1);
    expect(lapsed[0].data).toMatchObject({ from_agent: 'scout', task: { status: 'pending', assignee: null } });
  });
});
