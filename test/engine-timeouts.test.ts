// Deadlines: the ack/wake timeout re-queues without spending a retry and prefers another agent;
// the attempt timeout retries with growing backoff, then ends timed_out.
import { describe, expect, it } from 'vitest';
import { startApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { eventTypes, startFakes, startWork, waitFor } from './fakes/swarm.js';
import type { EventEnvelope } from '../src/store/events.js';
import type { Sql } from '../src/store/db.js';

async function envelopes(sql: Sql, id: string): Promise<EventEnvelope[]> {
  return (await sql<{ envelope: EventEnvelope }[]>`select envelope from task_events where task_id = ${id} order by seq`).map((r) => r.envelope);
}

describe('deadlines', () => {
  it('a task whose agent never reports goes back to pending after wake_timeout_ms, to another agent, with no retry spent', async () => {
    await using fakes = await startFakes();
    fakes.addAgent('silent', ['chat'], 'sleeping');
    fakes.addAgent('backup', ['chat'], 'ready');
    fakes.warren.setAgent('backup', 'degraded'); // only `silent` is available at first
    await using t = await startApp({ config: { ...fakes.config, assignment: { tick_interval_ms: 50, wake_timeout_ms: 300 } } });
    const task = await insertTask(t.sql, { scope: 'chat' });
    await waitFor(async () => (await t.sql`select 1 from tasks where id = ${task.id} and assignee = 'silent'`).length, 'assignment to silent');
    await waitFor(() => fakes.warren.wakes.includes('silent'), 'silent woken');
    fakes.warren.setState('backup', 'ready');
    const moved = await waitFor(async () => {
      const [r] = await t.sql<{ assignee: string | null; retry_count: number; attempt: number; status: string }[]>`
        select assignee, retry_count, attempt, status from tasks where id = ${task.id}`;
      return r?.assignee === 'backup' ? r : undefined;
    }, 'reassignment to backup');
    expect(moved).toMatchObject({ status: 'assigned', retry_count: 0, attempt: 2 });
    const evs = await envelopes(t.sql, task.id);
    expect(evs.map((e) => e.type)).toEqual(['task.created', 'task.assigned', 'task.reassigned', 'task.assigned']);
    expect(evs[1]!.data).toMatchObject({ agent: 'silent', woke: true });
    expect(evs[2]!.data).toMatchObject({ from_agent: 'silent', reason: 'wake_timeout', task: { status: 'pending', retry_count: 0 } });
    expect(evs[3]!.data).toMatchObject({ agent: 'backup', woke: false });
  });

  it('a task whose agent goes silent after starting times out, is retried with growing not_before, then ends timed_out', async () => {
    await using fakes = await startFakes();
    fakes.addAgent('flaky', ['batch'], 'ready');
    await using t = await startApp({
      config: { ...fakes.config, assignment: { tick_interval_ms: 50, wake_timeout_ms: 60_000, retry_backoff_base_ms: 200, retry_backoff_max_ms: 10_000 } },
      random: () => 0.99,
    });
    const task = await insertTask(t.sql, { scope: 'batch', timeout_ms: 250, max_retries: 2 });
    // The worker acknowledges every attempt, then never reports again.
    let stop = false;
    const worker = (async () => {
      while (!stop) {
        for (const r of await t.sql<{ id: string }[]>`select id from tasks where assignee = 'flaky' and status = 'assigned'`) {
          await startWork(t.sql, r.id, 'flaky').catch(() => {});
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      await waitFor(async () => (await t.sql`select 1 from tasks where id = ${task.id} and status = 'timed_out'`).length, 'timed_out', 20_000);
    } finally {
      stop = true;
      await worker;
    }
    const evs = await envelopes(t.sql, task.id);
    expect(evs.map((e) => e.type.slice(5))).toEqual([
      'created', 'assigned', 'started', 'progress', 'timeout', 'retry', 'assigned', 'started', 'progress', 'timeout', 'retry',
      'assigned', 'started', 'progress', 'timeout',
    ]);
    const retries = evs.filter((e) => e.type === 'task.retry');
    expect(retries.map((e) => [e.data.retry_count, e.data.max_retries, e.data.reason])).toEqual([[1, 2, 'timeout'], [2, 2, 'timeout']]);
    // Backoff with full jitter (random fixed at 0.99): 0.99 × 200 × 2^0, then 0.99 × 200 × 2^1.
    const delays = retries.map((e) => Date.parse(e.data.task.not_before as string) - Date.parse(e.timestamp));
    expect(delays).toEqual([198, 396]);
    const last = evs[evs.length - 1]!;
    expect(last.data).toMatchObject({ retry_count: 2, max_retries: 2, reason: 'retries_exhausted', will_retry: false, task: { status: 'timed_out', assignee: 'flaky' } });
    expect(last.data.task.error).toMatch(/timed out after 250 ms/);
    expect(await eventTypes(t.sql, task.id)).toHaveLength(15);
  });
});
