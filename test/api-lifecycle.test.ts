// complete / fail / progress / PATCH / events through the API, on tasks put into a state by the
// factory (the scheduler is not part of these tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, ADMIN_TOKEN, type TestApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { assignedTask, counts, eventTypes } from './helpers/tasks-api.js';

let t: TestApp;
let now = new Date('2031-05-06T07:08:09.000Z');
beforeAll(async () => {
  t = await startApp({
    clock: { now: () => now },
    random: () => 0.5,
    config: { assignment: { retry_backoff_base_ms: 1000, retry_backoff_max_ms: 60_000 } },
  });
});
afterAll(async () => t?.stop());

const metric = async (name: string, labels: Record<string, string>) => {
  const text = await t.dispatch.context.metrics.registry.getSingleMetricAsString(name);
  const sel = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${sel}}`));
  return line ? Number(line.split(' ').pop()) : 0;
};

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

describe('complete', () => {
  it('by the assignee: completed, result stored, assignee kept, deadlines cleared, one completed event', async () => {
    const task = await assignedTask(t.sql, 'w1', { deadline_at: new Date(now.getTime() + 60_000), wake_deadline_at: new Date(now.getTime() + 5000) });
    const before = await metric('dispatch_task_transitions_total', { to: 'completed' });
    const res = await t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: { result: { answer: 42 } } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'completed',
      result: { answer: 42 },
      assignee: 'w1',
      completed_at: now.toISOString(),
      updated_at: now.toISOString(),
    });
    const [row] = await t.sql`select deadline_at, wake_deadline_at from tasks where id = ${task.id}`;
    expect(row).toEqual({ deadline_at: null, wake_deadline_at: null });
    expect(await eventTypes(t.sql, task.id)).toEqual(['created', 'completed']);
    expect(await metric('dispatch_task_transitions_total', { to: 'completed' })).toBe(before + 1);
  });

  it('with no body at all completes with result null; a scalar result is kept', async () => {
    const a = await assignedTask(t.sql, 'w1');
    const res = await t.call('POST', `/api/v1/tasks/${a.id}/complete`, { agent: 'w1' });
    expect(res.status).toBe(200);
    expect(res.body.result).toBeNull();
    const b = await insertTask(t.sql, { status: 'running', assignee: 'w1' });
    const res2 = await t.call('POST', `/api/v1/tasks/${b.id}/complete`, { agent: 'w1', body: { result: 'done' } });
    expect(res2.body).toMatchObject({ status: 'completed', result: 'done' });
  });

  it('from another agent → 403 not_assignee; on pending or terminal → 409 invalid_transition with from/to', async () => {
    const task = await assignedTask(t.sql, 'w1');
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w2', body: {} }), 403, 'not_assignee', task.id);
    const pending = await insertTask(t.sql, {});
    const err = await expectRefused(t.call('POST', `/api/v1/tasks/${pending.id}/complete`, { agent: 'w1', body: {} }), 409, 'invalid_transition', pending.id);
    expect(err.details).toEqual({ from: 'pending', to: 'completed' });
    const done = await insertTask(t.sql, { status: 'completed' });
    const err2 = await expectRefused(t.call('POST', `/api/v1/tasks/${done.id}/complete`, { agent: 'w1', body: {} }), 409, 'invalid_transition', done.id);
    expect(err2.details).toEqual({ from: 'completed', to: 'completed' });
  });

  it('a late report from a former assignee is refused: 403 once another agent holds it, 409 once it is pending', async () => {
    const task = await assignedTask(t.sql, 'w1');
    // w1 loses the task (e.g. wake timeout) and w2 gets it.
    await t.sql`update tasks set assignee = 'w2' where id = ${task.id}`;
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: {} }), 403, 'not_assignee', task.id);
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'w1', body: {} }), 403, 'not_assignee', task.id);
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/fail`, { agent: 'w1', body: { error: 'x' } }), 403, 'not_assignee', task.id);
    await t.sql`update tasks set status = 'pending', assignee = null where id = ${task.id}`;
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: {} }), 409, 'invalid_transition', task.id);
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/fail`, { agent: 'w1', body: { error: 'x' } }), 409, 'invalid_transition', task.id);
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'w1', body: {} }), 409, 'invalid_transition', task.id);
  });
});

describe('fail', () => {
  it('retryable with retries left → pending with backoff, retry_count+1, events failed then retry', async () => {
    const task = await insertTask(t.sql, { status: 'running', assignee: 'w1', retry_count: 1, max_retries: 3, deadline_at: new Date(now.getTime() + 1000) });
    const retriesBefore = await metric('dispatch_retries_total', { reason: 'failed' });
    const res = await t.call('POST', `/api/v1/tasks/${task.id}/fail`, { agent: 'w1', body: { error: 'boom' } });
    expect(res.status).toBe(200);
    // backoff = floor(0.5 × min(60000, 1000 × 2^1)) = 1000 ms
    expect(res.body).toMatchObject({
      status: 'pending',
      assignee: null,
      retry_count: 2,
      error: 'boom',
      completed_at: null,
      not_before: new Date(now.getTime() + 1000).toISOString(),
    });
    const [row] = await t.sql`select queued_at, deadline_at, wake_deadline_at from tasks where id = ${task.id}`;
    expect(row).toEqual({ queued_at: now, deadline_at: null, wake_deadline_at: null });
    const events = (await t.call('GET', `/api/v1/tasks/${task.id}/events`)).body.events;
    expect(events.map((e: any) => e.type)).toEqual(['task.created', 'task.failed', 'task.retry']);
    expect(events[1].data.will_retry).toBe(true);
    expect(events[2].data).toMatchObject({ retry_count: 2, max_retries: 3, reason: 'failed', task: { status: 'pending' } });
    expect(await metric('dispatch_retries_total', { reason: 'failed' })).toBe(retriesBefore + 1);
  });

  it('not retryable → failed, completed_at set, one failed event with will_retry false', async () => {
    const task = await assignedTask(t.sql, 'w1');
    const res = await t.call('POST', `/api/v1/tasks/${task.id}/fail`, { agent: 'w1', body: { error: 'bad input', retryable: false } });
    expect(res.body).toMatchObject({ status: 'failed', assignee: 'w1', error: 'bad input', completed_at: now.toISOString(), retry_count: 0 });
    const events = (await t.call('GET', `/api/v1/tasks/${task.id}/events`)).body.events;
    expect(events.map((e: any) => e.type)).toEqual(['task.created', 'task.failed']);
    expect(events[1].data.will_retry).toBe(false);
  });

  it('retries exhausted, and max_retries 0, → failed', async () => {
    const exhausted = await insertTask(t.sql, { status: 'running', assignee: 'w1', retry_count: 3, max_retries: 3 });
    expect((await t.call('POST', `/api/v1/tasks/${exhausted.id}/fail`, { agent: 'w1', body: { error: 'e' } })).body.status).toBe('failed');
    const never = await insertTask(t.sql, { status: 'assigned', assignee: 'w1', max_retries: 0 });
    expect((await t.call('POST', `/api/v1/tasks/${never.id}/fail`, { agent: 'w1', body: { error: 'e' } })).body.status).toBe('failed');
  });
});

describe('progress', () => {
  it('first report: assigned → running, started_at, events started + progress; later ones keep running', async () => {
    const task = await assignedTask(t.sql, 'w1', { wake_deadline_at: new Date(now.getTime() + 30_000) });
    const first = await t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'w1', body: { message: 'starting', percent: 0 } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      status: 'running',
      started_at: now.toISOString(),
      progress: { message: 'starting', percent: 0, at: now.toISOString() },
    });
    const [row] = await t.sql`select wake_deadline_at from tasks where id = ${task.id}`;
    expect(row!.wake_deadline_at).toBeNull();
    const startedAt = first.body.started_at;
    now = new Date(now.getTime() + 1000);
    const second = await t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'w1', body: { percent: 50.5, data: { step: 2 } } });
    expect(second.body).toMatchObject({ status: 'running', started_at: startedAt, progress: { percent: 50.5, data: { step: 2 }, at: now.toISOString() } });
    expect(second.body.progress.message).toBeUndefined();
    const heartbeat = await t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'w1' });
    expect(heartbeat.status).toBe(200);
    expect(await eventTypes(t.sql, task.id)).toEqual(['created', 'started', 'progress', 'progress', 'progress']);
  });
});

describe('PATCH', () => {
  it('requester cancels a pending task: cancelled, completed_at, one cancelled event', async () => {
    const created = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'to cancel' } });
    const res = await t.call('PATCH', `/api/v1/tasks/${created.body.id}`, { agent: 'alice', body: { status: 'cancelled' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'cancelled', completed_at: now.toISOString(), assignee: null });
    expect(await eventTypes(t.sql, created.body.id)).toEqual(['created', 'cancelled']);
  });

  it('an admin cancels a running task; the worker then gets 409', async () => {
    const task = await insertTask(t.sql, { status: 'running', assignee: 'w1', requester: 'alice' });
    const res = await t.call('PATCH', `/api/v1/tasks/${task.id}`, { agent: 'ops', admin: true, body: { status: 'cancelled' } });
    expect(res.body).toMatchObject({ status: 'cancelled', assignee: 'w1' });
    await expectRefused(t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: {} }), 409, 'invalid_transition', task.id);
  });

  it('someone else → 403 forbidden; a wrong bearer does not make an admin', async () => {
    const task = await insertTask(t.sql, { requester: 'alice' });
    await expectRefused(t.call('PATCH', `/api/v1/tasks/${task.id}`, { agent: 'mallory', body: { status: 'cancelled' } }), 403, 'forbidden', task.id);
    await expectRefused(
      t.call('PATCH', `/api/v1/tasks/${task.id}`, {
        agent: 'mallory',
        body: { status: 'cancelled' },
        headers: { authorization: `Bearer ${ADMIN_TOKEN}x` },
      }),
      403,
      'forbidden',
      task.id,
    );
  });

  it('cancel of a terminal task → 409 with from/to', async () => {
    const task = await insertTask(t.sql, { requester: 'alice', status: 'completed' });
    const err = await expectRefused(
      t.call('PATCH', `/api/v1/tasks/${task.id}`, { agent: 'alice', body: { status: 'cancelled' } }),
      409,
      'invalid_transition',
      task.id,
    );
    expect(err.details).toEqual({ from: 'completed', to: 'cancelled' });
  });

  it('merges context while not terminal, no event; refused once terminal', async () => {
    const task = await insertTask(t.sql, { requester: 'alice', status: 'running', assignee: 'w1', context: { a: 1, b: { c: 1 } } });
    const res = await t.call('PATCH', `/api/v1/tasks/${task.id}`, { agent: 'alice', body: { context: { b: 2, d: 'x' } } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'running', assignee: 'w1', context: { a: 1, b: 2, d: 'x' } });
    expect(await eventTypes(t.sql, task.id)).toEqual(['created']);
    const done = await insertTask(t.sql, { requester: 'alice', status: 'failed' });
    const err = await expectRefused(
      t.call('PATCH', `/api/v1/tasks/${done.id}`, { agent: 'alice', body: { context: { a: 1 } } }),
      409,
      'invalid_transition',
      done.id,
    );
    expect(err.details).toEqual({ from: 'failed', to: 'failed' });
  });

  it('priority changes only while pending', async () => {
    const pending = await insertTask(t.sql, { requester: 'alice', priority: 5 });
    const res = await t.call('PATCH', `/api/v1/tasks/${pending.id}`, { agent: 'alice', body: { priority: 9, context: { k: 1 } } });
    expect(res.body).toMatchObject({ status: 'pending', priority: 9, context: { k: 1 } });
    const running = await insertTask(t.sql, { requester: 'alice', status: 'running', assignee: 'w1' });
    const err = await expectRefused(
      t.call('PATCH', `/api/v1/tasks/${running.id}`, { agent: 'alice', body: { priority: 1 } }),
      409,
      'invalid_transition',
      running.id,
    );
    expect(err.details).toEqual({ from: 'running', to: 'running' });
  });

  it('a merge that would make context larger than 256 KiB → 400', async () => {
    const task = await insertTask(t.sql, { requester: 'alice', context: { big: 'x'.repeat(200 * 1024) } });
    await expectRefused(
      t.call('PATCH', `/api/v1/tasks/${task.id}`, { agent: 'alice', body: { context: { more: 'y'.repeat(100 * 1024) } } }),
      400,
      'validation_failed',
      task.id,
    );
  });
});

describe('events', () => {
  it("serves the task's envelopes oldest first in the §6 shape", async () => {
    const created = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'evented' } });
    await t.call('PATCH', `/api/v1/tasks/${created.body.id}`, { agent: 'alice', body: { status: 'cancelled' } });
    const res = await t.call('GET', `/api/v1/tasks/${created.body.id}/events`, { agent: 'anyone' });
    expect(res.status).toBe(200);
    expect(res.body.events).toHaveLength(2);
    expect(res.body.events[0]).toEqual({
      id: expect.any(String),
      type: 'task.created',
      source: 'dispatch',
      timestamp: now.toISOString(),
      correlation_id: created.body.id,
      event_id: res.body.events[0].id,
      event_type: 'task.created',
      trace_id: created.body.id,
      metadata: { title: 'evented', owner: null, agent: null, status: 'pending', error: null },
      data: { task: created.body },
    });
    expect(res.body.events[1]).toMatchObject({ type: 'task.cancelled', data: { task: { status: 'cancelled' } } });
  });
});
