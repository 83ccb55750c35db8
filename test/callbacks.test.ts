// Callbacks (docs/callbacks.md): a delivery row per matching event, POSTed signed to the task's
// callback_url, retried with backoff until a 2xx, in order per task, never held up by another
// task's endpoint; SSRF rules at create and at send.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { waitFor } from './helpers/wait.js';
import type { Sender } from '../src/callbacks/sender.js';

const SECRET = 'callback-test-secret';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local endpoint: `answer` decides each response (or leaves the request hanging). */
async function endpoint(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      answer(received.length, req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const senderOf = (t: TestApp) => t.dispatch.components.find((c) => c.name === 'callback-sender') as Sender;

const expectedSignature = (ts: string, body: string) => `sha256=${createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`;

describe('callbacks', () => {
  it('an endpoint answering 500 three times then 200 gets the event four times, same delivery id, validly signed, then nothing more', async () => {
    const ep = await endpoint((n, _req, res) => res.writeHead(n <= 3 ? 500 : 200).end());
    let now = new Date(Date.UTC(2026, 0, 1, 12));
    await using t = await startApp({
      clock: { now: () => now },
      random: () => 0.5,
      config: { webhooks: { secret: SECRET, allowed_hosts: ['127.0.0.1'] } },
    });
    const sender = senderOf(t);
    await sender.loop.stop(); // driven by hand: runOnce() on the fake clock
    try {
      const created = await t.call('POST', '/api/v1/tasks', { body: { title: 'call me back', callback_url: ep.url() } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ callback_url: ep.url(), callback_events: null });
      // Not the end of the task: no delivery by default.
      expect((await t.call('GET', `/api/v1/tasks/${created.body.id}/deliveries`)).body).toEqual({ deliveries: [] });
      expect((await t.call('PATCH', `/api/v1/tasks/${created.body.id}`, { body: { status: 'cancelled' } })).status).toBe(200);
      const cancelled = (await t.call('GET', `/api/v1/tasks/${created.body.id}/events`)).body.events.find((e: any) => e.type === 'task.cancelled');

      for (let attempt = 1; attempt <= 4; attempt++) {
        const run = await sender.runOnce();
        expect(run.claimed).toBe(1);
        await run.done;
        expect(ep.received).toHaveLength(attempt);
        const d = (await t.call('GET', `/api/v1/tasks/${created.body.id}/deliveries`)).body.deliveries;
        expect(d).toHaveLength(1);
        expect(d[0]).toMatchObject({ event_id: cancelled.id, type: 'cancelled', attempts: attempt, last_status_code: attempt <= 3 ? 500 : 200 });
        if (attempt <= 3) {
          // Not due before its backoff (random 0.5: half the ceiling, 1 s doubling).
          expect(d[0]).toMatchObject({
            status: 'pending',
            last_error: 'HTTP 500',
            next_attempt_at: new Date(now.getTime() + 500 * 2 ** (attempt - 1)).toISOString(),
          });
          expect((await sender.runOnce()).claimed).toBe(0);
        } else {
          expect(d[0]).toMatchObject({ status: 'delivered', last_error: null, next_attempt_at: null, delivered_at: now.toISOString() });
        }
        now = new Date(now.getTime() + 11 * 60_000);
      }
      expect((await sender.runOnce()).claimed).toBe(0);
      await sender.settled();
      expect(ep.received).toHaveLength(4);
      for (const r of ep.received) {
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers['x-dispatch-event']).toBe('task.cancelled');
        expect(r.headers['x-dispatch-delivery']).toBe(cancelled.id);
        const ts = r.headers['x-dispatch-timestamp'] as string;
        expect(ts).toMatch(/^\d+$/);
        expect(r.headers['x-dispatch-signature-256']).toBe(expectedSignature(ts, r.body));
        expect(JSON.parse(r.body)).toEqual(cancelled);
      }
      // The timestamp is the send time (the fake clock moved 11 min between attempts).
      const stamps = ep.received.map((r) => Number(r.headers['x-dispatch-timestamp']));
      expect(stamps[1]! - stamps[0]!).toBe(11 * 60);
    } finally {
      await ep.close();
    }
  });

  it('sends the listed events of one task in order, each after the one before was delivered', async () => {
    const ep = await endpoint((_n, _req, res) => res.writeHead(204).end());
    const now = new Date(Date.UTC(2026, 0, 1, 12));
    await using t = await startApp({ clock: { now: () => now }, config: { webhooks: { secret: SECRET, allowed_hosts: ['127.0.0.1'] } } });
    const sender = senderOf(t);
    await sender.loop.stop();
    try {
      const { body: task } = await t.call('POST', '/api/v1/tasks', { body: { title: 'all of them', callback_url: ep.url(), callback_events: ['*'] } });
      await t.call('PATCH', `/api/v1/tasks/${task.id}`, { body: { priority: 7 } });
      await t.call('PATCH', `/api/v1/tasks/${task.id}`, { body: { status: 'cancelled' } });
      const types: string[] = [];
      for (;;) {
        const run = await sender.runOnce();
        if (run.claimed === 0) break;
        expect(run.claimed).toBe(1); // only the oldest pending one of the task is ever due
        await run.done;
        types.push(ep.received.at(-1)!.headers['x-dispatch-event'] as string);
      }
      const events = (await t.call('GET', `/api/v1/tasks/${task.id}/events`)).body.events.map((e: any) => e.type);
      expect(types).toEqual(events);
      expect(types[0]).toBe('task.created');
      expect(types.at(-1)).toBe('task.cancelled');
    } finally {
      await ep.close();
    }
  });

  it("an endpoint that hangs does not hold up another task's callback; it fails after its own 5 s", async () => {
    let hanging: ServerResponse | undefined;
    let hangingClosed = false;
    const slow = await endpoint((_n, req, res) => {
      hanging = res; // never answered
      req.socket.on('close', () => (hangingClosed = true));
    });
    const fast = await endpoint((_n, _req, res) => res.writeHead(200).end());
    // The retry's jitter at its top (~1 s after the failed attempt, not a draw that may be ~0 ms),
    // so the failed first attempt is seen before a second one is claimed.
    await using t = await startApp({ config: { webhooks: { secret: SECRET, allowed_hosts: ['127.0.0.1'] } }, random: () => 0.99 });
    try {
      const a = (await t.call('POST', '/api/v1/tasks', { body: { title: 'slow', callback_url: slow.url() } })).body;
      await t.call('PATCH', `/api/v1/tasks/${a.id}`, { body: { status: 'cancelled' } });
      await waitFor(() => slow.received.length === 1, 'the slow endpoint holds a request');
      const b = (await t.call('POST', '/api/v1/tasks', { body: { title: 'fast', callback_url: fast.url() } })).body;
      await t.call('PATCH', `/api/v1/tasks/${b.id}`, { body: { status: 'cancelled' } });
      await waitFor(() => fast.received.length === 1, 'the fast endpoint got its callback');
      // Arrived while the slow endpoint still holds its request open: not queued behind it.
      expect(hangingClosed).toBe(false);
      expect(hanging).toBeDefined();
      const [da] = (await t.call('GET', `/api/v1/tasks/${a.id}/deliveries`)).body.deliveries;
      expect(da).toMatchObject({ status: 'pending', attempts: 1, last_error: null });
      // The slow attempt ends with its own budget: a failed attempt, retried later.
      const failed = await waitFor(
        async () => {
          const [d] = (await t.call('GET', `/api/v1/tasks/${a.id}/deliveries`)).body.deliveries;
          return d.last_error ? d : undefined;
        },
        'the slow attempt given up',
        20_000,
      );
      expect(failed).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, last_error: 'no answer within 5000 ms' });
      expect(hangingClosed).toBe(true);
    } finally {
      await Promise.all([slow.close(), fast.close()]);
    }
  }, 30_000);

  it('refuses loopback and private callback hosts at create (literal or resolved), without a secret, and bad URLs; nothing is stored', async () => {
    await using t = await startApp({ config: { webhooks: { secret: SECRET } } });
    for (const url of [
      'http://127.0.0.1/x',
      'http://localhost:8080/x',
      'http://[::1]/x',
      'http://[::ffff:127.0.0.1]/x',
      'https://10.0.0.8/x',
      'http://169.254.169.254/latest',
    ]) {
      const res = await t.call('POST', '/api/v1/tasks', { body: { title: 't', callback_url: url } });
      expect([url, res.status, res.body.code]).toEqual([url, 400, 'callback_not_allowed']);
    }
    for (const body of [
      { title: 't', callback_url: 'ftp://example.com/x' },
      { title: 't', callback_url: 'http://' },
      { title: 't', callback_url: `https://example.com/${'a'.repeat(2048)}` },
      { title: 't', callback_events: ['completed'] },
      { title: 't', callback_url: 'https://example.com/x', callback_events: ['nope'] },
      { title: 't', callback_url: 'https://example.com/x', callback_events: [] },
    ]) {
      const res = await t.call('POST', '/api/v1/tasks', { body });
      expect([body, res.status, res.body.code]).toEqual([body, 400, 'validation_failed']);
    }
    expect((await t.call('GET', '/api/v1/tasks')).body.tasks).toEqual([]);

    await using off = await startApp({ db: t.db });
    const res = await off.call('POST', '/api/v1/tasks', { body: { title: 't', callback_url: 'https://example.com/x' } });
    expect([res.status, res.body.code]).toEqual([400, 'callbacks_disabled']);
    expect((await off.call('GET', '/api/v1/tasks')).body.tasks).toEqual([]);
  });

  it('re-checks the address at send time: a replica without the allowance refuses the send as a failed attempt', async () => {
    const ep = await endpoint((_n, _req, res) => res.writeHead(200).end());
    try {
      await using a = await startApp({ config: { webhooks: { secret: SECRET, allowed_hosts: ['127.0.0.1', 'localhost'] } } });
      await senderOf(a).loop.stop();
      const ids: string[] = [];
      for (const url of [ep.url(), `http://localhost:${ep.port}/hook`]) {
        const { body: task } = await a.call('POST', '/api/v1/tasks', { body: { title: 't', callback_url: url } });
        await a.call('PATCH', `/api/v1/tasks/${task.id}`, { body: { status: 'cancelled' } });
        ids.push(task.id);
      }
      await using b = await startApp({ db: a.db, config: { webhooks: { secret: SECRET } } });
      const sender = senderOf(b);
      await sender.loop.stop();
      const run = await sender.runOnce();
      expect(run.claimed).toBe(2);
      await run.done;
      for (const id of ids) {
        const [d] = (await b.call('GET', `/api/v1/tasks/${id}/deliveries`)).body.deliveries;
        expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
        expect(d.last_error).toMatch(/not allowed: (127\.0\.0\.1|localhost) resolves to (127\.0\.0\.1|::1) \(loopback\)/);
      }
      expect(ep.received).toHaveLength(0);
    } finally {
      await ep.close();
    }
  });

  it('GET /deliveries of an unknown task is 404, of a bad id 400', async () => {
    await using t = await startApp();
    expect((await t.call('GET', '/api/v1/tasks/5d0c1a7e-8f2b-4e6a-9c3d-000000000001/deliveries')).status).toBe(404);
    expect((await t.call('GET', '/api/v1/tasks/nope/deliveries')).body.code).toBe('invalid_id');
  });
});
