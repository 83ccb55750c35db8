// Dead-letter entries (docs/callbacks.md "swarm-dlq") are written by the statements that write the
// event that ends a task badly (issue #23, "no database trigger remains"): a final failure, a
// final timeout (the start deadline's included), a cancel because a dependency failed. Each entry
// is compared whole with what the rule says it holds (expectedEntry below, the trigger of
// migration 0017's rule written out), its retry history read from the task's own events.
import { describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { quiesce } from './helpers/wait.js';
import { schedulerOf } from './fakes/swarm.js';
import { fakeClock } from './helpers/clock.js';
import { dlqReasonOf } from '../src/core/dlq.js';

type Envelope = { id: string; type: string; timestamp: string; data: Record<string, any> & { task: Record<string, any> } };

const config = {
  assignment: { tick_interval_ms: 600_000, max_concurrent_per_agent: 1, retry_backoff_base_ms: 100, retry_backoff_max_ms: 100 },
  agents: [{ id: 'w1', name: 'w1', capabilities: ['x'], state: 'ready' }] as never,
};

async function app(clock: ReturnType<typeof fakeClock>): Promise<TestApp> {
  const t = await startApp({ clock, config, random: () => 0.99 });
  await quiesce(t);
  await schedulerOf(t).stopLoop();
  return t;
}

const events = async (t: TestApp, id: string): Promise<Envelope[]> => (await t.call('GET', `/api/v1/tasks/${id}/events`)).body.events;

async function dlqEntries(t: TestApp, id: string): Promise<{ id: string; type: string; envelope: Record<string, any> }[]> {
  return t.sql`select id::text, type, envelope from task_events where kind = 'dlq' and task_id = ${id} order by seq`;
}

/** The entry the rule writes for the event `ending` of a task whose events are `all`. */
function expectedEntry(dlqId: string, reason: string, all: Envelope[], ending: Envelope) {
  const t = ending.data.task;
  const fields = [
    'requester',
    'title',
    'description',
    'owner',
    'scope',
    'capabilities',
    'priority',
    'context',
    'timeout_ms',
    'max_retries',
    'parent_id',
    'callback_url',
    'callback_events',
  ];
  const body = Object.fromEntries(fields.filter((k) => t[k] !== null && t[k] !== undefined).map((k) => [k, t[k]]));
  const upTo = all.slice(0, all.indexOf(ending) + 1);
  const history = upTo
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => e.type === 'task.failed' || e.type === 'task.timeout')
    .map(({ e, i }, n) => {
      const assigned = upTo
        .slice(0, i)
        .reverse()
        .find((a) => a.type === 'task.assigned');
      return {
        attempt: n + 1,
        attempted_at: assigned?.timestamp ?? e.timestamp,
        agent: e.data.agent ?? e.data.task.assignee ?? assigned?.data.agent ?? null,
        failure_reason: e.data.task.error,
      };
    });
  return {
    dlq_id: dlqId,
    original_subject: 'swarm.task.request',
    original_payload: body,
    reason,
    reason_detail: t.error,
    failed_at: ending.timestamp,
    retry_count: t.retry_count,
    max_retries: t.max_retries,
    retry_history: history,
    task_id: t.id,
    source: 'dispatch',
    recoverable: true,
    recovered: false,
  };
}

describe('dead-letter entries written with the event that ends a task badly', () => {
  it('a final failure after a retried one: execution_failed, both attempts in the history', async () => {
    const clock = fakeClock();
    await using t = await app(clock);
    const created = await t.call('POST', '/api/v1/tasks', { body: { title: 'doomed', capabilities: ['x'], max_retries: 1, context: { k: 1 } } });
    expect(created.body.status).toBe('assigned');
    clock.advance(10);
    const first = await t.call('POST', `/api/v1/tasks/${created.body.id}/fail`, { agent: 'w1', body: { error: 'e1', retryable: true } });
    expect(first.body.status).toBe('pending');
    expect(await dlqEntries(t, created.body.id)).toEqual([]); // retried: not dead
    clock.advance(1000);
    await schedulerOf(t).runOnce();
    clock.advance(10);
    const last = await t.call('POST', `/api/v1/tasks/${created.body.id}/fail`, { agent: 'w1', body: { error: 'e2', retryable: true } });
    expect(last.body.status).toBe('failed');
    const all = await events(t, created.body.id);
    const [entry] = await dlqEntries(t, created.body.id);
    expect(entry!.type).toBe('execution_failed');
    expect(entry!.envelope).toEqual(expectedEntry(entry!.id, 'execution_failed', all, all.at(-1)!));
    expect(entry!.envelope.retry_history).toHaveLength(2);
  });

  it('the start deadline: assignment_timeout; its dependent cancelled: dependency_failed', async () => {
    const clock = fakeClock();
    await using t = await app(clock);
    const startBy = new Date(clock.now().getTime() + 1000).toISOString();
    const created = await t.call('POST', '/api/v1/tasks', { body: { title: 'soon or never', capabilities: ['nobody'], start_by: startBy } });
    const dependent = await t.call('POST', '/api/v1/tasks', { body: { title: 'after', depends_on: [created.body.id] } });
    clock.advance(1000);
    expect((await schedulerOf(t).runOnce()).notStarted).toBe(1);
    const all = await events(t, created.body.id);
    const [entry] = await dlqEntries(t, created.body.id);
    expect(entry!.envelope).toEqual(expectedEntry(entry!.id, 'assignment_timeout', all, all.at(-1)!));
    const dep = await events(t, dependent.body.id);
    expect(dep.at(-1)!.type).toBe('task.cancelled');
    const [depEntry] = await dlqEntries(t, dependent.body.id);
    expect(depEntry!.envelope).toEqual(expectedEntry(depEntry!.id, 'dependency_failed', dep, dep.at(-1)!));
  });

  it('an attempt that runs past its timeout with no retry left: execution_timeout; a PATCH cancel: nothing', async () => {
    const clock = fakeClock();
    await using t = await app(clock);
    const created = await t.call('POST', '/api/v1/tasks', { body: { title: 'slow', capabilities: ['x'], timeout_ms: 1000, max_retries: 0 } });
    expect(created.body.status).toBe('assigned');
    await t.call('POST', `/api/v1/tasks/${created.body.id}/progress`, { agent: 'w1', body: { message: 'started' } });
    clock.advance(1000);
    await schedulerOf(t).runOnce();
    const all = await events(t, created.body.id);
    expect(all.at(-1)!.type).toBe('task.timeout');
    const [entry] = await dlqEntries(t, created.body.id);
    expect(entry!.envelope).toEqual(expectedEntry(entry!.id, 'execution_timeout', all, all.at(-1)!));

    const other = await t.call('POST', '/api/v1/tasks', { body: { title: 'dropped', capabilities: ['nobody'] } });
    expect((await t.call('PATCH', `/api/v1/tasks/${other.body.id}`, { body: { status: 'cancelled' } })).status).toBe(200);
    expect(await dlqEntries(t, other.body.id)).toEqual([]);
  });

  it('no trigger writes them', async () => {
    await using t = await startApp();
    const [r] = await t.sql<{ n: number }[]>`select count(*)::int as n from pg_trigger where tgrelid = 'task_events'::regclass and not tgisinternal`;
    expect(r!.n).toBe(0);
  });
});

describe('dlqReasonOf (core/dlq.ts)', () => {
  const task = (status: string) => ({ status }) as never;
  it.each([
    ['failed', 'failed', {}, 'execution_failed'],
    ['failed', 'pending', {}, null],
    ['timeout', 'timed_out', { reason: 'not_started' }, 'assignment_timeout'],
    ['timeout', 'timed_out', { reason: 'retries_exhausted' }, 'execution_timeout'],
    ['timeout', 'pending', { reason: 'timeout' }, null],
    ['cancelled', 'cancelled', { reason: 'dependency_failed' }, 'dependency_failed'],
    ['cancelled', 'cancelled', {}, null],
    ['completed', 'completed', {}, null],
  ])('%s with status %s and data %j → %s', (type, status, data, want) => {
    expect(dlqReasonOf(type, task(status), data)).toBe(want);
  });
});
