// The worker's requestInput (CONTRACT §21.1, §22) against a real Dispatch. The route
// POST /api/v1/tasks/:id/input-required is built on another branch: this file passes once both
// are merged (until then the input-required call answers 404 and the handler's task fails).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, type WorkerEvent } from '../packages/client/src/index.js';
import { startApp, type TestApp } from './helpers/app.js';
import { waitFor } from './helpers/wait.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp({
    config: { assignment: { tick_interval_ms: 100 }, agents: [{ id: 'asker', name: 'asker', capabilities: ['ask'], state: 'ready' }] },
  });
});
afterAll(async () => t?.stop());

describe('createWorker: requestInput', () => {
  it('asks the requester, waits in input_required, and goes on with the answer', async () => {
    const events: WorkerEvent[] = [];
    const worker = createWorker({
      url: t.apiUrl,
      agent: 'asker',
      concurrency: 1,
      pollWaitS: 5,
      handler: async (ctx) => {
        const answer = await ctx.requestInput('Which colour?', { type: 'string' });
        return { colour: answer };
      },
      onEvent: (e) => events.push(e),
    });
    try {
      const { id } = (await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'paint', scope: 'ask' } })).body;
      await waitFor(async () => (await t.call('GET', `/api/v1/tasks/${id}`)).body.status === 'input_required', 'the task to wait for input');
      const answered = await t.call('POST', `/api/v1/tasks/${id}/input`, { agent: 'alice', body: { answer: 'blue' } });
      expect(answered.status).toBe(200);
      const done = await t.call('GET', `/api/v1/tasks/${id}?wait=10`);
      expect(done.body).toMatchObject({ status: 'completed', result: { colour: 'blue' } });
      const types = ((await t.call('GET', `/api/v1/tasks/${id}/events`)).body.events as Array<{ type: string; data: any }>).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['task.input_required', 'task.input_received', 'task.completed']));
      expect(events.some((e) => e.type === 'completed')).toBe(true);
    } finally {
      await worker.stop();
    }
  });
});
