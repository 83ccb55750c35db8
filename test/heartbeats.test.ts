// Heartbeats (§16.1, docs/heartbeats.md): the heartbeat timeout retries a silent worker's task on
// another agent within one tick, a worker that keeps beating is timed out only by timeout_ms, a
// late beat from a former assignee is refused and changes nothing, and beats are coalesced into
// one write per flush. Fake clock; ticks and flushes are called by hand.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { schedulerOf } from './fakes/swarm.js';
import type { Scheduler } from '../src/assignment/scheduler.js';
import type { Heartbeats } from '../src/services/heartbeats.js';
import type { EventEnvelope } from '../src/store/events.js';

let t: TestApp;
let s: Scheduler;
let hb: Heartbeats;
let now = new Date('2031-05-06T07:00:00.000Z');
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

beforeAll(async () => {
  t = await startApp({
    clock: { now: () => now },
    random: () => 0, // backoff 0: a retried task is due again in the same tick
    config: {
      agents: [
        { id: 'alpha', name: 'Alpha', capabilities: ['x'], state: 'ready' },
        { id: 'beta', name: 'Beta', capabilities: ['x', 'y'], state: 'ready' },
      ],
      // Ticks driven by hand: no sync match at create.
      assignment: { wake_timeout_ms: 600_000, max_concurrent_per_agent: 10, sync_match: false },
    },
  });
  s = schedulerOf(t);
  await s.stopLoop();
  hb = t.dispatch.context.heartbeats;
  await hb.loop.stop(); // flushes only when the test says so
});
afterAll(async () => t?.stop());
beforeEach(async () => {
  advance(3_600_000);
  await hb.flush();
  // Nothing left over from the previous test: every task ended, so each starts from idle agents.
  await t.sql`update tasks set status = 'cancelled', completed_at = now(), deadline_at = null, wake_deadline_at = null, heartbeat_deadline_at = null
    where status in ('pending','assigned','running','waiting')`;
});

async function create(body: Record<string, unknown>): Promise<string> {
  const r = await t.call('POST', '/api/v1/tasks', { agent: 'req', body: { title: 'work', ...body } });
  expect(r.status).toBe(201);
  return r.body.id;
}

/**
 * The task as the sweep sees it: heartbeat_deadline_at is the later of the row's and the last beat
 * recorded for its attempt (task_beats, migrations/0070), null while the row has none.
 */
async function row(id: string) {
  const [r] = await t.sql<
    { status: string; assignee: string | null; heartbeat_deadline_at: Date | null; retry_count: number; error: string | null }[]
  >`select t.status, t.assignee,
      case when t.heartbeat_deadline_at is not null then greatest(t.heartbeat_deadline_at, b.deadline) end as heartbeat_deadline_at,
      t.retry_count, t.error
    from tasks t left join task_beats b on b.task_id = t.id and b.attempt = t.attempt where t.id = ${id}`;
  return r!;
}

/** The task row's own version and stored heartbeat deadline. */
async function stored(id: string) {
  const [r] = await t.sql<{ version: string; heartbeat_deadline_at: Date | null }[]>`
    select xmin::text as version, heartbeat_deadline_at from tasks where id = ${id}`;
  return r!;
}

async function events(id: string): Promise<EventEnvelope[]> {
  return (await t.sql<{ envelope: EventEnvelope }[]>`select envelope from task_events where task_id = ${id} and kind = 'task' order by seq`).map(
    (r) => r.envelope,
  );
}

const beat = (id: string, agent: string) => t.call('POST', `/api/v1/tasks/${id}/heartbeat`, { agent });

describe('create', () => {
  it('accepts heartbeat_timeout_ms 1000..timeout_ms inclusive, null by default', async () => {
    const plain = await t.call('POST', '/api/v1/tasks', { agent: 'req', body: { title: 'a' } });
    expect(plain.body.heartbeat_timeout_ms).toBeNull();
    const edge = await t.call('POST', '/api/v1/tasks', { agent: 'req', body: { title: 'a', timeout_ms: 5000, heartbeat_timeout_ms: 5000 } });
    expect(edge.status).toBe(201);
    expect(edge.body.heartbeat_timeout_ms).toBe(5000);
    for (const bad of [999, 5001, 0, 1.5, '2000']) {
      const r = await t.call('POST', '/api/v1/tasks', { agent: 'req', body: { title: 'a', timeout_ms: 5000, heartbeat_timeout_ms: bad } });
      expect(r.status, String(bad)).toBe(400);
      expect(r.body.code).toBe('validation_failed');
    }
  });
});

describe('heartbeat timeout', () => {
  it('a running task whose worker stops heartbeating is retried within one tick after heartbeat_timeout_ms, on another agent', async () => {
    // beta holds other work (busy ×0.5), so alpha (idle ×1.0) wins the first assignment.
    await create({ scope: 'y' });
    expect((await s.runOnce()).assigned.map((a) => a.agent)).toEqual(['beta']);
    const id = await create({ scope: 'x', timeout_ms: 60_000, heartbeat_timeout_ms: 2000, max_retries: 2 });
    expect((await s.runOnce()).assigned).toEqual([{ taskId: id, agent: 'alpha', woke: false }]);
    expect((await t.call('POST', `/api/v1/tasks/${id}/progress`, { agent: 'alpha', body: { message: 'on it' } })).status).toBe(200);
    advance(1500);
    expect((await beat(id, 'alpha')).status).toBe(204);
    await hb.flush();
    expect((await row(id)).heartbeat_deadline_at?.toISOString()).toBe(new Date(now.getTime() + 2000).toISOString());
    advance(1999); // the worker falls silent after that beat
    expect(await s.runOnce()).toMatchObject({ retriedAfterTimeout: 0, timedOut: 0, assigned: [] });
    advance(1);
    // One tick: the sweep retries it (backoff 0), the assignment avoids alpha and gives it to beta.
    expect(await s.runOnce()).toMatchObject({ retriedAfterTimeout: 1, assigned: [{ taskId: id, agent: 'beta' }] });
    expect(await row(id)).toMatchObject({ status: 'assigned', assignee: 'beta', retry_count: 1, error: 'no heartbeat for 2000 ms' });
    const evs = await events(id);
    const timeout = evs.find((e) => e.type === 'task.timeout')!;
    expect(timeout.data).toMatchObject({ reason: 'heartbeat', agent: 'alpha', will_retry: true, retry_count: 1 });
    expect(evs.map((e) => e.type).slice(-3)).toEqual(['task.timeout', 'task.retry', 'task.assigned']);

    // A late heartbeat (or progress) from the former assignee is refused and changes nothing.
    const before = await row(id);
    const late = await beat(id, 'alpha');
    expect(late.status).toBe(403);
    expect(late.body.code).toBe('not_assignee');
    expect(hb.size).toBe(0);
    expect(await hb.flush()).toBe(0);
    expect(await row(id)).toEqual(before);
    expect((await events(id)).length).toBe(evs.length);
  });

  it('counts from the assignment: an assigned task with no beat at all times out, and ends timed_out with no retries left', async () => {
    const id = await create({ scope: 'x', heartbeat_timeout_ms: 1000, max_retries: 0 });
    expect((await s.runOnce()).assigned.map((a) => a.taskId)).toEqual([id]);
    advance(999);
    expect(await s.runOnce()).toMatchObject({ timedOut: 0 });
    advance(1);
    expect(await s.runOnce()).toMatchObject({ timedOut: 1 });
    expect((await row(id)).status).toBe('timed_out');
    expect((await events(id)).at(-1)).toMatchObject({ type: 'task.timeout', data: { reason: 'heartbeat', will_retry: false } });
    // On a task that is no longer active: 409, with the details of the other 409s.
    const late = await beat(id, (await row(id)).assignee!);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ code: 'invalid_transition', details: { from: 'timed_out' } });
  });

  it('a worker that keeps heartbeating is never timed out before timeout_ms (beats flushed or still buffered)', async () => {
    const id = await create({ scope: 'x', timeout_ms: 10_000, heartbeat_timeout_ms: 2000, max_retries: 0 });
    const [a] = (await s.runOnce()).assigned;
    const start = now.getTime();
    const tick = async () => expect(await s.runOnce(), `at +${now.getTime() - start} ms`).toMatchObject({ timedOut: 0, retriedAfterTimeout: 0 });
    for (let k = 1; k <= 6; k++) {
      advance(k === 1 ? 1500 : 100); // a beat every 1.5 s
      expect((await beat(id, a!.agent)).status).toBe(204);
      // Every other beat is still buffered through the next ticks, past the deadline the database
      // holds: the sweep counts it all the same.
      if (k % 2 === 1) await hb.flush();
      await tick();
      advance(k < 6 ? 1400 : 999); // 1.4 s after the beat; the last to 1 ms before timeout_ms
      await tick();
    }
    expect((await row(id)).status).toBe('assigned');
    advance(1); // timeout_ms is over: the attempt deadline, not the heartbeat, ends it
    expect(await s.runOnce()).toMatchObject({ timedOut: 1 });
    expect((await events(id)).at(-1)).toMatchObject({ type: 'task.timeout', data: { reason: 'retries_exhausted' } });
  });

  it('progress is a heartbeat: it moves the heartbeat deadline in the same write', async () => {
    const id = await create({ scope: 'x', heartbeat_timeout_ms: 3000 });
    const [a] = (await s.runOnce()).assigned;
    advance(2500);
    expect((await t.call('POST', `/api/v1/tasks/${id}/progress`, { agent: a!.agent, body: { percent: 10 } })).status).toBe(200);
    expect((await row(id)).heartbeat_deadline_at?.getTime()).toBe(now.getTime() + 3000);
    advance(2999);
    expect(await s.runOnce()).toMatchObject({ retriedAfterTimeout: 0 });
    expect((await row(id)).status).toBe('running');
  });
});

describe('coalescing', () => {
  it('many beats on many tasks: one write per task per flush, in one statement; no event row', async () => {
    const ids = [];
    for (let k = 0; k < 3; k++) ids.push(await create({ scope: 'x', heartbeat_timeout_ms: 5000 }));
    const assigned = (await s.runOnce()).assigned;
    expect(assigned).toHaveLength(3);
    const eventsBefore = await Promise.all(ids.map((id) => events(id)));
    for (let n = 0; n < 10; n++) {
      advance(50);
      for (const a of assigned) expect((await beat(a.taskId, a.agent)).status).toBe(204);
    }
    expect(hb.size).toBe(3);
    expect(await hb.flush()).toBe(3); // the last beat of each task, in one statement
    expect(hb.size).toBe(0);
    for (const id of ids) expect((await row(id)).heartbeat_deadline_at?.getTime()).toBe(now.getTime() + 5000);
    expect(await Promise.all(ids.map((id) => events(id)))).toEqual(eventsBefore);
  });

  it("a flush records the beat beside the task, not in it; the sweep moves the task's deadline once it has passed", async () => {
    const id = await create({ scope: 'x', heartbeat_timeout_ms: 2000, timeout_ms: 60_000, max_retries: 0 });
    const [a] = (await s.runOnce()).assigned;
    const assigned = await stored(id);
    expect(assigned.heartbeat_deadline_at?.getTime()).toBe(now.getTime() + 2000);
    for (let k = 0; k < 3; k++) {
      advance(600);
      expect((await beat(id, a!.agent)).status).toBe(204);
      expect(await hb.flush()).toBe(1);
    }
    // Three flushes, and the task's row is the version the assignment wrote.
    expect(await stored(id)).toEqual(assigned);
    expect((await row(id)).heartbeat_deadline_at?.getTime()).toBe(now.getTime() + 2000);
    // Past the row's deadline, not the beat's: the sweep keeps the task and moves the row's deadline.
    advance(1000);
    expect(await s.runOnce()).toMatchObject({ retriedAfterTimeout: 0, timedOut: 0 });
    const moved = await stored(id);
    expect(moved.version).not.toBe(assigned.version);
    expect(moved.heartbeat_deadline_at?.getTime()).toBe(now.getTime() + 1000);
    expect((await row(id)).status).toBe('assigned');
    // Silent since: it times out at the beat's deadline.
    advance(1000);
    expect(await s.runOnce()).toMatchObject({ timedOut: 1 });
  });

  it('a beat recorded for an earlier attempt keeps no later one alive', async () => {
    const id = await create({ scope: 'x', heartbeat_timeout_ms: 1000, timeout_ms: 60_000, max_retries: 1 });
    const [a] = (await s.runOnce()).assigned;
    advance(500);
    expect((await beat(id, a!.agent)).status).toBe(204);
    expect(await hb.flush()).toBe(1);
    advance(1000); // the beat's deadline: the attempt times out, and the retry is assigned in the same tick
    expect(await s.runOnce()).toMatchObject({ retriedAfterTimeout: 1, assigned: [{ taskId: id }] });
    // The first attempt's beat, as if it were still far ahead: the second attempt does not count it.
    const forged = await t.sql<{ attempt: number }[]>`
      update task_beats set deadline = ${new Date(now.getTime() + 60_000)} where task_id = ${id} returning attempt`;
    expect(forged.map((r) => r.attempt)).toEqual([1]);
    advance(1000);
    expect(await s.runOnce()).toMatchObject({ timedOut: 1 });
    expect((await row(id)).status).toBe('timed_out');
  });

  it('a task without heartbeat_timeout_ms accepts beats from its assignee and writes nothing', async () => {
    const id = await create({ scope: 'x' });
    const [a] = (await s.runOnce()).assigned;
    expect((await beat(id, a!.agent)).status).toBe(204);
    expect(hb.size).toBe(0);
    expect((await beat(id, 'someone-else')).status).toBe(403);
    expect((await t.call('POST', `/api/v1/tasks/00000000-0000-4000-8000-000000000000/heartbeat`, { agent: 'alpha' })).status).toBe(404);
  });

  it('a beat buffered for a task that moved on before the flush changes nothing', async () => {
    const id = await create({ scope: 'x', heartbeat_timeout_ms: 5000 });
    const [a] = (await s.runOnce()).assigned;
    advance(100);
    expect((await beat(id, a!.agent)).status).toBe(204);
    expect((await t.call('POST', `/api/v1/tasks/${id}/complete`, { agent: a!.agent, body: {} })).status).toBe(200);
    const before = await row(id);
    expect(await hb.flush()).toBe(0);
    expect(await row(id)).toEqual(before);
    expect(before.heartbeat_deadline_at).toBeNull();
  });

  it('stop() writes what is buffered', async () => {
    const id = await create({ scope: 'x', heartbeat_timeout_ms: 5000 });
    const [a] = (await s.runOnce()).assigned;
    advance(700);
    expect((await beat(id, a!.agent)).status).toBe(204);
    await hb.stop();
    expect((await row(id)).heartbeat_deadline_at?.getTime()).toBe(now.getTime() + 5000);
  });
});

describe('templates', () => {
  it("a workflow step's and a schedule's task carry heartbeat_timeout_ms; one that could never create a task is refused when defined", async () => {
    const put = await t.call('PUT', '/api/v1/workflows/beating', {
      agent: 'req',
      body: { steps: [{ id: 'a', task: { title: 'a', timeout_ms: 60_000, heartbeat_timeout_ms: 5000 } }] },
    });
    expect(put.status).toBe(201);
    const run = await t.call('POST', '/api/v1/workflows/beating/runs', { agent: 'req', body: {} });
    expect(run.status).toBe(201);
    const [step] = await t.sql<{ heartbeat_timeout_ms: number | null }[]>`select heartbeat_timeout_ms from tasks where id = ${run.body.steps[0].task_id}`;
    expect(step!.heartbeat_timeout_ms).toBe(5000);

    const sched = await t.call('POST', '/api/v1/schedules', {
      agent: 'req',
      body: { name: 'beating', cron: '0 7 * * *', task: { title: 's', timeout_ms: 60_000, heartbeat_timeout_ms: 2000 } },
    });
    expect(sched.status).toBe(201);
    const fired = await t.call('POST', `/api/v1/schedules/${sched.body.id}/trigger`, { agent: 'req' });
    expect(fired.status).toBe(201);
    expect(fired.body).toMatchObject({ schedule_id: sched.body.id, heartbeat_timeout_ms: 2000 });

    // Longer than the template's timeout, or than the default timeout when it sets none: 400, nothing stored.
    const badStep = await t.call('PUT', '/api/v1/workflows/never', {
      agent: 'req',
      body: { steps: [{ id: 'a', task: { title: 'a', timeout_ms: 5000, heartbeat_timeout_ms: 6000 } }] },
    });
    expect(badStep.status).toBe(400);
    expect(badStep.body.details).toEqual([expect.objectContaining({ field: 'steps.0.task.heartbeat_timeout_ms' })]);
    expect((await t.call('GET', '/api/v1/workflows/never', { agent: 'req' })).status).toBe(404);
    const badSchedule = await t.call('POST', '/api/v1/schedules', {
      agent: 'req',
      body: { name: 'never', cron: '0 7 * * *', task: { title: 's', heartbeat_timeout_ms: t.config.assignment.default_timeout_ms + 1 } },
    });
    expect(badSchedule.status).toBe(400);
    expect(badSchedule.body.details).toEqual([expect.objectContaining({ field: 'task.heartbeat_timeout_ms' })]);
    const fix = await t.call('PATCH', `/api/v1/schedules/${sched.body.id}`, {
      agent: 'req',
      body: { task: { title: 's', timeout_ms: 1500, heartbeat_timeout_ms: 2000 } },
    });
    expect(fix.status).toBe(400);
  });
});
