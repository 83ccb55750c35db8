// The worker's drain on SIGTERM (CONTRACT §22), in a child process: it stops polling, lets the
// handler that can finish complete within drainMs, fails the one that cannot as retryable, and
// exits; the failed task is then picked up again by the next worker of the agent.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorker } from '../packages/client/src/index.js';
import { startApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp({
    config: {
      assignment: { max_concurrent_per_agent: 2, tick_interval_ms: 100, retry_backoff_base_ms: 10, retry_backoff_max_ms: 50 },
      agents: [{ id: 'drainer', name: 'drainer', capabilities: ['drain'], state: 'ready' }],
    },
  });
});
afterAll(async () => t?.stop());

describe('createWorker on SIGTERM', () => {
  it('finishes what it can within drainMs, fails the rest retryably, exits; another worker takes the rest', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/drain-worker.ts'], {
      env: { ...process.env, DISPATCH_URL: t.apiUrl, DISPATCH_AGENT_ID: 'drainer', DRAIN_MS: '500' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const lines: Array<{ type: string; id?: string }> = [];
    const waiters: Array<() => void> = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(JSON.parse(line));
      for (const w of waiters.splice(0)) w();
    });
    const seen = async (pred: (l: { type: string; id?: string }) => boolean) => {
      while (!lines.some(pred)) await new Promise<void>((r) => waiters.push(r));
    };

    try {
      const finishes = (await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'finishes', scope: 'drain', max_retries: 2 } })).body;
      const stuck = (await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'stuck', scope: 'drain', max_retries: 2 } })).body;
      await seen((l) => l.type === 'started' && l.id === finishes.id);
      await seen((l) => l.type === 'started' && l.id === stuck.id);

      child.kill('SIGTERM');
      const exit = await exited;
      // The worker re-raises the signal once drained: the process ends by SIGTERM, not by a crash.
      expect(exit.signal ?? exit.code).toBe('SIGTERM');
      expect(lines).toContainEqual({ type: 'completed', id: finishes.id });
      expect(lines).toContainEqual({ type: 'failed', id: stuck.id });
      expect(lines.at(-1)).toEqual({ type: 'stopped' });

      expect((await t.call('GET', `/api/v1/tasks/${finishes.id}`)).body).toMatchObject({ status: 'completed', result: 'finished in the drain' });
      const events = ((await t.call('GET', `/api/v1/tasks/${stuck.id}/events`)).body.events as Array<{ type: string; data: any }>).map((e) => e.type);
      expect(events).toEqual(expect.arrayContaining(['task.failed', 'task.retry']));

      // The next worker of the agent picks the failed task up at once and completes it.
      let completed!: (id: string) => void;
      const done = new Promise<string>((r) => (completed = r));
      const next = createWorker({
        url: t.apiUrl,
        agent: 'drainer',
        concurrency: 1,
        pollWaitS: 5,
        handler: () => 'second worker',
        onEvent: (e) => e.type === 'completed' && completed(e.task.id),
      });
      try {
        expect(await done).toBe(stuck.id);
      } finally {
        await next.stop();
      }
      expect((await t.call('GET', `/api/v1/tasks/${stuck.id}`)).body).toMatchObject({ status: 'completed', retry_count: 1, result: 'second worker' });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
