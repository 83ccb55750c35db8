// Wake-ups after the commit (events/wakes.ts, docs/waiting.md): with NATS, a replica's held
// requests hear of another replica's changes from the NATS event subjects, and the hot paths send
// no NOTIFY at all (migration 0037 dropped the triggers that sent them inside every write).
import { inject, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { quiesce, waitFor } from './helpers/wait.js';
import { schedulerOf } from './fakes/swarm.js';

const config = (natsUrl: string) => ({
  hermes: { url: natsUrl },
  assignment: { tick_interval_ms: 600_000, max_concurrent_per_agent: 5 },
  agents: [{ id: 'w1', name: 'w1', capabilities: ['x'], state: 'ready' }] as never,
});

async function natsUp(t: TestApp): Promise<void> {
  await waitFor(async () => {
    const res = await fetch(`${t.opsUrl}/health`);
    return ((await res.json()) as { checks: Record<string, string> }).checks.nats === 'ok';
  }, 'NATS connected');
}

describe('wake-ups with NATS', () => {
  it('a long-poll and an await on replica B hear of a create, an assignment and a completion on replica A; no NOTIFY is sent', async () => {
    const natsUrl = inject('natsUrl');
    await using a = await startApp({ config: config(natsUrl) });
    await using b = await startApp({ db: a.db, config: config(natsUrl) });
    await Promise.all([natsUp(a), natsUp(b), quiesce(a), quiesce(b)]);
    await Promise.all([schedulerOf(a).stopLoop(), schedulerOf(b).stopLoop()]);

    // Every notification on the channels the triggers used to send on, from any session.
    const heard: string[] = [];
    const listeners = await Promise.all(
      ['dispatch_assigned', 'dispatch_task_ended', 'dispatch_events'].map((ch) => a.sql.listen(ch, () => void heard.push(ch))),
    );
    try {
      // The long-poll on B; the task is created (and sync-matched) on A.
      const held = b.call('GET', '/api/v1/agents/w1/assignments?wait=30', { agent: 'w1' });
      await waitFor(() => b.dispatch.context.waiting.agents.size === 1, 'the long-poll to be held');
      const created = await a.call('POST', '/api/v1/tasks', { body: { title: 'job', capabilities: ['x'] } });
      expect(created.body.status).toBe('assigned');
      const got = await held;
      expect(got.body.tasks.map((x: { id: string }) => x.id)).toEqual([created.body.id]);

      // The await on B; the assignee completes on A.
      const awaited = b.call('GET', `/api/v1/tasks/${created.body.id}?wait=30`);
      await waitFor(() => b.dispatch.context.waiting.tasks.size === 1, 'the await to be held');
      const done = await a.call('POST', `/api/v1/tasks/${created.body.id}/complete`, { agent: 'w1', body: { result: { ok: 1 } } });
      expect(done.status).toBe(200);
      expect((await awaited).body).toMatchObject({ id: created.body.id, status: 'completed' });
      expect(heard).toEqual([]);
    } finally {
      await Promise.all(listeners.map((l) => l.unlisten()));
    }
  });

  it('without NATS, another replica hears of a timeout swept on A from one NOTIFY sent after the commit', async () => {
    const plain = { assignment: { tick_interval_ms: 600_000, max_concurrent_per_agent: 5 }, agents: config('').agents };
    await using a = await startApp({ config: plain });
    await using b = await startApp({ db: a.db, config: plain });
    await Promise.all([quiesce(a), quiesce(b)]);
    await Promise.all([schedulerOf(a).stopLoop(), schedulerOf(b).stopLoop()]);
    const created = await a.call('POST', '/api/v1/tasks', { body: { title: 'job', capabilities: ['x'], timeout_ms: 50, max_retries: 0 } });
    expect(created.body.status).toBe('assigned');
    const awaited = b.call('GET', `/api/v1/tasks/${created.body.id}?wait=30`);
    await waitFor(() => b.dispatch.context.waiting.tasks.size === 1, 'the await to be held');
    // The attempt deadline passes; A's tick sweeps it (the await is on B).
    await waitFor(async () => {
      await schedulerOf(a).runOnce();
      const [row] = await a.sql<{ status: string }[]>`select status from tasks where id = ${created.body.id}`;
      return row!.status === 'timed_out';
    }, 'the task to time out');
    const swept = Date.now();
    const answer = await awaited;
    expect(answer.body).toMatchObject({ id: created.body.id, status: 'timed_out' });
    // Woken, not answered at the end of its 30 s hold (a generous bound on a shared machine).
    expect(Date.now() - swept).toBeLessThan(10_000);
  });
});
