import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTask, parseCreateTaskBody } from '../src/services/tasks.js';
import { ValidationError } from '../src/errors.js';
import { startApp, type TestApp } from './helpers/app.js';
import { counts, eventTypes } from './helpers/tasks-api.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp({ config: { assignment: { default_timeout_ms: 123_000 } } });
});
afterAll(async () => t?.stop());

describe('POST /api/v1/tasks', () => {
  it('creates a pending task with every default, a Location header and a created event', async () => {
    const before = await counts(t.sql);
    const res = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'Write the report' } });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/tasks/${res.body.id}`);
    expect(res.body).toMatchObject({
      title: 'Write the report',
      description: null,
      requester: 'alice',
      owner: null,
      scope: null,
      capabilities: [],
      priority: 5,
      status: 'pending',
      assignee: null,
      context: {},
      progress: null,
      result: null,
      error: null,
      timeout_ms: 123_000,
      max_retries: 3,
      retry_count: 0,
      parent_id: null,
      not_before: null,
      assigned_at: null,
      started_at: null,
      completed_at: null,
    });
    expect(res.body.created_at).toBe(res.body.updated_at);
    expect(await counts(t.sql)).toMatchObject({ tasks: before.tasks + 1, events: before.events + 1 });
    expect(await eventTypes(t.sql, res.body.id)).toEqual(['created']);
    // The created event carries exactly the stored task.
    const events = await t.call('GET', `/api/v1/tasks/${res.body.id}/events`, { agent: 'alice' });
    expect(events.body.events[0].data.task).toEqual(res.body);
    const withCaps = await t.call('POST', '/api/v1/tasks', {
      agent: 'alice',
      body: {
        title: 'Tagged',
        scope: 'Research',
        capabilities: ['Web'],
        priority: 7,
        context: { a: [1, { b: null }] },
        not_before: '2030-01-01T00:00:00.000Z',
      },
    });
    const withCapsEvents = await t.call('GET', `/api/v1/tasks/${withCaps.body.id}/events`, { agent: 'alice' });
    expect(withCapsEvents.body.events[0].data.task).toEqual(withCaps.body);
    const [row] = await t.sql`select queued_at, created_at, required_tags from tasks where id = ${res.body.id}`;
    expect(row!.queued_at.getTime()).toBe(row!.created_at.getTime());

    const got = await t.call('GET', `/api/v1/tasks/${res.body.id}`, { agent: 'bob' });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('honours every accepted field, an explicit max_retries 0, and lower-cases capabilities', async () => {
    const parent = await t.call('POST', '/api/v1/tasks', { body: { title: 'parent' } });
    const res = await t.call('POST', '/api/v1/tasks', {
      agent: 'alice',
      body: {
        title: 'child',
        description: 'd',
        owner: 'org-1',
        scope: 'Research',
        capabilities: ['Web-Search', ' Analysis '],
        priority: 9,
        context: { a: 1, nested: { b: [1, 2] } },
        timeout_ms: 5000,
        max_retries: 0,
        parent_id: parent.body.id,
        not_before: '2030-01-02T03:04:05.000Z',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      description: 'd',
      owner: 'org-1',
      scope: 'Research',
      capabilities: ['web-search', 'analysis'],
      priority: 9,
      context: { a: 1, nested: { b: [1, 2] } },
      timeout_ms: 5000,
      max_retries: 0,
      parent_id: parent.body.id,
      not_before: '2030-01-02T03:04:05.000Z',
    });
    const [row] = await t.sql`select required_tags from tasks where id = ${res.body.id}`;
    expect(row!.required_tags).toEqual(['analysis', 'research', 'web-search']);
  });

  it('counts created tasks in dispatch_tasks_created_total and signals the scheduler', async () => {
    let signalled = 0;
    const on = () => signalled++;
    t.dispatch.context.signals.on('assign-needed', on);
    const before = (await t.dispatch.context.metrics.tasksCreated.get()).values[0]?.value ?? 0;
    await t.call('POST', '/api/v1/tasks', { body: { title: 'counted' } });
    const after = (await t.dispatch.context.metrics.tasksCreated.get()).values[0]?.value ?? 0;
    t.dispatch.context.signals.off('assign-needed', on);
    expect(after).toBe(before + 1);
    expect(signalled).toBe(1);
  });
});

describe('Idempotency-Key', () => {
  it('returns the original task with 200 for the same key, requester and body', async () => {
    const body = { title: 'once', context: { x: 1, y: 2 } };
    const first = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body, headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(201);
    const before = await counts(t.sql);
    // Same body with keys in another order is the same body.
    const again = await t.call('POST', '/api/v1/tasks', {
      agent: 'alice',
      body: { context: { y: 2, x: 1 }, title: 'once' },
      headers: { 'idempotency-key': 'k-1' },
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.location).toBe(`/api/v1/tasks/${first.body.id}`);
    expect(await counts(t.sql)).toEqual(before);
  });

  it('answers 409 idempotency_conflict for a different body with the same key', async () => {
    await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'a' }, headers: { 'idempotency-key': 'k-2' } });
    const before = await counts(t.sql);
    const res = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'b' }, headers: { 'idempotency-key': 'k-2' } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('idempotency_conflict');
    expect(await counts(t.sql)).toEqual(before);
  });

  it('scopes keys per requester', async () => {
    const a = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'same' }, headers: { 'idempotency-key': 'k-3' } });
    const b = await t.call('POST', '/api/v1/tasks', { agent: 'bob', body: { title: 'same' }, headers: { 'idempotency-key': 'k-3' } });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body.id).not.toBe(a.body.id);
  });

  it('forgets a key after 24 hours', async () => {
    const first = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'old' }, headers: { 'idempotency-key': 'k-4' } });
    await t.sql`update idempotency_keys set created_at = created_at - interval '25 hours' where key = 'k-4'`;
    const second = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'new' }, headers: { 'idempotency-key': 'k-4' } });
    expect(second.status).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it('creates one task for 10 concurrent creates with one key', async () => {
    const before = await counts(t.sql);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.call('POST', '/api/v1/tasks', { agent: 'carol', body: { title: 'racing' }, headers: { 'idempotency-key': 'k-race' } }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const after = await counts(t.sql);
    expect(after.tasks).toBe(before.tasks + 1);
    expect(after.events).toBe(before.events + 1);
    const [row] = await t.sql`select count(*)::int as n from tasks where requester = 'carol'`;
    expect(row!.n).toBe(1);
  });
});

describe('createTask for other entry points (swarm.task.request)', () => {
  it('parseCreateTaskBody applies the same validation as POST', () => {
    expect(parseCreateTaskBody({ title: 'ok', priority: 3 })).toEqual({ title: 'ok', priority: 3 });
    for (const bad of [
      {},
      { title: '' },
      { title: 't', priority: 11 },
      { title: 't', extra: 1 },
      { title: 't', context: [] },
      { title: 't', description: 'é'.repeat(40 * 1024) },
      'not an object',
    ]) {
      expect(() => parseCreateTaskBody(bad)).toThrow(ValidationError);
    }
  });

  it('createTask stores the task and its created event like POST does', async () => {
    const { task, created } = await createTask(t.dispatch.context, 'nats-requester', parseCreateTaskBody({ title: 'from NATS', capabilities: ['X'] }));
    expect(created).toBe(true);
    expect(task).toMatchObject({ requester: 'nats-requester', capabilities: ['x'], status: 'pending' });
    expect(await eventTypes(t.sql, task.id)).toEqual(['created']);
  });

  it('a refused create does not use up its Idempotency-Key', async () => {
    const bad = await t.call('POST', '/api/v1/tasks', {
      agent: 'dave',
      body: { title: 't', parent_id: randomUUID() },
      headers: { 'idempotency-key': 'k-bad' },
    });
    expect(bad.status).toBe(400);
    const [k] = await t.sql`select count(*)::int as n from idempotency_keys where key = 'k-bad'`;
    expect(k!.n).toBe(0);
    const good = await t.call('POST', '/api/v1/tasks', { agent: 'dave', body: { title: 'other' }, headers: { 'idempotency-key': 'k-bad' } });
    expect(good.status).toBe(201);
  });
});
