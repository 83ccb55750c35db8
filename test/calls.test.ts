// Call tasks and endpoint agents (CONTRACT §18, docs/calls.md), end to end: a real Dispatch, a
// real HTTP receiver on 127.0.0.1, real Postgres. The outcome table of §18.1, the headers and the
// idempotency key, streamed answers, attempts, bad input, secrets, two replicas and a restart
// mid-call, and agents that are endpoints.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartOptions, type TestApp } from './helpers/app.js';
import { createTestDatabase } from './helpers/db.js';
import { json, startReceiver, type Receiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';

const SECRET = 'sk-test-call-SECRET-7f3a';
const SERVICE_TOKEN = 'svc-jwt-SERVICE-TOKEN-91b2';

const baseConfig = (extra: Record<string, unknown> = {}): StartOptions['config'] =>
  ({
    http_work: { allowed_hosts: ['127.0.0.1'], credentials: { edge: SECRET }, ...extra },
    assignment: { tick_interval_ms: 100, retry_backoff_base_ms: 20, retry_backoff_max_ms: 40 },
  }) as StartOptions['config'];

const TERMINAL = ['completed', 'failed', 'timed_out', 'cancelled'];

async function create(t: TestApp, body: Record<string, unknown>) {
  const res = await t.call('POST', '/api/v1/tasks', { agent: 'wisely', body: { title: 'call it', ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; status: string; assignee: string | null; call: Record<string, unknown> };
}

const get = async (t: TestApp, id: string) => (await t.call('GET', `/api/v1/tasks/${id}`)).body;
const ended = (t: TestApp, id: string, timeoutMs = 15_000) =>
  waitFor(
    async () => {
      const task = await get(t, id);
      return TERMINAL.includes(task.status) ? task : undefined;
    },
    `task ${id} to end`,
    timeoutMs,
  );
const eventTypes = async (t: TestApp, id: string) =>
  ((await t.call('GET', `/api/v1/tasks/${id}/events`)).body.events as { type: string }[]).map((e) => e.type.replace('task.', ''));
const attempts = async (t: TestApp, id: string) => (await t.call('GET', `/api/v1/tasks/${id}/attempts`)).body.attempts as Record<string, unknown>[];

describe('call tasks', () => {
  let t: TestApp;
  let rx: Receiver;
  const logs: string[] = [];
  beforeAll(async () => {
    rx = await startReceiver();
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    });
    t = await startApp({ config: baseConfig({ service_token: SERVICE_TOKEN }), logger: pino({ level: 'debug' }, sink) });
  });
  afterAll(async () => {
    await t?.stop();
    await rx?.close();
  });

  it('2xx JSON completes with the body as result; every §18.1 header, the context as body by default, assignee dispatch:http', async () => {
    rx.on('/ok', (_req, res) => json(res, 200, { answer: 42 }));
    const task = await create(t, {
      context: { user: 'u1' },
      call: { url: rx.url('/ok'), headers: { 'X-Extra': 'v' }, credential: 'edge' },
    });
    expect(task.call).toEqual({ url: rx.url('/ok'), method: 'POST', headers: { 'X-Extra': 'v' }, credential: 'edge', timeout_ms: 15000 });
    const done = await ended(t, task.id);
    expect(done).toMatchObject({ status: 'completed', assignee: 'dispatch:http', result: { answer: 42 }, retry_count: 0 });
    const [r] = rx.to('/ok');
    expect(r!.method).toBe('POST');
    expect(r!.headers).toMatchObject({
      authorization: `Bearer ${SECRET}`,
      'x-idempotency-key': task.id,
      'x-dispatch-task-id': task.id,
      'x-dispatch-attempt': '1',
      'content-type': 'application/json',
      'x-extra': 'v',
    });
    expect(JSON.parse(r!.body)).toEqual({ user: 'u1' });
    expect(await eventTypes(t, task.id)).toEqual(['created', 'assigned', 'started', 'completed']);
    expect(await attempts(t, task.id)).toEqual([
      expect.objectContaining({ attempt: 1, agent: 'dispatch:http', outcome: 'completed', status_code: 200, finished_at: expect.any(String) }),
    ]);
  });

  it('without a credential the service token is sent; GET sends no body; a non-JSON answer is kept as {status, body}', async () => {
    rx.on('/text', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('plain words'));
    const task = await create(t, { context: { ignored: true }, call: { url: rx.url('/text'), method: 'GET' } });
    expect((await ended(t, task.id)).result).toEqual({ status: 200, body: 'plain words' });
    const [r] = rx.to('/text');
    expect(r!.method).toBe('GET');
    expect(r!.body).toBe('');
    expect(r!.headers.authorization).toBe(`Bearer ${SERVICE_TOKEN}`);
  });

  it('ok:false is a retryable failure: the next attempt has the same X-Idempotency-Key and the next X-Dispatch-Attempt', async () => {
    rx.on('/flaky', (_req, res, _r, n) => json(res, 200, n === 1 ? { ok: false, error: 'not yet' } : { ok: true, n }));
    const task = await create(t, { call: { url: rx.url('/flaky'), body: { x: 1 } } });
    const done = await ended(t, task.id);
    expect(done).toMatchObject({ status: 'completed', retry_count: 1, result: { ok: true, n: 2 } });
    const reqs = rx.to('/flaky');
    expect(reqs.map((r) => r.headers['x-idempotency-key'])).toEqual([task.id, task.id]);
    expect(reqs.map((r) => r.headers['x-dispatch-attempt'])).toEqual(['1', '2']);
    expect(reqs.map((r) => JSON.parse(r.body))).toEqual([{ x: 1 }, { x: 1 }]);
    const a = await attempts(t, task.id);
    expect(a.map((x) => [x.attempt, x.outcome, x.status_code, x.error])).toEqual([
      [1, 'failed', 200, 'not yet'],
      [2, 'completed', 200, undefined],
    ]);
  });

  it('any other 4xx fails at once without a retry, the answer in error', async () => {
    rx.on('/gone', (_req, res) => json(res, 404, { error: 'no such flow' }));
    const task = await create(t, { max_retries: 3, call: { url: rx.url('/gone') } });
    const done = await ended(t, task.id);
    expect(done).toMatchObject({ status: 'failed', retry_count: 0 });
    expect(done.error).toContain('HTTP 404');
    expect(done.error).toContain('no such flow');
    expect(rx.to('/gone')).toHaveLength(1);
    const types = await eventTypes(t, task.id);
    expect(types).toEqual(['created', 'assigned', 'started', 'failed']);
    expect((await attempts(t, task.id))[0]).toMatchObject({ outcome: 'failed', status_code: 404 });
  });

  it('5xx is retried until max_retries, then failed; 429 with a Retry-After later than the backoff sets not_before', async () => {
    rx.on('/down', (_req, res) => res.writeHead(503).end('busy'));
    const down = await create(t, { max_retries: 1, call: { url: rx.url('/down') } });
    expect(await ended(t, down.id)).toMatchObject({ status: 'failed', retry_count: 1 });
    expect(rx.to('/down')).toHaveLength(2);

    rx.on('/slow-down', (_req, res, _r, n) => (n === 1 ? json(res, 429, { error: 'rate' }, { 'retry-after': '2' }) : json(res, 200, { ok: true })));
    const limited = await create(t, { call: { url: rx.url('/slow-down') } });
    const waiting = await waitFor(async () => {
      const x = await get(t, limited.id);
      return x.retry_count === 1 ? x : undefined;
    }, 'the retry');
    const failedAt = rx.to('/slow-down')[0]!.at;
    expect(new Date(waiting.not_before).getTime() - failedAt).toBeGreaterThanOrEqual(1500);
    expect(await ended(t, limited.id)).toMatchObject({ status: 'completed', retry_count: 1 });
    const reqs = rx.to('/slow-down');
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(1500);
  });

  it('an answer slower than the call timeout times the attempt out: retried, then timed_out', async () => {
    rx.on('/hang', () => {}); // never answers
    const task = await create(t, { max_retries: 1, call: { url: rx.url('/hang'), timeout_ms: 300 } });
    const done = await ended(t, task.id);
    expect(done).toMatchObject({ status: 'timed_out', retry_count: 1, error: 'attempt timed out after 300 ms' });
    expect(rx.to('/hang').map((r) => r.headers['x-dispatch-attempt'])).toEqual(['1', '2']);
    expect((await attempts(t, task.id)).map((a) => [a.outcome, a.status_code])).toEqual([
      ['timed_out', null],
      ['timed_out', null],
    ]);
  });

  it('a connection reset is a retryable failure', async () => {
    rx.on('/reset', (req, res, _r, n) => (n === 1 ? req.socket.destroy() : json(res, 200, { ok: true })));
    const task = await create(t, { call: { url: rx.url('/reset') } });
    expect(await ended(t, task.id)).toMatchObject({ status: 'completed', retry_count: 1 });
    const a = await attempts(t, task.id);
    expect(a[0]).toMatchObject({ outcome: 'failed', status_code: null });
    expect(String(a[0]!.error)).toMatch(/reset|socket|closed/i);
  });

  it('an NDJSON answer: each line a progress report as it arrives, the last one the result, the lines the attempt log', async () => {
    rx.on('/ndjson', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"step":1}\n');
      res.write('{"step":2}\n\n');
      res.end('{"done":true,"text":"hi"}');
    });
    const task = await create(t, { call: { url: rx.url('/ndjson') } });
    const done = await ended(t, task.id);
    expect(done).toMatchObject({ status: 'completed', result: { done: true, text: 'hi' } });
    const events = (await t.call('GET', `/api/v1/tasks/${task.id}/events`)).body.events as {
      type: string;
      data: { task: { progress: { message: string } } };
    }[];
    expect(events.filter((e) => e.type === 'task.progress').map((e) => e.data.task.progress.message)).toEqual([
      '{"step":1}',
      '{"step":2}',
      '{"done":true,"text":"hi"}',
    ]);
    expect((await attempts(t, task.id))[0]).toMatchObject({ outcome: 'completed', log: '{"step":1}\n{"step":2}\n{"done":true,"text":"hi"}' });
  });

  it('an SSE answer: each event (its data lines) a progress report; comments read past; the last event the result', async () => {
    rx.on('/sse', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.write(': keep-alive\n\n');
      res.write('event: chunk\ndata: {"delta":"Hel"}\n\n');
      res.write('data: plain\ndata: two lines\n\n');
      res.end('data: {"output":"Hello"}\n\n');
    });
    const task = await create(t, { call: { url: rx.url('/sse') } });
    expect(await ended(t, task.id)).toMatchObject({ status: 'completed', result: { output: 'Hello' } });
    expect((await attempts(t, task.id))[0]!.log).toBe('{"delta":"Hel"}\nplain\ntwo lines\n{"output":"Hello"}');
  });

  it('bad input is refused at create and nothing is stored: unknown credential, private address, a path without base_url, a reserved header', async () => {
    const before = (await t.sql<{ n: number }[]>`select count(*)::int as n from tasks`)[0]!.n;
    const cases: [Record<string, unknown>, number, string][] = [
      [{ url: rx.url('/ok'), credential: 'nobody' }, 400, 'validation_failed'],
      [{ url: 'http://10.1.2.3/x' }, 400, 'call_not_allowed'],
      [{ url: 'http://[::1]:9/x' }, 400, 'call_not_allowed'],
      [{ url: 'http://169.254.169.254/latest/meta-data' }, 400, 'call_not_allowed'],
      [{ url: '/functions/v1/snapshot' }, 400, 'validation_failed'],
      [{ url: rx.url('/ok'), headers: { Authorization: 'Bearer mine' } }, 400, 'validation_failed'],
      [{ url: rx.url('/ok'), timeout_ms: 50 }, 400, 'validation_failed'],
      [{ url: 'ftp://example.com/x' }, 400, 'validation_failed'],
      [{ url: rx.url('/ok'), method: 'TRACE' }, 400, 'validation_failed'],
    ];
    for (const [call, status, code] of cases) {
      const res = await t.call('POST', '/api/v1/tasks', { agent: 'wisely', body: { title: 'bad', call } });
      expect([res.status, res.body.code], JSON.stringify(call)).toEqual([status, code]);
      expect(JSON.stringify(res.body)).not.toContain('stack');
    }
    const timeoutAboveTask = await t.call('POST', '/api/v1/tasks', {
      agent: 'wisely',
      body: { title: 'bad', timeout_ms: 1000, call: { url: rx.url('/ok'), timeout_ms: 5000 } },
    });
    expect([timeoutAboveTask.status, timeoutAboveTask.body.code]).toEqual([400, 'validation_failed']);
    expect((await t.sql<{ n: number }[]>`select count(*)::int as n from tasks`)[0]!.n).toBe(before);
  });

  it('no agent may report on a call task, not even one calling itself dispatch:http', async () => {
    rx.on('/hold', () => {});
    const task = await create(t, { call: { url: rx.url('/hold'), timeout_ms: 2000 }, max_retries: 0 });
    await waitFor(async () => (await get(t, task.id)).status === 'running', 'running');
    const res = await t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'dispatch:http', body: { result: 'forged' } });
    expect([res.status, res.body.code]).toEqual([403, 'not_assignee']);
    const cancelled = await t.call('PATCH', `/api/v1/tasks/${task.id}`, { agent: 'wisely', body: { status: 'cancelled' } });
    expect(cancelled.body.status).toBe('cancelled');
  });

  it('secrets never appear in a log, an event, a task or an answer', async () => {
    rx.on('/secret', (_req, res) => json(res, 500, { error: 'boom' }));
    const task = await create(t, { max_retries: 0, call: { url: rx.url('/secret'), credential: 'edge' } });
    await ended(t, task.id);
    expect(rx.to('/secret')[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
    const answers = [
      await t.call('GET', `/api/v1/tasks/${task.id}`),
      await t.call('GET', `/api/v1/tasks/${task.id}/events`),
      await t.call('GET', `/api/v1/tasks/${task.id}/attempts`),
      await t.call('GET', '/api/v1/tasks?limit=500'),
    ];
    const stored = await t.sql`select envelope::text from task_events`;
    const all = [...answers.map((a) => JSON.stringify(a.body)), ...stored.map((r) => String(r.envelope)), logs.join('')];
    expect(logs.length).toBeGreaterThan(0);
    for (const s of all) {
      expect(s).not.toContain(SECRET);
      expect(s).not.toContain(SERVICE_TOKEN);
    }
  });

  it('a workflow step with a call completes its run; a schedule template accepts a call', async () => {
    rx.on('/step', (_req, res) => json(res, 200, { ok: true, step: 'a' }));
    const put = await t.call('PUT', '/api/v1/workflows/calls-wf', {
      body: { steps: [{ id: 'a', task: { title: 'a', call: { url: rx.url('/step') } } }] },
    });
    expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
    const run = (await t.call('POST', '/api/v1/workflows/calls-wf/runs', { agent: 'wisely', body: {} })).body;
    await waitFor(async () => (await t.call('GET', `/api/v1/runs/${run.id}`)).body.status === 'completed', 'the run to complete');
    const badStep = await t.call('PUT', '/api/v1/workflows/calls-bad', {
      body: { steps: [{ id: 'a', task: { title: 'a', call: { url: rx.url('/step'), credential: 'nobody' } } }] },
    });
    expect(badStep.status).toBe(400);
    const sched = await t.call('POST', '/api/v1/schedules', {
      agent: 'wisely',
      body: { name: 'calls-sched', cron: '0 7 * * *', task: { title: 's', call: { url: rx.url('/step'), method: 'PUT' } } },
    });
    expect(sched.status, JSON.stringify(sched.body)).toBe(201);
    expect(sched.body.task.call).toEqual({ url: rx.url('/step'), method: 'PUT' });
  });
});

describe('call tasks across replicas and restarts', () => {
  it('two replicas on one database never send one attempt twice', async () => {
    const db = await createTestDatabase();
    const rx = await startReceiver({ '/work': (_req, res) => setTimeout(() => json(res, 200, { ok: true }), 5) });
    try {
      const config = baseConfig({ per_host: 8, max_in_flight: 8 });
      await using a = await startApp({ db, config });
      await using b = await startApp({ db, config });
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) ids.push((await create(i % 2 ? a : b, { call: { url: rx.url('/work') } })).id);
      for (const id of ids) expect((await ended(a, id)).status).toBe('completed');
      const keys = rx.to('/work').map((r) => `${r.headers['x-idempotency-key']}#${r.headers['x-dispatch-attempt']}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys).toHaveLength(60);
      expect(new Set(rx.to('/work').map((r) => r.headers['x-idempotency-key']))).toEqual(new Set(ids));
    } finally {
      await rx.close();
      await db.drop();
    }
  });

  it('a replica stopped mid-call: a new one neither loses the task nor repeats the attempt; the retry carries the same X-Idempotency-Key', async () => {
    const db = await createTestDatabase();
    const rx = await startReceiver({ '/long': (_req, res, _r, n) => (n === 1 ? undefined : json(res, 200, { ok: true, n })) });
    try {
      const config = baseConfig();
      const first = await startApp({ db, config });
      const task = await create(first, { call: { url: rx.url('/long'), timeout_ms: 2500 } });
      await waitFor(() => rx.to('/long').length === 1, 'the first request');
      await first.stop(); // the request still hangs
      await using second = await startApp({ db, config });
      const done = await ended(second, task.id, 20_000);
      expect(done).toMatchObject({ status: 'completed', retry_count: 1, result: { ok: true, n: 2 } });
      const reqs = rx.to('/long');
      expect(reqs.map((r) => [r.headers['x-idempotency-key'], r.headers['x-dispatch-attempt']])).toEqual([
        [task.id, '1'],
        [task.id, '2'],
      ]);
      expect((await attempts(second, task.id)).map((x) => x.outcome)).toEqual(['timed_out', 'completed']);
    } finally {
      await rx.close();
      await db.drop();
    }
  });
});

describe('call tasks and agents', () => {
  it('an agent never gets a call task: not by the sync match, not by a tick, even with the executor full and an agent that takes anything', async () => {
    const rx = await startReceiver({ '/hold': () => {} });
    try {
      await using t = await startApp({
        config: {
          ...baseConfig({ max_in_flight: 1 }),
          agents: [{ id: 'any', name: 'Any', capabilities: [], state: 'ready' }],
        } as StartOptions['config'],
      });
      const first = await create(t, { call: { url: rx.url('/hold'), timeout_ms: 10_000 } });
      const second = await create(t, { call: { url: rx.url('/hold'), timeout_ms: 10_000 } });
      expect([first.assignee, second.assignee]).toEqual([null, null]);
      await waitFor(() => rx.to('/hold').length === 1, 'the first call');
      const plain = await create(t, { title: 'for an agent' });
      await waitFor(async () => (await get(t, plain.id)).assignee === 'any', 'the agent task assigned');
      const scheduler = t.dispatch.components.find((c) => c.name === 'scheduler') as unknown as { runOnce(): Promise<unknown> };
      await scheduler.runOnce();
      expect(await get(t, first.id)).toMatchObject({ status: 'running', assignee: 'dispatch:http' });
      expect(await get(t, second.id)).toMatchObject({ status: 'pending', assignee: null });
      expect(await eventTypes(t, second.id)).toEqual(['created']);
      const metrics = await (await fetch(`${t.opsUrl}/metrics`)).text();
      expect(metrics).toMatch(/dispatch_calls_in_flight\{kind="call"\} 1/);
    } finally {
      await rx.close();
    }
  });

  it('the address is checked again at connect: a host no longer allowed fails the attempt at once, no request sent', async () => {
    const db = await createTestDatabase();
    const rx = await startReceiver({ '/ok': (_req, res) => json(res, 200, { ok: true }) });
    try {
      const allowing = await startApp({ db, config: baseConfig() });
      const task = await create(allowing, { not_before: new Date(Date.now() + 1500).toISOString(), call: { url: rx.url('/ok') } });
      await allowing.stop();
      await using strict = await startApp({ db, config: baseConfig({ allowed_hosts: [] }) });
      const done = await ended(strict, task.id);
      expect(done).toMatchObject({ status: 'failed', retry_count: 0 });
      expect(done.error).toMatch(/not allowed.*127\.0\.0\.1.*loopback/);
      expect(rx.to('/ok')).toHaveLength(0);
      const metrics = await (await fetch(`${strict.opsUrl}/metrics`)).text();
      expect(metrics).toMatch(/dispatch_call_attempts_total\{kind="call",outcome="failed"\} 1/);
    } finally {
      await rx.close();
      await db.drop();
    }
  });
});

describe('endpoint agents', () => {
  it('a task assigned to an endpoint agent is POSTed as the Task: 200 completes it, 202 leaves it running for the agent to report, 500 is a failed attempt', async () => {
    const rx = await startReceiver({
      '/agent': (_req, res, r) => {
        const task = JSON.parse(r.body) as { title: string };
        if (task.title === 'now') return json(res, 200, { summary: 'done at once' });
        if (task.title === 'later') return json(res, 202, { accepted: true });
        return json(res, 500, { error: 'crashed' });
      },
    });
    try {
      await using t = await startApp({
        config: {
          ...baseConfig(),
          agents: [{ id: 'pusher', name: 'Pusher', capabilities: ['push'], state: 'ready', endpoint: { url: rx.url('/agent'), credential: 'edge' } }],
        } as StartOptions['config'],
      });
      const now = await create(t, { title: 'now', scope: 'push' });
      expect(await ended(t, now.id)).toMatchObject({ status: 'completed', assignee: 'pusher', result: { summary: 'done at once' } });
      const [r] = rx.to('/agent');
      expect(r!.headers).toMatchObject({
        'x-dispatch-agent': 'pusher',
        'x-idempotency-key': now.id,
        'x-dispatch-task-id': now.id,
        'x-dispatch-attempt': '1',
        authorization: `Bearer ${SECRET}`,
        'content-type': 'application/json',
      });
      expect(JSON.parse(r!.body)).toMatchObject({ id: now.id, title: 'now', status: 'running', assignee: 'pusher' });

      const later = await create(t, { title: 'later', scope: 'push' });
      await waitFor(() => rx.to('/agent').length === 2, 'the push');
      await waitFor(async () => (await t.call('GET', `/api/v1/tasks/${later.id}/attempts`)).body.attempts.length === 1, 'the attempt');
      expect((await get(t, later.id)).status).toBe('running');
      const reported = await t.call('POST', `/api/v1/tasks/${later.id}/complete`, { agent: 'pusher', body: { result: 'reported' } });
      expect(reported.body).toMatchObject({ status: 'completed', result: 'reported' });

      const broken = await create(t, { title: 'broken', scope: 'push', max_retries: 0 });
      const failed = await ended(t, broken.id);
      expect(failed.status).toBe('failed');
      expect(failed.error).toContain('HTTP 500');
      expect((await attempts(t, broken.id))[0]).toMatchObject({ agent: 'pusher', outcome: 'failed', status_code: 500 });
    } finally {
      await rx.close();
    }
  });
});
