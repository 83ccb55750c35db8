// Every bad request of issue 3: the right 4xx and code, nothing stored, no event written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startApp, type TestApp } from './helpers/app.js';
import { counts } from './helpers/tasks-api.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t?.stop());

async function expectRefused(req: Promise<{ status: number; body: any }>, status: number, code: string): Promise<any> {
  const before = await counts(t.sql);
  const res = await req;
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ error: expect.any(String), code });
  expect(Object.keys(res.body).every((k) => ['error', 'code', 'details'].includes(k))).toBe(true);
  expect(await counts(t.sql)).toEqual(before);
  return res.body;
}

const create = (body: unknown, opts: { agent?: string | null; headers?: Record<string, string> } = {}) => t.call('POST', '/api/v1/tasks', { body, ...opts });

describe('create: bad bodies → 400 validation_failed, nothing stored', () => {
  const cases: Array<[string, unknown, string?]> = [
    ['missing title', { description: 'no title' }, 'title'],
    ['blank title', { title: '   ' }, 'title'],
    ['empty title', { title: '' }, 'title'],
    ['title of 501 chars', { title: 'x'.repeat(501) }, 'title'],
    ['priority 11', { title: 't', priority: 11 }, 'priority'],
    ['priority -1', { title: 't', priority: -1 }, 'priority'],
    ['priority "high"', { title: 't', priority: 'high' }, 'priority'],
    ['priority "5" (no coercion)', { title: 't', priority: '5' }, 'priority'],
    ['priority 2.5', { title: 't', priority: 2.5 }, 'priority'],
    ['max_retries 21', { title: 't', max_retries: 21 }, 'max_retries'],
    ['timeout_ms 0', { title: 't', timeout_ms: 0 }, 'timeout_ms'],
    ['33 capabilities', { title: 't', capabilities: Array.from({ length: 33 }, (_, i) => `tag${i}`) }, 'capabilities'],
    ['a non-string capability', { title: 't', capabilities: ['ok', 7] }, 'capabilities.1'],
    ['unknown field', { title: 't', status: 'completed' }, 'status'],
    ['context that is an array', { title: 't', context: [1, 2] }, 'context'],
    ['context that is a string', { title: 't', context: 'x' }, 'context'],
    ['parent_id not a UUID', { title: 't', parent_id: 'nope' }, 'parent_id'],
    ['not_before not a timestamp', { title: 't', not_before: 'tomorrow' }, 'not_before'],
    ['a body that is an array', [{ title: 't' }]],
  ];
  for (const [name, body, field] of cases) {
    it(name, async () => {
      const err = await expectRefused(create(body), 400, 'validation_failed');
      if (field) expect(err.details.map((d: { field: string }) => d.field)).toContain(field);
    });
  }

  it('description over 64 KiB', async () => {
    const err = await expectRefused(create({ title: 't', description: 'é'.repeat(40 * 1024) }), 400, 'validation_failed');
    expect(err.details[0].field).toBe('description');
  });

  it('context over 256 KiB serialized', async () => {
    const err = await expectRefused(create({ title: 't', context: { blob: 'x'.repeat(300 * 1024) } }), 400, 'validation_failed');
    expect(err.details[0].field).toBe('context');
  });

  it('a parent that does not exist', async () => {
    const err = await expectRefused(create({ title: 't', parent_id: randomUUID() }), 400, 'validation_failed');
    expect(err.details[0].field).toBe('parent_id');
  });

  it('an idempotency key that is not printable ASCII', async () => {
    await expectRefused(create({ title: 't' }, { headers: { 'idempotency-key': 'has space' } }), 400, 'validation_failed');
  });
});

describe('create: transport problems', () => {
  it('malformed JSON → 400', async () => {
    await expectRefused(
      t.call('POST', '/api/v1/tasks', { rawBody: '{"title": "x",', headers: { 'content-type': 'application/json' } }),
      400,
      'validation_failed',
    );
  });

  it('wrong Content-Type → 415', async () => {
    await expectRefused(
      t.call('POST', '/api/v1/tasks', { rawBody: 'title=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'unsupported_media_type',
    );
  });

  it('a 2 MiB body → 413 payload_too_large', async () => {
    await expectRefused(create({ title: 't', context: { blob: 'x'.repeat(2 * 1024 * 1024) } }), 413, 'payload_too_large');
  });

  it('X-Agent-ID with spaces → 401 missing_agent_id', async () => {
    await expectRefused(create({ title: 't' }, { agent: 'agent with spaces' }), 401, 'missing_agent_id');
  });

  it('no X-Agent-ID → 401 missing_agent_id', async () => {
    await expectRefused(create({ title: 't' }, { agent: null }), 401, 'missing_agent_id');
  });
});

describe('ids, queries and other bodies', () => {
  it('non-UUID id → 400 invalid_id on every :id route', async () => {
    await expectRefused(t.call('GET', '/api/v1/tasks/not-a-uuid'), 400, 'invalid_id');
    await expectRefused(t.call('GET', '/api/v1/tasks/123/events'), 400, 'invalid_id');
    await expectRefused(t.call('PATCH', '/api/v1/tasks/abc', { body: { status: 'cancelled' } }), 400, 'invalid_id');
    await expectRefused(t.call('POST', '/api/v1/tasks/abc/complete', { body: {} }), 400, 'invalid_id');
    await expectRefused(t.call('POST', '/api/v1/tasks/abc/fail', { body: { error: 'x' } }), 400, 'invalid_id');
    await expectRefused(t.call('POST', '/api/v1/tasks/abc/progress', { body: {} }), 400, 'invalid_id');
  });

  it('unknown task → 404 not_found on every :id route', async () => {
    const id = randomUUID();
    await expectRefused(t.call('GET', `/api/v1/tasks/${id}`), 404, 'not_found');
    await expectRefused(t.call('GET', `/api/v1/tasks/${id}/events`), 404, 'not_found');
    await expectRefused(t.call('PATCH', `/api/v1/tasks/${id}`, { body: { status: 'cancelled' } }), 404, 'not_found');
    await expectRefused(t.call('POST', `/api/v1/tasks/${id}/complete`, { body: {} }), 404, 'not_found');
    await expectRefused(t.call('POST', `/api/v1/tasks/${id}/fail`, { body: { error: 'x' } }), 404, 'not_found');
    await expectRefused(t.call('POST', `/api/v1/tasks/${id}/progress`, { body: {} }), 404, 'not_found');
  });

  it('list: unknown status, bad limit, tampered cursor, unknown parameter → 400', async () => {
    await expectRefused(t.call('GET', '/api/v1/tasks?status=pending,done'), 400, 'validation_failed');
    await expectRefused(t.call('GET', '/api/v1/tasks?status=Pending'), 400, 'validation_failed');
    await expectRefused(t.call('GET', '/api/v1/tasks?status='), 400, 'validation_failed');
    await expectRefused(t.call('GET', '/api/v1/tasks?limit=0'), 400, 'validation_failed');
    await expectRefused(t.call('GET', '/api/v1/tasks?limit=501'), 400, 'validation_failed');
    await expectRefused(t.call('GET', '/api/v1/tasks?limit=ten'), 400, 'validation_failed');
    await expectRefused(t.call('GET', '/api/v1/tasks?cursor=garbage'), 400, 'validation_failed');
    await expectRefused(t.call('GET', '/api/v1/tasks?sort=asc'), 400, 'validation_failed');
  });

  it('fail without an error, progress with percent 101, PATCH with nothing to do or a bad status → 400', async () => {
    const task = await create({ title: 'x' });
    const id = task.body.id;
    await expectRefused(t.call('POST', `/api/v1/tasks/${id}/fail`, { body: {} }), 400, 'validation_failed');
    await expectRefused(t.call('POST', `/api/v1/tasks/${id}/fail`, { body: { error: 'x', retryable: 'yes' } }), 400, 'validation_failed');
    await expectRefused(t.call('POST', `/api/v1/tasks/${id}/progress`, { body: { percent: 101 } }), 400, 'validation_failed');
    await expectRefused(t.call('POST', `/api/v1/tasks/${id}/progress`, { body: { data: [1] } }), 400, 'validation_failed');
    await expectRefused(t.call('POST', `/api/v1/tasks/${id}/complete`, { body: { result: 1, extra: true } }), 400, 'validation_failed');
    await expectRefused(t.call('PATCH', `/api/v1/tasks/${id}`, { body: {} }), 400, 'validation_failed');
    await expectRefused(t.call('PATCH', `/api/v1/tasks/${id}`, { body: { status: 'completed' } }), 400, 'validation_failed');
    await expectRefused(t.call('PATCH', `/api/v1/tasks/${id}`, { body: { title: 'renamed' } }), 400, 'validation_failed');
    await expectRefused(t.call('PATCH', `/api/v1/tasks/${id}`, { body: { context: [1] } }), 400, 'validation_failed');
    await expectRefused(t.call('PATCH', `/api/v1/tasks/${id}`, { body: { priority: 11 } }), 400, 'validation_failed');
  });
});
