// Schedules (§11.1) end to end with a fake clock: validation, DST firing in New York, catch_up
// after a gap, overlap skip, trigger/pause/preview/history, and exactly-once firing with two
// replicas on one database, one of them killed mid-firing.
import { describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import type { ScheduleFirer } from '../src/schedules/firer.js';

function fakeClock(start: number) {
  let now = start;
  return {
    now: () => new Date(now),
    set: (ms: number) => {
      now = ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

async function firerOf(t: TestApp): Promise<ScheduleFirer> {
  const f = t.dispatch.components.find((c) => c.name === 'schedules') as ScheduleFirer | undefined;
  expect(f).toBeDefined();
  await f!.stopLoop();
  return f!;
}

const quiet = { assignment: { tick_interval_ms: 600_000 } };

async function firedFor(t: TestApp, scheduleId: string): Promise<string[]> {
  const rows = await t.sql<{ scheduled_for: Date }[]>`select scheduled_for from tasks where schedule_id = ${scheduleId} order by scheduled_for`;
  return rows.map((r) => r.scheduled_for.toISOString());
}

describe('schedules API', () => {
  it('refuses bad input with 400 and details naming the field, storing nothing; 409 schedule_exists for a taken name', async () => {
    await using t = await startApp({ config: quiet });
    const task = { title: 'GM', scope: 'notify' };
    const bad: [unknown, string][] = [
      [{ name: 'a', cron: '61 * * * *', task }, 'cron'],
      [{ name: 'a', cron: '0 7 * * *', timezone: 'Mars/Olympus', task }, 'timezone'],
      [{ name: 'a', calendar: { time: ['25:00'] }, task }, 'calendar.time.0'],
      [{ name: 'a', calendar: { time: ['09:00'], weekday: [8] }, task }, 'calendar.weekday.0'],
      [{ name: 'a', cron: '0 7 * * *', start_at: '2026-02-01T00:00:00Z', end_at: '2026-01-01T00:00:00Z', task }, 'end_at'],
      [{ name: 'a', cron: '0 7 * * *', workflow: { key: 'no_such_flow' } }, 'workflow.key'],
      [{ name: 'a', cron: '0 7 * * *' }, 'task'],
      [{ name: 'a', cron: '0 7 * * *', calendar: { time: ['09:00'] }, task }, 'calendar'],
      [{ name: 'a', cron: '0 7 * * *', task: { title: 'x', priority: 11 } }, 'task.priority'],
      [{ name: 'a', cron: '0 7 * * *', task: { title: 'x', depends_on: [] } }, 'task.depends_on'],
    ];
    for (const [body, field] of bad) {
      const res = await t.call('POST', '/api/v1/schedules', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(JSON.stringify(res.body.details), JSON.stringify(body)).toContain(field);
    }
    expect((await t.sql`select count(*)::int as n from schedules`)[0]!.n).toBe(0);
    const ok = await t.call('POST', '/api/v1/schedules', { body: { name: 'gm', cron: '0 7 * * *', task } });
    expect(ok.status).toBe(201);
    expect(ok.headers.location).toBe(`/api/v1/schedules/${ok.body.id}`);
    expect(ok.body).toMatchObject({ name: 'gm', requester: 'tester', timezone: 'UTC', overlap: 'skip', catch_up: 'latest', paused: false });
    const again = await t.call('POST', '/api/v1/schedules', { body: { name: 'gm', cron: '0 8 * * *', task } });
    expect(again).toMatchObject({ status: 409, body: { code: 'schedule_exists' } });
    expect((await t.call('POST', '/api/v1/schedules', { agent: 'other', body: { name: 'gm', cron: '0 8 * * *', task } })).status).toBe(201);
    expect((await t.call('PATCH', `/api/v1/schedules/${ok.body.id}`, { agent: 'other', body: { paused: true } })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/schedules/not-a-uuid')).body.code).toBe('invalid_id');
    expect((await t.call('DELETE', `/api/v1/schedules/${ok.body.id}`)).status).toBe(204);
    expect((await t.call('GET', `/api/v1/schedules/${ok.body.id}`)).status).toBe(404);
  });

  it('preview, pause/resume, trigger, runs history newest first, tasks?schedule_id=, start_within_ms → start_by', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 6, 59, 0));
    await using t = await startApp({ clock, config: quiet });
    const f = await firerOf(t);
    const s = (
      await t.call('POST', '/api/v1/schedules', {
        body: { name: 'gm', cron: '0 7 * * *', timezone: 'Europe/Paris', start_within_ms: 60_000, task: { title: 'GM', scope: 'notify', context: { a: 1 } } },
      })
    ).body;
    expect(s.next_run_at).toBe('2026-01-02T06:00:00.000Z'); // 07:00 Paris (UTC+1); 07:00 Jan 1 Paris already passed
    const preview = await t.call('GET', `/api/v1/schedules/${s.id}/preview?count=3`);
    expect(preview.body.occurrences).toEqual(['2026-01-02T06:00:00.000Z', '2026-01-03T06:00:00.000Z', '2026-01-04T06:00:00.000Z']);
    expect((await t.call('GET', `/api/v1/schedules/${s.id}/preview?count=101`)).status).toBe(400);

    clock.set(Date.UTC(2026, 0, 2, 6, 0, 0, 200));
    expect(await f.runOnce()).toMatchObject({ fired: 1, skipped: 0, nextAt: new Date('2026-01-03T06:00:00Z') });
    const listed = (await t.call('GET', `/api/v1/tasks?schedule_id=${s.id}`)).body.tasks;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      schedule_id: s.id,
      scheduled_for: '2026-01-02T06:00:00.000Z',
      start_by: '2026-01-02T06:01:00.000Z',
      requester: 'tester',
      title: 'GM',
      context: { a: 1 },
    });
    // A second run at the same instant fires nothing more.
    expect(await f.runOnce()).toMatchObject({ fired: 0 });

    const paused = await t.call('PATCH', `/api/v1/schedules/${s.id}`, { body: { paused: true } });
    expect(paused.body.paused).toBe(true);
    expect((await t.call('GET', `/api/v1/schedules/${s.id}/preview?count=1`)).body.occurrences).toEqual(['2026-01-03T06:00:00.000Z']);
    clock.set(Date.UTC(2026, 0, 4, 12));
    expect(await f.runOnce()).toMatchObject({ fired: 0 });
    // Trigger works while paused and ignores overlap (the first task is still pending).
    const trig = await t.call('POST', `/api/v1/schedules/${s.id}/trigger`);
    expect(trig.status).toBe(201);
    expect(trig.body).toMatchObject({ schedule_id: s.id, scheduled_for: clock.now().toISOString(), status: 'pending' });
    const resumed = await t.call('PATCH', `/api/v1/schedules/${s.id}`, { body: { paused: false } });
    expect(resumed.body.next_run_at).toBe('2026-01-05T06:00:00.000Z'); // recomputed from now: no catch-up of the pause
    const runs = (await t.call('GET', `/api/v1/schedules/${s.id}/runs`)).body.runs;
    expect(runs).toEqual([
      { occurrence: clock.now().toISOString(), fired_at: clock.now().toISOString(), outcome: 'fired', reason: 'trigger', task_id: trig.body.id, manual: true },
      { occurrence: '2026-01-02T06:00:00.000Z', fired_at: '2026-01-02T06:00:00.200Z', outcome: 'fired', task_id: listed[0].id, manual: false },
    ]);
  });

  it('a workflow schedule starts a run per occurrence', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 0, 0, 30));
    await using t = await startApp({ clock, config: quiet });
    const f = await firerOf(t);
    expect(
      (
        await t.call('PUT', '/api/v1/workflows/nightly', {
          body: {
            steps: [
              { id: 'a', task: { title: 'A' } },
              { id: 'b', task: { title: 'B' }, depends_on: ['a'] },
            ],
          },
        })
      ).status,
    ).toBe(201);
    const s = (await t.call('POST', '/api/v1/schedules', { body: { name: 'n', cron: '* * * * *', workflow: { key: 'nightly', context: { k: 1 } } } })).body;
    clock.set(Date.UTC(2026, 0, 1, 0, 1, 0));
    expect(await f.runOnce()).toMatchObject({ fired: 1 });
    const [hist] = (await t.call('GET', `/api/v1/schedules/${s.id}/runs`)).body.runs;
    const run = await t.call('GET', `/api/v1/runs/${hist.run_id}`);
    expect(run.body).toMatchObject({ workflow_key: 'nightly', requester: 'tester', status: 'running', context: { k: 1 } });
    const trig = await t.call('POST', `/api/v1/schedules/${s.id}/trigger`, { body: {} });
    expect(trig).toMatchObject({ status: 201, body: { workflow_key: 'nightly' } });
  });
});

describe('firing', () => {
  it('a cron in America/New_York across both DST changes of 2026 fires each local time once, the nonexistent one at the end of the gap', async () => {
    const clock = fakeClock(Date.UTC(2026, 2, 6, 12));
    await using t = await startApp({ clock, config: quiet });
    const f = await firerOf(t);
    const s = (
      await t.call('POST', '/api/v1/schedules', {
        body: { name: 'dst', cron: '30 1,2 * * *', timezone: 'America/New_York', catch_up: 'none', overlap: 'allow', task: { title: 'x' } },
      })
    ).body;
    const expected = {
      spring: [
        '2026-03-07T06:30:00.000Z', // 01:30 EST
        '2026-03-07T07:30:00.000Z', // 02:30 EST
        '2026-03-08T06:30:00.000Z', // 01:30 EST
        '2026-03-08T07:00:00.000Z', // 02:30 does not exist: 03:00 EDT
        '2026-03-09T05:30:00.000Z', // 01:30 EDT
        '2026-03-09T06:30:00.000Z', // 02:30 EDT
      ],
      fall: [
        '2026-10-31T05:30:00.000Z', // 01:30 EDT
        '2026-10-31T06:30:00.000Z',
        '2026-11-01T05:30:00.000Z', // 01:30 EDT, the first of two; never 06:30Z (01:30 EST)
        '2026-11-01T07:30:00.000Z', // 02:30 EST
        '2026-11-02T06:30:00.000Z', // 01:30 EST
        '2026-11-02T07:30:00.000Z',
      ],
    };
    expect((await t.call('GET', `/api/v1/schedules/${s.id}/preview?count=6`)).body.occurrences).toEqual(expected.spring);
    /** Move the clock to each next_run_at (and 300 ms past it) and fire, until `until`. */
    const fireUntil = async (until: number) => {
      for (;;) {
        const [row] = await t.sql<{ next_run_at: Date }[]>`select next_run_at from schedules where id = ${s.id}`;
        if (row!.next_run_at.getTime() > until) return;
        clock.set(row!.next_run_at.getTime() + 300);
        expect((await f.runOnce()).fired).toBe(1);
      }
    };
    await fireUntil(Date.UTC(2026, 2, 9, 12));
    expect(await firedFor(t, s.id)).toEqual(expected.spring);
    // Months pass with no replica running: catch_up none fires none of the missed ones.
    clock.set(Date.UTC(2026, 9, 30, 12));
    expect(await f.runOnce()).toMatchObject({ fired: 0, nextAt: new Date(expected.fall[0]!) });
    expect((await t.call('GET', `/api/v1/schedules/${s.id}/preview?count=6`)).body.occurrences).toEqual(expected.fall);
    await fireUntil(Date.UTC(2026, 10, 2, 12));
    expect(await firedFor(t, s.id)).toEqual([...expected.spring, ...expected.fall]);
  });

  it('the Wordware calendar (09:00, Sundays, December) fires on the Sundays of December', async () => {
    const clock = fakeClock(Date.UTC(2026, 10, 30));
    await using t = await startApp({ clock, config: quiet });
    const f = await firerOf(t);
    const s = (
      await t.call('POST', '/api/v1/schedules', {
        body: { name: 'w', calendar: { time: ['09:00'], weekday: [7], month: [12] }, overlap: 'allow', task: { title: 'x' } },
      })
    ).body;
    expect((await t.call('GET', `/api/v1/schedules/${s.id}/preview?count=4`)).body.occurrences).toEqual([
      '2026-12-06T09:00:00.000Z',
      '2026-12-13T09:00:00.000Z',
      '2026-12-20T09:00:00.000Z',
      '2026-12-27T09:00:00.000Z',
    ]);
    for (const d of [6, 13, 20, 27]) {
      clock.set(Date.UTC(2026, 11, d, 9, 0, 0, 100));
      expect((await f.runOnce()).fired).toBe(1);
    }
    expect(await firedFor(t, s.id)).toHaveLength(4);
  });

  it('catch_up after a 3-hour gap: latest fires the most recent missed occurrence once, none fires nothing, all fires each one', async () => {
    const start = Date.UTC(2026, 0, 1, 9, 0, 30);
    const clock = fakeClock(start);
    await using t = await startApp({ clock, config: quiet });
    const f = await firerOf(t);
    const ids: Record<string, string> = {};
    for (const catch_up of ['latest', 'none', 'all']) {
      ids[catch_up] = (
        await t.call('POST', '/api/v1/schedules', { body: { name: catch_up, cron: '*/10 * * * *', catch_up, overlap: 'allow', task: { title: catch_up } } })
      ).body.id;
    }
    clock.set(Date.UTC(2026, 0, 1, 9, 10, 0, 100));
    expect(await f.runOnce()).toMatchObject({ fired: 3 });
    // No replica runs for 3 hours; the next one starts at 12:15 (12:10 was missed too).
    clock.set(Date.UTC(2026, 0, 1, 12, 15));
    await f.runOnce();
    const n = async (k: string) => (await firedFor(t, ids[k]!)).length;
    expect(await firedFor(t, ids.latest!)).toEqual(['2026-01-01T09:10:00.000Z', '2026-01-01T12:10:00.000Z']);
    expect(await n('none')).toBe(1);
    expect(await n('all')).toBe(1 + 18); // 09:20 … 12:10
    for (const k of ['latest', 'none', 'all']) {
      expect((await t.call('GET', `/api/v1/schedules/${ids[k]}`)).body.next_run_at).toBe('2026-01-01T12:20:00.000Z');
    }
  });

  it('overlap skip: an occurrence is skipped (recorded with a reason) while the previous task runs, and fires once it ended', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 1, 0, 0, 30));
    await using t = await startApp({ clock, config: { ...quiet, agents: [{ id: 'scout', name: 'Scout', capabilities: ['work'], state: 'ready' }] } });
    const f = await firerOf(t);
    const s = (await t.call('POST', '/api/v1/schedules', { body: { name: 'o', cron: '* * * * *', task: { title: 'x', scope: 'work' } } })).body;
    clock.set(Date.UTC(2026, 0, 1, 0, 1));
    expect(await f.runOnce()).toMatchObject({ fired: 1, skipped: 0 });
    const [first] = (await t.call('GET', `/api/v1/tasks?schedule_id=${s.id}`)).body.tasks;
    // The task is assigned and running.
    const sched = t.dispatch.components.find((c) => c.name === 'scheduler') as unknown as { stopLoop(): Promise<void>; runOnce(): Promise<unknown> };
    await sched.stopLoop();
    await sched.runOnce();
    expect((await t.call('POST', `/api/v1/tasks/${first.id}/progress`, { agent: 'scout', body: {} })).body.status).toBe('running');
    clock.set(Date.UTC(2026, 0, 1, 0, 2));
    expect(await f.runOnce()).toMatchObject({ fired: 0, skipped: 1 });
    const [skipped] = (await t.call('GET', `/api/v1/schedules/${s.id}/runs`)).body.runs;
    expect(skipped).toMatchObject({
      occurrence: '2026-01-01T00:02:00.000Z',
      outcome: 'skipped',
      reason: `overlap: the previous occurrence's task ${first.id} is running`,
    });
    expect((await t.call('POST', `/api/v1/tasks/${first.id}/complete`, { agent: 'scout', body: {} })).status).toBe(200);
    clock.set(Date.UTC(2026, 0, 1, 0, 3));
    expect(await f.runOnce()).toMatchObject({ fired: 1, skipped: 0 });
    expect(await firedFor(t, s.id)).toEqual(['2026-01-01T00:01:00.000Z', '2026-01-01T00:03:00.000Z']);
  });

  it('two replicas, a schedule every second for 30 s of fake time, one killed mid-firing: every occurrence fires exactly once', async () => {
    const start = Date.UTC(2026, 0, 1, 0, 0, 0, 500);
    const clock = fakeClock(start);
    await using a = await startApp({ clock, config: quiet });
    const b = await startApp({ clock, config: quiet, db: a.db, applicationName: 'replica-b' });
    const fa = await firerOf(a);
    const fb = await firerOf(b);
    const s = (
      await a.call('POST', '/api/v1/schedules', { body: { name: 'tick', cron: '* * * * * *', overlap: 'allow', catch_up: 'all', task: { title: 'tick' } } })
    ).body;
    try {
      for (let i = 1; i <= 30; i++) {
        clock.set(start + i * 1000);
        if (i <= 10) {
          // Interleaved: one after the other, in alternating order.
          const [x, y] = i % 2 ? [fa, fb] : [fb, fa];
          await x.runOnce();
          await y.runOnce();
        } else if (i < 15) {
          await Promise.all([fa.runOnce(), fb.runOnce(), fa.runOnce()]);
        } else if (i === 15) {
          // Kill B in the middle of a firing: its backends terminated while the run is in flight; the promise is abandoned.
          const inflight = fb.runOnce().catch(() => 'killed');
          await a.sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'replica-b' and datname = current_database()`;
          await inflight;
          await fa.runOnce();
        } else {
          await fa.runOnce();
        }
      }
    } finally {
      await b.stop().catch(() => {});
    }
    const rows = await a.sql<{ scheduled_for: Date; n: number }[]>`
      select scheduled_for, count(*)::int as n from tasks where schedule_id = ${s.id} group by scheduled_for order by scheduled_for`;
    expect(rows.map((r) => r.n)).toEqual(Array(30).fill(1));
    expect(rows.map((r) => r.scheduled_for.getTime())).toEqual(Array.from({ length: 30 }, (_, i) => Date.UTC(2026, 0, 1, 0, 0, i + 1)));
    const claims = await a.sql<{ n: number }[]>`select count(*)::int as n from schedule_runs where schedule_id = ${s.id}`;
    expect(claims[0]!.n).toBe(30);
  });
});
