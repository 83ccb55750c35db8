// Retention (docs/retention.md): with a short retention the purge deletes finished tasks with their
// events, deliveries, idempotency keys and edges — and never what it must keep: live tasks, tasks of
// a live run, tasks a live task depends on, tasks with an unpublished event.
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { loadConfig } from '../src/config.js';
import { createRetention, restMs } from '../src/services/retention.js';

let t: TestApp;
const now = new Date('2032-01-01T00:00:00.000Z');
const HOUR = 3_600_000;

beforeAll(async () => {
  t = await startApp({ clock: { now: () => now }, config: { retention: { finished_task_ms: HOUR } } });
  // The relay would mark test-made event rows published behind our back.
  await t.dispatch.components.find((c) => c.name === 'event-relay')!.stop();
});
afterAll(async () => t?.stop());

async function finished(status: 'completed' | 'failed' | 'timed_out' | 'cancelled', at: Date, extra: Record<string, unknown> = {}) {
  const row = await insertTask(t.sql, { status: 'pending' });
  await t.sql`update tasks set status = ${status}, completed_at = ${at}, assignee = ${status === 'cancelled' ? null : 'w'} where id = ${row.id}`;
  if (Object.keys(extra).length) await t.sql`update tasks set ${t.sql(extra as never)} where id = ${row.id}`;
  await t.sql`delete from task_events_unpublished where task_id = ${row.id}`;
  return row.id;
}

const exists = async (id: string) => (await t.sql`select 1 from tasks where id = ${id}`).length === 1;

describe('retention', () => {
  it('purges old finished tasks with their rows, and keeps everything it must', async () => {
    const old = new Date(now.getTime() - 2 * HOUR);
    const recent = new Date(now.getTime() - HOUR / 2);
    const gone = await Promise.all((['completed', 'failed', 'timed_out', 'cancelled'] as const).map((s) => finished(s, old)));
    // Their satellites: an idempotency key, a delivered callback, a dependency edge to another finished task, a recorded beat.
    await t.sql`insert into idempotency_keys (requester, key, body_hash, task_id, created_at) values ('r', 'k1', 'h', ${gone[0]!}, ${old})`;
    await t.sql`insert into deliveries (task_id, event_id, type, url, status, next_attempt_at, created_at)
                values (${gone[0]!}, ${randomUUID()}, 'completed', 'https://x.example/cb', 'delivered', ${old}, ${old})`;
    await t.sql`insert into task_deps (task_id, depends_on_id) values (${gone[1]!}, ${gone[0]!})`;
    await t.sql`insert into task_beats (task_id, attempt, deadline) values (${gone[2]!}, 1, ${old})`;

    const live = await Promise.all((['pending', 'assigned', 'running'] as const).map((s) => insertTask(t.sql, { status: s }).then((r) => r.id)));
    const waiting = (await insertTask(t.sql, { status: 'pending' })).id;
    await t.sql`update tasks set status = 'waiting' where id = ${waiting}`;
    // Depended on by the waiting task: kept.
    const needed = await finished('completed', old, { has_dependents: true });
    await t.sql`insert into task_deps (task_id, depends_on_id) values (${waiting}, ${needed})`;
    // In a run that is still running: kept. In a finished run: purged, and the run with it.
    const liveRun = randomUUID();
    const doneRun = randomUUID();
    for (const [id, status] of [
      [liveRun, 'running'],
      [doneRun, 'completed'],
    ] as const) {
      await t.sql`insert into workflow_runs (id, workflow_key, version, requester, status, steps, created_at, updated_at, completed_at)
                  values (${id}, 'wf', 1, 'r', ${status}, '[]'::jsonb, ${old}, ${old}, ${status === 'running' ? null : old})`;
    }
    const inLiveRun = await finished('completed', old, { workflow_run_id: liveRun, step_id: 's' });
    const inDoneRun = await finished('completed', old, { workflow_run_id: doneRun, step_id: 's' });
    // An unpublished event: kept until it is published.
    const unpublished = await finished('completed', old);
    await t.sql`insert into task_events_unpublished (seq, id, task_id) select seq, id, task_id from task_events where task_id = ${unpublished}`;
    // A pending callback delivery: kept.
    const pendingCallback = await finished('completed', old);
    await t.sql`insert into deliveries (task_id, event_id, type, url, next_attempt_at, created_at)
                values (${pendingCallback}, ${randomUUID()}, 'completed', 'https://x.example/cb', ${old}, ${old})`;
    const young = await finished('completed', recent);

    const retention = createRetention(
      { ...t.dispatch.context, config: loadConfig({ file: null, env: {}, overrides: { retention: { finished_task_ms: HOUR } } }) },
      { batch: 2 },
    );
    const res = await retention.runOnce();
    expect(res).toMatchObject({ tasks: 5, idempotency_keys: 1, deliveries: 1, runs: 1 });
    expect(res.events).toBeGreaterThanOrEqual(5);

    for (const id of [...gone, inDoneRun]) {
      expect(await exists(id), id).toBe(false);
      expect((await t.call('GET', `/api/v1/tasks/${id}`)).status).toBe(404);
      expect(await t.sql`select 1 from task_events where task_id = ${id}`).toHaveLength(0);
    }
    expect(await t.sql`select 1 from deliveries where task_id = ${gone[0]!}`).toHaveLength(0);
    expect(await t.sql`select 1 from idempotency_keys where task_id = ${gone[0]!}`).toHaveLength(0);
    expect(await t.sql`select 1 from task_beats where task_id = ${gone[2]!}`).toHaveLength(0);
    expect(await t.sql`select 1 from task_deps where task_id = ${gone[1]!} or depends_on_id = ${gone[0]!}`).toHaveLength(0);
    expect(await t.sql`select 1 from workflow_runs where id = ${doneRun}`).toHaveLength(0);
    for (const id of [...live, waiting, needed, inLiveRun, unpublished, pendingCallback, young]) expect(await exists(id), id).toBe(true);
    expect(await t.sql`select 1 from workflow_runs where id = ${liveRun}`).toHaveLength(1);

    // A second pass finds nothing more; the counters say what went.
    expect(await retention.runOnce()).toMatchObject({ tasks: 0, runs: 0 });
    const metric = await t.dispatch.context.metrics.registry.getSingleMetricAsString('dispatch_retention_deleted_total');
    expect(metric).toContain('kind="tasks"');
  });

  it('keeps a parent task while a child of it is left, and never fails on one (parent_id is a foreign key)', async () => {
    const old = new Date(now.getTime() - 3 * HOUR);
    const older = new Date(now.getTime() - 4 * HOUR);
    const recent = new Date(now.getTime() - HOUR / 2);
    // A parent whose child is still running, one whose child finished too recently, and one
    // whose child is as old as it: only the last pair goes.
    const withLive = await finished('completed', older);
    const liveChild = (await insertTask(t.sql, { status: 'running', parent_id: withLive })).id;
    const withYoung = await finished('completed', older);
    const youngChild = await finished('completed', recent, { parent_id: withYoung });
    const withOld = await finished('completed', older);
    const oldChild = await finished('completed', old, { parent_id: withOld });

    const retention = createRetention(
      { ...t.dispatch.context, config: loadConfig({ file: null, env: {}, overrides: { retention: { finished_task_ms: HOUR } } }) },
      { batch: 2 },
    );
    // The child first; its parent on the next pass (the pass ends on a short batch).
    expect((await retention.runOnce()).tasks).toBe(1);
    expect(await exists(oldChild)).toBe(false);
    expect(await exists(withOld)).toBe(true);
    expect((await retention.runOnce()).tasks).toBe(1);
    for (const id of [withOld, oldChild]) expect(await exists(id), id).toBe(false);
    for (const id of [withLive, liveChild, withYoung, youngChild]) expect(await exists(id), id).toBe(true);
  });

  it('works a backlog in slices: a slice ends after its budget with more left, the next goes on', async () => {
    const old = new Date(now.getTime() - 5 * HOUR);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await finished('completed', new Date(old.getTime() + i)));
    const retention = createRetention(
      { ...t.dispatch.context, config: loadConfig({ file: null, env: {}, overrides: { retention: { finished_task_ms: HOUR } } }) },
      { batch: 2 },
    );
    // A zero budget: one full batch, then the slice ends and says more is left.
    const first = await retention.runSlice(0);
    expect(first).toMatchObject({ tasks: 2, more: true });
    expect(first.busyMs).toBeGreaterThan(0);
    expect(await exists(ids[0]!)).toBe(false);
    expect(await exists(ids[2]!)).toBe(true);
    const second = await retention.runSlice(0);
    expect(second).toMatchObject({ tasks: 2, more: true });
    // The last one comes back in a short batch: the slice goes on to the other kinds and ends with nothing left.
    expect(await retention.runSlice(0)).toMatchObject({ tasks: 1, more: false });
    for (const id of ids) expect(await exists(id), id).toBe(false);
  });

  it('rests so that the purge keeps a connection busy only busy_fraction of the time', () => {
    expect(restMs(100, 0.25)).toBe(300);
    expect(restMs(100, 0.5)).toBe(100);
    expect(restMs(100, 1)).toBe(0);
    expect(loadConfig({ file: null, env: {} }).retention.busy_fraction).toBe(0.25);
    for (const bad of [0, -0.1, 1.5, 'half']) {
      expect(() => loadConfig({ file: null, env: {}, overrides: { retention: { busy_fraction: bad } } }), String(bad)).toThrow(/busy_fraction/);
    }
  });

  it('keeps the newest schedule_runs_kept history rows per schedule', async () => {
    const sched = randomUUID();
    for (let i = 0; i < 7; i++) {
      await t.sql`insert into schedule_runs (schedule_id, occurrence, fired_at, outcome) values (${sched}, ${new Date(now.getTime() + i * 1000)}, ${now}, 'fired')`;
    }
    const retention = createRetention({
      ...t.dispatch.context,
      config: loadConfig({ file: null, env: {}, overrides: { retention: { finished_task_ms: 0, schedule_runs_kept: 3 } } }),
    });
    expect((await retention.runOnce()).schedule_runs).toBe(4);
    const left = await t.sql<{ occurrence: Date }[]>`select occurrence from schedule_runs where schedule_id = ${sched} order by occurrence`;
    expect(left.map((r) => r.occurrence.getTime())).toEqual([4, 5, 6].map((i) => now.getTime() + i * 1000));
  });

  it('/metrics shows the size of each table, read at scrape time', async () => {
    const text = await (await request(`${t.opsUrl}/metrics`)).body.text();
    const tasks = /^dispatch_table_bytes\{table="tasks"\} (\d+)/m.exec(text);
    expect(Number(tasks?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^dispatch_table_bytes\{table="task_events"\} \d+/m);
  });

  it('hermes.event_retention_hours stays accepted as the alias of retention.event_ms', () => {
    expect(loadConfig({ file: null, env: {}, overrides: { hermes: { event_retention_hours: 2 } } }).retention.event_ms).toBe(2 * HOUR);
    expect(loadConfig({ file: null, env: {}, overrides: { hermes: { event_retention_hours: 2 }, retention: { event_ms: 5000 } } }).retention.event_ms).toBe(
      5000,
    );
    expect(loadConfig({ file: null, env: {} }).retention.event_ms).toBe(7 * 24 * HOUR);
  });
});
