// CONTRACT §17, sync match: a create that an agent with a free slot takes in the create's own
// statement. The database guards it as it guards a tick's assignment: the agent's limit and drain
// flag re-checked under its row lock (across replicas), and nothing older that the agent could take
// may be waiting.
import { describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { quiesce, waitFor } from './helpers/wait.js';
import { schedulerOf } from './fakes/swarm.js';
import { setDrained } from '../src/store/agents.js';
import type { Sql } from '../src/store/db.js';

const roster = (max: number) => ({
  assignment: { tick_interval_ms: 600_000, max_concurrent_per_agent: max },
  agents: [{ id: 'w1', name: 'w1', capabilities: ['x'], state: 'ready' }] as never,
});

/** Any moment an agent holds more than `max` active tasks, by insert or update, is recorded. */
async function watchLimit(sql: Sql, max: number): Promise<void> {
  await sql.unsafe(`
    create table limit_violations (agent text, active int);
    create function check_agent_limit() returns trigger language plpgsql as $$
    declare n int;
    begin
      if new.assignee is not null then
        select count(*) into n from tasks where assignee = new.assignee and status in ('assigned','running');
        if n > ${max} then insert into limit_violations (agent, active) values (new.assignee, n); end if;
      end if;
      return null;
    end $$;
    create trigger tasks_check_agent_limit after insert or update of status on tasks for each row execute function check_agent_limit();`);
}

const create = (t: TestApp, body: Record<string, unknown> = {}) => t.call('POST', '/api/v1/tasks', { body: { title: 'job', capabilities: ['x'], ...body } });

/** The app with its start-up ticks done (they refresh what the sync match plans with), then no more ticks. */
async function quietApp(max: number, db?: TestApp['db']): Promise<TestApp> {
  const t = await startApp({ config: roster(max), ...(db ? { db } : {}) });
  await quiesce(t);
  return t;
}

/** dispatch_sync_matches_total by the outcomes these tests look at. */
async function syncMatches(t: TestApp): Promise<Record<string, number>> {
  const text = await (await fetch(`${t.opsUrl}/metrics`)).text();
  const of = (outcome: string) => Number(new RegExp(`^dispatch_sync_matches_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { older_waiting: of('older_waiting'), no_view: of('no_view'), assigned: of('assigned') };
}

describe('sync match at create (§17)', () => {
  it('a free agent takes a new task in its create: 201 assigned, events created then assigned', async () => {
    await using t = await quietApp(3);
    await schedulerOf(t).stopLoop(); // nothing but the create can assign it
    const res = await create(t);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('assigned');
    expect(res.body.assignee).toBe('w1');
    expect(res.body.assigned_at).not.toBeNull();
    const events = await t.call('GET', `/api/v1/tasks/${res.body.id}/events`);
    expect(events.body.events.map((e: { type: string }) => e.type)).toEqual(['task.created', 'task.assigned']);
    expect(events.body.events[1].data.agent).toBe('w1');
    const [row] = await t.sql<{ status: string; attempt: number; last: Date | null }[]>`
      select t.status, t.attempt, a.last_assigned_at as last from tasks t join agents a on a.id = t.assignee where t.id = ${res.body.id}`;
    expect(row).toMatchObject({ status: 'assigned', attempt: 1 });
    expect(row!.last).not.toBeNull();
    expect(await syncMatches(t)).toEqual({ older_waiting: 0, no_view: 0, assigned: 1 });
    // Counted in stats as assigned, never as pending.
    const stats = await t.call('GET', '/api/v1/stats', { admin: true });
    expect(stats.body.assigned).toBe(1);
    expect(stats.body.pending).toBe(0);
  });

  it('creates in flight at once count their slots while their statements run: each goes to its own free agent', async () => {
    await using t = await startApp({
      config: {
        assignment: { tick_interval_ms: 600_000, max_concurrent_per_agent: 1 },
        agents: ['w1', 'w2', 'w3', 'w4'].map((id) => ({ id, name: id, capabilities: ['x'], state: 'ready' })) as never,
      },
    });
    await quiesce(t);
    await schedulerOf(t).stopLoop(); // nothing but the creates can assign
    const res = await Promise.all([0, 1, 2, 3].map(() => create(t)));
    expect(res.map((r) => r.body.status)).toEqual(['assigned', 'assigned', 'assigned', 'assigned']);
    expect(new Set(res.map((r) => r.body.assignee))).toEqual(new Set(['w1', 'w2', 'w3', 'w4']));
    // A fifth finds every slot taken in the view: pending, for the scheduler.
    expect((await create(t)).body.status).toBe('pending');
  });

  it('two replicas creating at once never give an agent more than its limit; the rest wait pending', async () => {
    await using a = await quietApp(2);
    await using b = await quietApp(2, a.db);
    await watchLimit(a.sql, 2);
    // No ticks: only the creates' sync match assigns, each replica planning from its own (stale) view.
    await Promise.all([schedulerOf(a).stopLoop(), schedulerOf(b).stopLoop()]);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => create(i % 2 ? a : b, { title: `t${i}` })));
    expect(answers.every((r) => r.status === 201)).toBe(true);
    // At most the limit: how many of the four planned creates win depends on whether a plain
    // pending create commits first (then the database refuses them as older_waiting), never more.
    const assigned = answers.filter((r) => r.body.status === 'assigned').length;
    expect(assigned).toBeLessThanOrEqual(2);
    expect(answers.filter((r) => r.body.status === 'pending')).toHaveLength(30 - assigned);
    const counts = async () =>
      Object.fromEntries(
        (await a.sql<{ status: string; n: number }[]>`select status, count(*)::int as n from tasks group by status`).map((r) => [r.status, r.n]),
      );
    expect(await counts()).toEqual(assigned ? { assigned, pending: 30 - assigned } : { pending: 30 });
    // A tick fills what the creates left: the agent ends exactly at its limit.
    await schedulerOf(a).runOnce();
    expect(await counts()).toEqual({ assigned: 2, pending: 28 });
    expect(await a.sql`select * from limit_violations`).toEqual([]);
  });

  it('an older task the agent could take goes first: the create waits pending behind it', async () => {
    await using t = await quietApp(1);
    await schedulerOf(t).stopLoop();
    const older = await insertTask(t.sql, { capabilities: ['x'], created_at: new Date(Date.now() - 60_000) });
    const res = await create(t);
    expect(res.body.status).toBe('pending');
    // The tick gives the agent's one slot to the older task.
    const tick = await schedulerOf(t).runOnce();
    expect(tick.assigned.map((x) => x.taskId)).toEqual([older.id]);
    // The metric says why: the database refused (older_waiting), then creates waited behind it until the tick (no_view).
    await create(t);
    expect(await syncMatches(t)).toEqual({ older_waiting: 1, no_view: 0, assigned: 0 });
  });

  it('an older task the agent could take does not hold a new one back while the agent has a slot left for each', async () => {
    await using t = await quietApp(3);
    await schedulerOf(t).stopLoop();
    const older = await insertTask(t.sql, { capabilities: ['x'], created_at: new Date(Date.now() - 60_000) });
    expect((await create(t)).body.status).toBe('assigned'); // 0 active + 1 older < 3
    expect((await create(t)).body.status).toBe('assigned'); // 1 active + 1 older < 3
    expect((await create(t)).body.status).toBe('pending'); // 2 active + 1 older: the last slot is the older one's
    const tick = await schedulerOf(t).runOnce();
    expect(tick.assigned.map((x) => x.taskId)).toEqual([older.id]);
  });

  it('an older task no agent can take does not hold a new one back', async () => {
    await using t = await quietApp(3);
    await schedulerOf(t).stopLoop();
    await insertTask(t.sql, { capabilities: ['nobody-has-this'], created_at: new Date(Date.now() - 60_000) });
    const res = await create(t);
    expect(res.body.status).toBe('assigned');
  });

  it('an agent drained behind the view (another replica, the admin API) is not given the task: the database re-checks', async () => {
    await using t = await quietApp(3);
    await schedulerOf(t).stopLoop();
    await setDrained(t.sql, 'w1', true, new Date());
    const res = await create(t);
    expect(res.body.status).toBe('pending');
    const [row] = await t.sql<{ assignee: string | null }[]>`select assignee from tasks where id = ${res.body.id}`;
    expect(row!.assignee).toBeNull();
    const events = await t.call('GET', `/api/v1/tasks/${res.body.id}/events`);
    expect(events.body.events.map((e: { type: string }) => e.type)).toEqual(['task.created']);
  });

  it('a worker long-polling on another replica hears of a task assigned in its create', async () => {
    await using a = await quietApp(3);
    await using b = await quietApp(3, a.db);
    await Promise.all([schedulerOf(a).stopLoop(), schedulerOf(b).stopLoop()]);
    const held = b.call('GET', '/api/v1/agents/w1/assignments?wait=30', { agent: 'w1' });
    await waitFor(() => b.dispatch.context.waiting.agents.size === 1, 'the long-poll to be held');
    const res = await create(a);
    expect(res.body.status).toBe('assigned');
    const got = await held;
    expect(got.body.tasks.map((x: { id: string }) => x.id)).toEqual([res.body.id]);
  });

  it('a task not due yet (not_before ahead) or one with dependencies is never sync-matched', async () => {
    await using t = await quietApp(3);
    await schedulerOf(t).stopLoop();
    const later = await create(t, { not_before: new Date(Date.now() + 3_600_000).toISOString() });
    expect(later.body.status).toBe('pending');
    const first = await create(t);
    expect(first.body.status).toBe('assigned');
    const dependent = await create(t, { depends_on: [first.body.id] });
    expect(dependent.body.status).toBe('waiting');
  });
});

describe('a report compare-and-sets on the version this replica remembers (no read first)', () => {
  it('a task changed behind the remembered row is decided on the row as it is: the new assignee completes, then the old one is refused', async () => {
    await using t = await quietApp(3);
    await schedulerOf(t).stopLoop();
    const res = await create(t);
    expect(res.body.status).toBe('assigned');
    expect(t.dispatch.context.versions.size).toBe(1);
    // Another replica re-assigns it to w2 (the replica here still remembers w1's row).
    await t.sql`update tasks set assignee = 'w2', attempt = attempt + 1 where id = ${res.body.id}`;
    // w2's report: the remembered row says w1 (a refusal there is decided again on a fresh read).
    const done = await t.call('POST', `/api/v1/tasks/${res.body.id}/complete`, { agent: 'w2', body: { result: { ok: 1 } } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', assignee: 'w2', result: { ok: 1 } });
    const stale = await t.call('POST', `/api/v1/tasks/${res.body.id}/complete`, { agent: 'w1', body: {} });
    expect(stale.status).toBe(409); // decided on the row as it is: completed
    expect(stale.body.code).toBe('invalid_transition');
  });

  it('progress then complete on remembered rows: each report sees the one before it', async () => {
    await using t = await quietApp(3);
    await schedulerOf(t).stopLoop();
    const { body: task } = await create(t);
    const p1 = await t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'w1', body: { message: 'a', percent: 10 } });
    expect(p1.body).toMatchObject({ status: 'running', progress: { message: 'a', percent: 10 } });
    const p2 = await t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'w1', body: { message: 'b', percent: 60 } });
    expect(p2.body.progress).toMatchObject({ message: 'b', percent: 60 });
    const done = await t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: {} });
    expect(done.body.status).toBe('completed');
    expect(done.body.started_at).toBe(p1.body.started_at);
    const events = await t.call('GET', `/api/v1/tasks/${task.id}/events`);
    expect(events.body.events.map((e: { type: string }) => e.type)).toEqual([
      'task.created',
      'task.assigned',
      'task.started',
      'task.progress',
      'task.progress',
      'task.completed',
    ]);
    expect(t.dispatch.context.versions.size).toBe(0); // finished rows are not kept
  });
});
