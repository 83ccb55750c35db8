// The worker of @dispatch/client (CONTRACT §22) against a real Dispatch: the concurrency cap, a
// throw (failed, retried), NonRetryableError (failed for good), progress, heartbeats keeping a long
// task alive past its heartbeat timeout. The SIGTERM drain is in client-worker-drain.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { createWorker, NonRetryableError, type Worker, type WorkerEvent, type WorkerOptions } from '../packages/client/src/index.js';
import { startApp, type TestApp } from './helpers/app.js';
import { waitFor } from './helpers/wait.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp({
    config: {
      assignment: { max_concurrent_per_agent: 10, tick_interval_ms: 100, retry_backoff_base_ms: 10, retry_backoff_max_ms: 50 },
      agents: ['w-cap', 'w-throw', 'w-final', 'w-progress', 'w-beat', 'w-retry', 'w-cancel'].map((id) => ({
        id,
        name: id,
        capabilities: [id],
        state: 'ready' as const,
      })),
    },
  });
});
afterAll(async () => t?.stop());

/** A worker plus its events, each awaitable: `await until((e) => e.type === 'completed')`. */
function startWorker(opts: Omit<WorkerOptions, 'url' | 'onEvent' | 'pollWaitS'>) {
  const events: WorkerEvent[] = [];
  const waiters: Array<{ pred: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }> = [];
  const worker: Worker = createWorker({
    ...opts,
    url: t.apiUrl,
    pollWaitS: 5,
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters]) {
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    },
  });
  const until = (pred: (e: WorkerEvent) => boolean) =>
    new Promise<WorkerEvent>((resolve) => {
      const seen = events.find(pred);
      if (seen) resolve(seen);
      else waiters.push({ pred, resolve });
    });
  return { worker, events, until };
}

async function createTask(body: Record<string, unknown>) {
  const res = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body });
  expect(res.status).toBe(201);
  return res.body as { id: string };
}

const eventTypes = async (id: string) => ((await t.call('GET', `/api/v1/tasks/${id}/events`)).body.events as Array<{ type: string }>).map((e) => e.type);

describe('createWorker', () => {
  it('runs at most `concurrency` handlers at once, and completes each with its return value', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const release: Array<() => void> = [];
    const { worker, events, until } = startWorker({
      agent: 'w-cap',
      concurrency: 2,
      handler: async ({ task }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((r) => release.push(r));
        inFlight--;
        return { done: task.title };
      },
    });
    try {
      const tasks = await Promise.all([1, 2, 3, 4, 5].map((i) => createTask({ title: `cap ${i}`, scope: 'w-cap' })));
      await waitFor(() => events.filter((e) => e.type === 'started').length === 2, 'two handlers started');
      // The server assigned all five (its limit is 10): two run, three wait in `assigned`.
      const running = await t.call('GET', '/api/v1/tasks?assignee=w-cap&status=running');
      expect(running.body.tasks).toHaveLength(2);
      expect(worker.running).toBe(2);
      // Release one at a time: a freed slot takes the next task.
      for (let done = 1; done <= 5; done++) {
        await waitFor(() => release.length > 0, 'a handler waiting');
        release.shift()!();
        await until((e) => e.type === 'completed' && events.filter((x) => x.type === 'completed').length >= done);
      }
      expect(maxInFlight).toBe(2);
      for (const { id } of tasks) {
        const task = (await t.call('GET', `/api/v1/tasks/${id}`)).body;
        expect(task.status).toBe('completed');
        expect(task.result).toEqual({ done: task.title });
      }
    } finally {
      await worker.stop();
    }
  });

  it('fails a task whose handler throws, retryably: the retry runs and completes', async () => {
    let calls = 0;
    const { worker, until } = startWorker({
      agent: 'w-throw',
      concurrency: 1,
      handler: () => {
        calls++;
        if (calls === 1) throw new Error('flaky upstream');
        return 'second time lucky';
      },
    });
    try {
      const { id } = await createTask({ title: 'flaky', scope: 'w-throw', max_retries: 2 });
      const failed = await until((e) => e.type === 'failed');
      expect(failed).toMatchObject({ error: 'flaky upstream', retryable: true });
      await until((e) => e.type === 'completed');
      const task = (await t.call('GET', `/api/v1/tasks/${id}`)).body;
      expect(task).toMatchObject({ status: 'completed', retry_count: 1, result: 'second time lucky' });
      expect(await eventTypes(id)).toEqual(expect.arrayContaining(['task.failed', 'task.retry', 'task.completed']));
    } finally {
      await worker.stop();
    }
  });

  it('fails a task for good on NonRetryableError (no retry spent)', async () => {
    const { worker, until } = startWorker({
      agent: 'w-final',
      concurrency: 1,
      handler: () => {
        throw new NonRetryableError('the input is malformed');
      },
    });
    try {
      const { id } = await createTask({ title: 'doomed', scope: 'w-final', max_retries: 3 });
      const failed = await until((e) => e.type === 'failed');
      expect(failed).toMatchObject({ retryable: false, error: 'the input is malformed' });
      const task = (await t.call('GET', `/api/v1/tasks/${id}`)).body;
      expect(task).toMatchObject({ status: 'failed', retry_count: 0, error: 'the input is malformed' });
      expect(await eventTypes(id)).not.toContain('task.retry');
    } finally {
      await worker.stop();
    }
  });

  it('reports progress from the handler', async () => {
    const { worker, until } = startWorker({
      agent: 'w-progress',
      concurrency: 1,
      handler: async (ctx) => {
        await ctx.progress('half way', 50);
        return { pages: 12 };
      },
    });
    try {
      const { id } = await createTask({ title: 'report', scope: 'w-progress' });
      await until((e) => e.type === 'completed');
      const task = (await t.call('GET', `/api/v1/tasks/${id}`)).body;
      expect(task).toMatchObject({ status: 'completed', result: { pages: 12 }, progress: { message: 'half way', percent: 50 } });
      expect(await eventTypes(id)).toEqual(expect.arrayContaining(['task.started', 'task.progress', 'task.completed']));
    } finally {
      await worker.stop();
    }
  });

  it('beats heartbeats: a task outlives its heartbeat timeout several times over', async () => {
    let heartbeats = () => 0;
    const { worker, events, until } = startWorker({
      agent: 'w-beat',
      concurrency: 1,
      heartbeatMs: 250,
      // The handler runs until the worker has sent 12 heartbeats (~3 s: three heartbeat timeouts).
      handler: async () => {
        await waitFor(() => heartbeats() >= 12, '12 heartbeats', 20_000);
        return 'still here';
      },
    });
    heartbeats = () => events.filter((e) => e.type === 'heartbeat').length;
    try {
      const { id } = await createTask({ title: 'long', scope: 'w-beat', heartbeat_timeout_ms: 1000, max_retries: 0 });
      await until((e) => e.type === 'completed');
      const task = (await t.call('GET', `/api/v1/tasks/${id}`)).body;
      expect(task).toMatchObject({ status: 'completed', retry_count: 0, result: 'still here' });
      expect(Date.parse(task.completed_at) - Date.parse(task.assigned_at)).toBeGreaterThan(2000);
      expect(await eventTypes(id)).not.toContain('task.timeout');
    } finally {
      await worker.stop();
    }
  });

  it('retries its reports on a network error and on a 5xx', async () => {
    // A fetch that loses the first complete (the connection drops) and answers the second with 503.
    const pool = new Agent();
    let completes = 0;
    const flaky = (async (input: Request, init?: RequestInit) => {
      if (input.method === 'POST' && input.url.endsWith('/complete')) {
        completes++;
        if (completes === 1) throw new TypeError('fetch failed', { cause: new Error('ECONNRESET') });
        if (completes === 2) return new Response(JSON.stringify({ error: 'database unavailable', code: 'unavailable' }), { status: 503 });
      }
      return fetch(input, { ...init, dispatcher: pool } as RequestInit);
    }) as typeof fetch;
    const { worker, until } = startWorker({ agent: 'w-retry', concurrency: 1, fetch: flaky, handler: () => 'delivered at last' });
    try {
      const { id } = await createTask({ title: 'flaky network', scope: 'w-retry', max_retries: 0 });
      await until((e) => e.type === 'completed');
      expect(completes).toBe(3);
      expect((await t.call('GET', `/api/v1/tasks/${id}`)).body).toMatchObject({ status: 'completed', result: 'delivered at last' });
    } finally {
      await worker.stop();
      await pool.destroy();
    }
  });

  it('aborts the handler when its task is cancelled (the next heartbeat is refused)', async () => {
    const { worker, until } = startWorker({
      agent: 'w-cancel',
      concurrency: 1,
      heartbeatMs: 100,
      handler: ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve('too late'), { once: true })),
    });
    try {
      const { id } = await createTask({ title: 'changed my mind', scope: 'w-cancel' });
      await until((e) => e.type === 'started');
      expect((await t.call('PATCH', `/api/v1/tasks/${id}`, { agent: 'alice', body: { status: 'cancelled' } })).status).toBe(200);
      const abandoned = await until((e) => e.type === 'abandoned');
      expect(abandoned).toMatchObject({ taskId: id });
      expect(worker.running).toBe(0);
      expect((await t.call('GET', `/api/v1/tasks/${id}`)).body).toMatchObject({ status: 'cancelled', result: null });
    } finally {
      await worker.stop();
    }
  });
});
