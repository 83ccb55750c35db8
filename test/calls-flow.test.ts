// Call tasks obey their flow key (CONTRACT §20: "call tasks (§18) obey their key too"): the
// executor's claim takes the key's row lock, asks the guard, and takes the token in its own
// transaction, so a key's concurrency holds for calls as for agents' tasks.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { json, startReceiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';

type Executor = { loop: { nextRun(pred?: (r: { claimed: number }) => boolean): Promise<unknown>; poke(): void } };
const executorOf = (t: TestApp) => t.dispatch.components.find((c) => c.name === 'call-executor') as unknown as Executor;
const statusOf = async (t: TestApp, id: string) => (await t.call('GET', `/api/v1/tasks/${id}`)).body.status as string;

describe('call tasks and flow keys', () => {
  it('a key with concurrency 1 has one call in flight at a time; the next starts when it ends; a paused key starts none', async () => {
    const held: ServerResponse[] = [];
    const rx = await startReceiver({ '/slow': (_q, res) => void held.push(res), '/fast': (_q, res) => json(res, 200, { ok: true }) });
    await using t = await startApp({
      config: {
        http_work: { allowed_hosts: ['127.0.0.1'] },
        flow: { limits: [{ key: 'model:x', concurrency: 1 }] },
      } as never,
    });
    try {
      const create = async (path: string, flow_key: string) =>
        (await t.call('POST', '/api/v1/tasks', { agent: 'app', body: { title: 'call', flow_key, call: { url: rx.url(path) } } })).body.id as string;
      const a = await create('/slow', 'model:x');
      const b = await create('/slow', 'model:x');
      await waitFor(() => held.length === 1, 'the first call to be sent');
      // Runs of the executor after the first claim leave the second pending: the key is at its limit.
      for (let i = 0; i < 3; i++) {
        const ran = executorOf(t).loop.nextRun();
        executorOf(t).loop.poke();
        await ran;
      }
      expect(held).toHaveLength(1);
      expect([await statusOf(t, a), await statusOf(t, b)].sort()).toEqual(['pending', 'running']);
      json(held[0]!, 200, { ok: true });
      await waitFor(() => held.length === 2, 'the second call once the first ended');
      json(held[1]!, 200, { ok: true });
      await waitFor(async () => (await statusOf(t, a)) === 'completed' && (await statusOf(t, b)) === 'completed', 'both to complete');

      // A paused key starts nothing until the pause is lifted.
      const until = new Date(Date.now() + 3_600_000).toISOString();
      expect((await t.call('POST', '/api/v1/flow/keys/model:y/pause', { agent: 'app', body: { until } })).status).toBe(200);
      const c = await create('/fast', 'model:y');
      for (let i = 0; i < 3; i++) {
        const ran = executorOf(t).loop.nextRun();
        executorOf(t).loop.poke();
        await ran;
      }
      expect(await statusOf(t, c)).toBe('pending');
      expect(rx.to('/fast')).toHaveLength(0);
      expect((await t.call('DELETE', '/api/v1/flow/keys/model:y/pause', { agent: 'app' })).status).toBe(204);
      executorOf(t).loop.poke();
      await waitFor(async () => (await statusOf(t, c)) === 'completed', 'the call after the pause');
    } finally {
      for (const r of held) if (!r.writableEnded) r.end();
      await rx.close();
    }
  });
});
