// Deadlines: the ack/wake timeout re-queues without spending a retry and prefers another agent;
// the attempt timeout retries with growing backoff, then ends timed_out. Time is a fake clock the
// tests move by hand, and ticks are runOnce() calls: each deadline is checked to the millisecond.
import { describe, expect, it } from 'vitest';
import { startApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { eventTypes, schedulerOf, startFakes, waitFor } from './fakes/swarm.js';
import type { EventEnvelope } from '../src/store/events.js';
import type { Sql } from '../src/store/db.js';
import { fakeClock } from './helpers/clock.js';

async function envelopes(sql: Sql, id: string): Promise<EventEnvelope[]> {
  return (
    await sql<
      { envelope: EventEnvelope }[]
    >`select dispatch_task_envelope(task_events) as envelope from task_events where task_id = ${id} and kind = 'task' order by seq`
  ).map((r) => r.envelope);
}

describe('deadlines', () => {
  it('a task whose agent never reports goes back to pending after wake_timeout_ms, to another agent, with no retry spent', async () => {
    await using fakes = await startFakes();
    fakes.addAgent('silent', ['chat'], 'sleeping');
    fakes.addAgent('backup', ['chat'], 'ready');
    fakes.warren.setAgent('backup', 'degraded'); // only `silent` is available at first
    const clock = fakeClock();
    await using t = await startApp({ clock, config: { ...fakes.config, assignment: { tick_interval_ms: 600_000, wake_timeout_ms: 300 } } });
    const s = schedulerOf(t);
    await s.stopLoop();
    const task = await insertTask(t.sql, { scope: 'chat', created_at: clock.date() });
    expect((await s.runOnce()).assigned).toEqual([{ taskId: task.id, agent: 'silent', woke: true }]);
    await waitFor(() => fakes.warren.wakes.includes('silent'), 'silent woken');
    // backup becomes available (Warren's state, and its event relayed as a signal).
    fakes.warren.setState('backup', 'ready');
    t.dispatch.context.signals.emit('agent-state', { agent: 'backup', state: 'ready' });
    clock.advance(299);
    expect(await s.runOnce()).toMatchObject({ requeuedAfterWakeTimeout: 0, assigned: [] });
    clock.advance(1);
    // One tick: the sweep puts the task back, the assignment gives it to backup.
    expect(await s.runOnce()).toMatchObject({ requeuedAfterWakeTimeout: 1, assigned: [{ taskId: task.id, agent: 'backup', woke: false }] });
    const [moved] = await t.sql<{ assignee: string | null; retry_count: number; attempt: number; status: string }[]>`
      select assignee, retry_count, attempt, status from tasks where id = ${task.id}`;
    expect(moved).toMatchObject({ status: 'assigned', assignee: 'backup', retry_count: 0, attempt: 2 });
    const evs = await envelopes(t.sql, task.id);
    expect(evs.map((e) => e.type)).toEqual(['task.created', 'task.assigned', 'task.reassigned', 'task.assigned']);
    expect(evs[1]!.data).toMatchObject({ agent: 'silent', woke: true });
    expect(evs[2]!.data).toMatchObject({ from_agent: 'silent', reason: 'wake_timeout', task: { status: 'pending', retry_count: 0 } });
    expect(evs[3]!.data).toMatchObject({ agent: 'backup', woke: false });
  });

  it('a task whose agent goes silent after starting times out, is retried with growing not_before, then ends timed_out', async () => {
    await using fakes = await startFakes();
    fakes.addAgent('flaky', ['batch'], 'ready');
    const clock = fakeClock();
    await using t = await startApp({
      clock,
      config: { ...fakes.config, assignment: { tick_interval_ms: 600_000, wake_timeout_ms: 60_000, retry_backoff_base_ms: 200, retry_backoff_max_ms: 10_000 } },
      random: () => 0.99,
    });
    const s = schedulerOf(t);
    await s.stopLoop();
    const task = await insertTask(t.sql, { scope: 'batch', timeout_ms: 250, max_retries: 2, created_at: clock.date() });
    const none = { assigned: [], retriedAfterTimeout: 0, timedOut: 0 };
    /** One attempt: assigned, acknowledged by the worker, then silent until timeout_ms is over. */
    const attempt = async (): Promise<void> => {
      expect((await s.runOnce()).assigned).toEqual([{ taskId: task.id, agent: 'flaky', woke: false }]);
      const ack = await t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'flaky', body: { message: 'started' } });
      expect(ack.status).toBe(200);
      clock.advance(249);
      expect(await s.runOnce()).toMatchObject(none);
      clock.advance(1);
    };
    await attempt();
    expect(await s.runOnce()).toMatchObject({ retriedAfterTimeout: 1, timedOut: 0, assigned: [] });
    // Backoff with full jitter (random fixed at 0.99): 0.99 × 200 × 2^0 = 198 ms.
    clock.advance(197);
    expect(await s.runOnce()).toMatchObject(none);
    clock.advance(1);
    await attempt();
    expect(await s.runOnce()).toMatchObject({ retriedAfterTimeout: 1, timedOut: 0, assigned: [] });
    // Then 0.99 × 200 × 2^1 = 396 ms.
    clock.advance(395);
    expect(await s.runOnce()).toMatchObject(none);
    clock.advance(1);
    await attempt();
    expect(await s.runOnce()).toMatchObject({ retriedAfterTimeout: 0, timedOut: 1, assigned: [] });

    const evs = await envelopes(t.sql, task.id);
    expect(evs.map((e) => e.type.slice(5))).toEqual([
      'created',
      'assigned',
      'started',
      'progress',
      'timeout',
      'retry',
      'assigned',
      'started',
      'progress',
      'timeout',
      'retry',
      'assigned',
      'started',
      'progress',
      'timeout',
    ]);
    const retries = evs.filter((e) => e.type === 'task.retry');
    expect(retries.map((e) => [e.data.retry_count, e.data.max_retries, e.data.reason])).toEqual([
      [1, 2, 'timeout'],
      [2, 2, 'timeout'],
    ]);
    const delays = retries.map((e) => Date.parse(e.data.task.not_before as string) - Date.parse(e.timestamp));
    expect(delays).toEqual([198, 396]);
    const last = evs[evs.length - 1]!;
    expect(last.data).toMatchObject({
      retry_count: 2,
      max_retries: 2,
      reason: 'retries_exhausted',
      will_retry: false,
      task: { status: 'timed_out', assignee: 'flaky' },
    });
    expect(last.data.task.error).toMatch(/timed out after 250 ms/);
    expect(await eventTypes(t.sql, task.id)).toHaveLength(15);
  });
});
