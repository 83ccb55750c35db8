// Input required (CONTRACT §21.1, docs/agent-doors.md) through the REST API: the assignee of a
// running task asks, the requester answers; the worker hears the answer on NATS, SSE and its
// long-poll; the task keeps its agent's slot; no answer in time ends it timed_out (reason input).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { counts, eventTypes } from './helpers/tasks-api.js';
import { openSse } from './helpers/sse.js';
import { collect, waitFor } from './helpers/events.js';
import { startNatsServer, type NatsServer } from './helpers/nats-server.js';
import { schedulerOf } from './fakes/swarm.js';

let t: TestApp;
let nats: NatsServer;
let now = Date.UTC(2031, 4, 6, 7, 8, 9);
beforeAll(async () => {
  nats = await startNatsServer();
  t = await startApp({
    clock: { now: () => new Date(now) },
    config: {
      hermes: { url: nats.url },
      assignment: { tick_interval_ms: 600_000, max_concurrent_per_agent: 1 },
      agents: [{ id: 'w1', name: 'W1', capabilities: ['ask'], state: 'ready' }],
    },
  });
  await schedulerOf(t).stopLoop();
});
afterAll(async () => {
  await t?.stop();
  await nats?.stop();
});

const running = (o: { requester?: string; assignee?: string } = {}) =>
  insertTask(t.sql, { status: 'running', assignee: o.assignee ?? 'w1', requester: o.requester ?? 'boss', capabilities: ['ask'] });

async function expectRefused(req: Promise<{ status: number; body: any }>, status: number, code: string, id: string) {
  const before = await counts(t.sql);
  const [rowBefore] = await t.sql`select * from tasks where id = ${id}`;
  const res = await req;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.code).toBe(code);
  expect(await counts(t.sql)).toEqual(before);
  const [rowAfter] = await t.sql`select * from tasks where id = ${id}`;
  expect(rowAfter).toEqual(rowBefore);
  return res.body;
}

describe('input required', () => {
  it('the assignee asks: input_required, same assignee, no attempt deadline, event input_required with the question; stats and lists count it', async () => {
    const task = await running();
    const res = await t.call('POST', `/api/v1/tasks/${task.id}/input-required`, {
      agent: 'w1',
      body: { question: 'Which quarter?', schema: { type: 'string', enum: ['Q1', 'Q2'] } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      status: 'input_required',
      assignee: 'w1',
      input_timeout_ms: 86_400_000,
      input: { question: 'Which quarter?', schema: { type: 'string', enum: ['Q1', 'Q2'] }, answer: null, answered_at: null },
    });
    const [row] = await t.sql`select deadline_at, heartbeat_deadline_at, input_deadline_at from tasks where id = ${task.id}`;
    expect(row).toEqual({ deadline_at: null, heartbeat_deadline_at: null, input_deadline_at: new Date(now + 86_400_000) });
    const events = await t.call('GET', `/api/v1/tasks/${task.id}/events`);
    const asked = events.body.events.at(-1);
    expect(asked).toMatchObject({ type: 'task.input_required', data: { question: 'Which quarter?', task: { status: 'input_required' } } });

    const list = await t.call('GET', '/api/v1/tasks?status=input_required');
    expect(list.body.tasks.map((x: { id: string }) => x.id)).toContain(task.id);
    await waitFor('stats count it', async () => (await t.call('GET', '/api/v1/stats', { admin: true })).body.input_required >= 1);
    const agents = await t.call('GET', '/api/v1/agents', { admin: true });
    expect(agents.body.agents.find((a: { id: string }) => a.id === 'w1')).toMatchObject({ active_tasks: 1 });

    // Still counted in the limit (1): a new task for w1 is not assigned while it waits.
    const other = await t.call('POST', '/api/v1/tasks', { agent: 'boss', body: { title: 'more', capabilities: ['ask'] } });
    const tick = await schedulerOf(t).runOnce();
    expect(tick.assigned).toEqual([]);
    const explain = await t.call('GET', `/api/v1/tasks/${other.body.id}/explain`);
    expect(explain.body.candidates[0]).toMatchObject({ agent: 'w1', reasons: ['at_limit'] });
    await t.call('PATCH', `/api/v1/tasks/${other.body.id}`, { agent: 'boss', body: { status: 'cancelled' } });
    await t.call('PATCH', `/api/v1/tasks/${task.id}`, { agent: 'boss', body: { status: 'cancelled' } });
  });

  it('refuses: not running → 409, another agent → 403, bad bodies → 400; nothing stored', async () => {
    const task = await running();
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/input-required`, { agent: 'w2', body: { question: 'q' } }), 403, 'not_assignee', task.id);
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/input-required`, { agent: 'w1', body: { question: '' } }), 400, 'validation_failed', task.id);
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/input-required`, { agent: 'w1', body: { question: 5 } }), 400, 'validation_failed', task.id);
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/input-required`, { agent: 'w1', body: {} }), 400, 'validation_failed', task.id);
    const assigned = await insertTask(t.sql, { status: 'assigned', assignee: 'w1' });
    const err = await expectRefused(
      t.call('POST', `/api/v1/tasks/${assigned.id}/input-required`, { agent: 'w1', body: { question: 'q' } }),
      409,
      'invalid_transition',
      assigned.id,
    );
    expect(err.details).toEqual({ from: 'assigned', to: 'input_required' });
    await t.call('PATCH', `/api/v1/tasks/${assigned.id}`, { agent: 'requester-1', body: { status: 'cancelled' } });
    // An answer to a task that is not waiting: 409; from someone else: 403.
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/input`, { agent: 'boss', body: { answer: 'x' } }), 409, 'invalid_transition', task.id);
    await t.call('POST', `/api/v1/tasks/${task.id}/input-required`, { agent: 'w1', body: { question: 'q' } });
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/input`, { agent: 'w1', body: { answer: 'x' } }), 403, 'forbidden', task.id);
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/input`, { agent: 'boss', body: {} }), 400, 'validation_failed', task.id);
    // While it waits, the worker's other reports are refused.
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'w1', body: {} }), 409, 'invalid_transition', task.id);
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: {} }), 409, 'invalid_transition', task.id);
    await t.call('PATCH', `/api/v1/tasks/${task.id}`, { agent: 'boss', body: { status: 'cancelled' } });
  });

  it('the requester answers: running for the same assignee, event input_received; the worker hears it on NATS, SSE and its long-poll', async () => {
    const task = await running();
    const sub = await collect(nats.url, `swarm.task.${task.id}.input_received`);
    try {
      await t.call('POST', `/api/v1/tasks/${task.id}/input-required`, { agent: 'w1', body: { question: 'Which quarter?' } });
      const sse = await openSse(`${t.apiUrl}/api/v1/tasks/${task.id}/events`, { 'x-agent-id': 'w1' });
      // The long-poll is held (nothing assigned to w1, no answer yet) until the answer arrives.
      const poll = t.call('GET', '/api/v1/agents/w1/assignments?wait=30', { agent: 'w1' });
      await waitFor('the long-poll is held', () => t.dispatch.context.waiting.agents.size === 1);
      const answered = await t.call('POST', `/api/v1/tasks/${task.id}/input`, { agent: 'boss', body: { answer: { quarter: 'Q2' } } });
      expect(answered.status, JSON.stringify(answered.body)).toBe(200);
      expect(answered.body).toMatchObject({ status: 'running', assignee: 'w1', input: { question: 'Which quarter?', answer: { quarter: 'Q2' } } });

      const polled = await poll;
      expect(polled.body.tasks.map((x: { id: string; status: string }) => [x.id, x.status])).toEqual([[task.id, 'running']]);
      expect(polled.body.tasks[0].input.answer).toEqual({ quarter: 'Q2' });

      const frames = await sse.until(3);
      expect(frames.map((f) => f.event)).toEqual(['task.created', 'task.input_required', 'task.input_received']);
      expect(frames[2]!.data.data.answer).toEqual({ quarter: 'Q2' });
      sse.kill();

      const msg = await waitFor('the NATS message', () => sub.messages[0]);
      expect(msg.envelope).toMatchObject({ type: 'task.input_received', data: { answer: { quarter: 'Q2' }, task: { status: 'running' } } });

      // The next progress acknowledges the answer: the long-poll no longer lists the task.
      now += 1000;
      await t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'w1', body: { message: 'on it' } });
      expect((await t.call('GET', '/api/v1/agents/w1/assignments', { agent: 'w1' })).body.tasks).toEqual([]);
      const done = await t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: { result: 'Q2 report' } });
      expect(done.body.status).toBe('completed');
      expect(await eventTypes(t.sql, task.id)).toEqual(['created', 'input_required', 'input_received', 'progress', 'completed']);
    } finally {
      await sub.close();
    }
  });

  it('an admin may answer and cancel; a cancelled waiting task keeps its assignee and frees the slot', async () => {
    const task = await running();
    await t.call('POST', `/api/v1/tasks/${task.id}/input-required`, { agent: 'w1', body: { question: 'ok?' } });
    const res = await t.call('POST', `/api/v1/tasks/${task.id}/input`, { agent: 'ops', admin: true, body: { answer: true } });
    expect(res.body).toMatchObject({ status: 'running', input: { answer: true } });
    await t.call('POST', `/api/v1/tasks/${task.id}/input-required`, { agent: 'w1', body: { question: 'again?' } });
    const cancelled = await t.call('PATCH', `/api/v1/tasks/${task.id}`, { agent: 'ops', admin: true, body: { status: 'cancelled' } });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', assignee: 'w1' });
    const [row] = await t.sql`select input_deadline_at from tasks where id = ${task.id}`;
    expect(row!.input_deadline_at).toBeNull();
  });

  it('no answer within input_timeout_ms: timed_out with reason input, within one tick of the deadline', async () => {
    const created = await t.call('POST', '/api/v1/tasks', { agent: 'boss', body: { title: 'ask me', capabilities: ['ask'], input_timeout_ms: 5000 } });
    expect(created.body.input_timeout_ms).toBe(5000);
    const s = schedulerOf(t);
    const id = created.body.id as string;
    await s.runOnce(); // assigns it, unless the create's sync match already did (§17)
    expect((await t.call('GET', `/api/v1/tasks/${id}`)).body).toMatchObject({ status: 'assigned', assignee: 'w1' });
    await t.call('POST', `/api/v1/tasks/${id}/progress`, { agent: 'w1', body: {} });
    await t.call('POST', `/api/v1/tasks/${id}/input-required`, { agent: 'w1', body: { question: 'still there?' } });
    now += 4999;
    expect((await s.runOnce()).inputTimedOut).toBe(0);
    now += 1;
    expect((await s.runOnce()).inputTimedOut).toBe(1);
    const task = await t.call('GET', `/api/v1/tasks/${id}`);
    expect(task.body).toMatchObject({ status: 'timed_out', assignee: 'w1', error: 'no input within 5000 ms' });
    const events = await t.call('GET', `/api/v1/tasks/${id}/events`);
    expect(events.body.events.at(-1)).toMatchObject({ type: 'task.timeout', data: { reason: 'input', will_retry: false } });
    // Not the agent's failure: its track record does not count it.
    const [record] = await t.sql`select timed_out from agent_records where agent = 'w1'`;
    expect(record?.timed_out ?? 0).toBe(0);
  });

  it('input_timeout_ms out of range is refused at create', async () => {
    const before = await counts(t.sql);
    const res = await t.call('POST', '/api/v1/tasks', { agent: 'boss', body: { title: 'x', input_timeout_ms: 0 } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(await counts(t.sql)).toEqual(before);
  });
});
