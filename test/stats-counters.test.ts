// The stats counters (task_stats + task_stat_deltas) are written by the statements that change a
// status (core/stats.ts decides, no trigger on tasks since migration 0021): through creates, sync
// matches, ticks, grouped reports, retries, cancels and the retention purge they equal a count of
// the table.
import { describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { quiesce } from './helpers/wait.js';
import { schedulerOf } from './fakes/swarm.js';
import { purgeFinishedTasks } from '../src/store/retention.js';

async function counted(t: TestApp): Promise<Record<string, number>> {
  const rows = await t.sql<{ status: string; n: number }[]>`select status, count(*)::int as n from tasks group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function reported(t: TestApp): Promise<Record<string, number>> {
  const { body } = await t.call('GET', '/api/v1/stats', { admin: true });
  return Object.fromEntries(
    Object.entries(body).filter(([k, v]) => typeof v === 'number' && v !== 0 && !k.endsWith('_ms') && k !== 'total' && k !== 'in_progress'),
  ) as Record<string, number>;
}

describe('stats counters without triggers', () => {
  it('equal a count of the table through every kind of write', async () => {
    await using t = await startApp({
      config: {
        assignment: { tick_interval_ms: 600_000, max_concurrent_per_agent: 2, retry_backoff_base_ms: 1, retry_backoff_max_ms: 1 },
        agents: [
          { id: 'a', name: 'a', capabilities: ['x'], state: 'ready' },
          { id: 'b', name: 'b', capabilities: ['x'], state: 'ready' },
        ] as never,
      },
    });
    await quiesce(t);
    const s = schedulerOf(t);
    await s.stopLoop();
    const made = await Promise.all(
      Array.from({ length: 10 }, (_, i) => t.call('POST', '/api/v1/tasks', { body: { title: `t${i}`, scope: 'x', max_retries: 1 } })),
    );
    expect(made.some((m) => m.body.status === 'assigned')).toBe(true); // sync matches among them
    expect(await reported(t)).toEqual(await counted(t));
    await s.runOnce();
    const active = await t.sql<{ id: string; assignee: string }[]>`select id, assignee from tasks where status = 'assigned' order by id`;
    expect(active.length).toBe(4);
    // Reports together (grouped), a retryable fail (back to pending), a final fail, a progress.
    await Promise.all([
      t.call('POST', `/api/v1/tasks/${active[0]!.id}/complete`, { agent: active[0]!.assignee, body: {} }),
      t.call('POST', `/api/v1/tasks/${active[1]!.id}/complete`, { agent: active[1]!.assignee, body: {} }),
      t.call('POST', `/api/v1/tasks/${active[2]!.id}/fail`, { agent: active[2]!.assignee, body: { error: 'again', retryable: true } }),
      t.call('POST', `/api/v1/tasks/${active[3]!.id}/progress`, { agent: active[3]!.assignee, body: { message: 'on it' } }),
    ]);
    expect(await reported(t)).toEqual(await counted(t));
    const pending = (await t.sql<{ id: string }[]>`select id from tasks where status = 'pending' order by id limit 1`)[0]!;
    await t.call('PATCH', `/api/v1/tasks/${pending.id}`, { admin: true, body: { status: 'cancelled' } });
    await t.call('POST', `/api/v1/tasks/${active[3]!.id}/fail`, { agent: active[3]!.assignee, body: { error: 'no', retryable: false } });
    await s.runOnce();
    expect(await reported(t)).toEqual(await counted(t));
    const { body } = await t.call('GET', '/api/v1/stats', { admin: true });
    expect(body.completed).toBe(2);
    expect(body.avg_completion_ms).toBeGreaterThanOrEqual(0);
    // The retention purge takes its deleted rows off the counters.
    await t.sql`update tasks set completed_at = completed_at - interval '400 days' where status in ('completed','failed','cancelled')`;
    await t.sql`delete from task_events_unpublished`; // as if the relay had published them (no NATS here)
    const gone = await purgeFinishedTasks(t.sql, new Date(Date.now() - 86_400_000), 100);
    expect(gone.tasks).toBeGreaterThanOrEqual(4);
    expect(await reported(t)).toEqual(await counted(t));
  });
});
