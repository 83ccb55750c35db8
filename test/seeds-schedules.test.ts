// Wordware events (CONTRACT §19.2): the dispatcher's own event JSON POSTed verbatim becomes a
// calendar schedule whose tasks call the flow's api; schedules.default_timezone; schedules.dir
// applies a folder of such files at start (created, then updated in place), and an invalid file
// stops the start — in process, and as a real process with exit code 2 naming file and problem.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { createTestDatabase } from './helpers/db.js';
import type { ScheduleFirer } from '../src/schedules/firer.js';
import { freePort } from '../src/store/embedded.js';

const EVENT = readFileSync(new URL('./fixtures/seeds/morning_notification.json', import.meta.url));
const quiet = { assignment: { tick_interval_ms: 600_000 } };

function fakeClock(start: number) {
  let now = start;
  return { now: () => new Date(now), set: (ms: number) => void (now = ms) };
}

async function firerOf(t: TestApp): Promise<ScheduleFirer> {
  const f = t.dispatch.components.find((c) => c.name === 'schedules') as ScheduleFirer;
  await f.stopLoop();
  return f;
}

const wordwareTask = {
  title: 'morning_notification',
  call: {
    url: 'https://app.wordware.ai/api/released-app/.../run',
    method: 'POST',
    credential: 'wordware',
    body: { inputs: { webhook_url: 'https://discord.com/api/webhooks/...', message: 'GM!' }, version: '^1.0' },
  },
};

const dirWith = (files: Record<string, string | Buffer>) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-schedules-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
};

describe('the Wordware event, verbatim', () => {
  it('POST /api/v1/schedules with the seed event: 201, a calendar schedule whose occurrence creates the call task', async () => {
    const clock = fakeClock(Date.UTC(2026, 10, 1, 12));
    await using t = await startApp({ clock, config: quiet });
    const f = await firerOf(t);
    const res = await t.call('POST', '/api/v1/schedules', { rawBody: EVENT, headers: { 'content-type': 'application/json' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      name: 'morning_notification',
      requester: 'tester',
      cron: null,
      calendar: { time: ['09:00'], weekday: [7], day: [], month: [12] },
      timezone: 'UTC',
      task: wordwareTask,
      workflow: null,
      // Sundays of December at 09:00: the first after 1 November 2026 is 6 December.
      next_run_at: '2026-12-06T09:00:00.000Z',
    });
    expect(res.body).not.toHaveProperty('flow');
    const preview = (await t.call('GET', `/api/v1/schedules/${res.body.id}/preview?count=2`)).body.occurrences;
    expect(preview).toEqual(['2026-12-06T09:00:00.000Z', '2026-12-13T09:00:00.000Z']);

    clock.set(Date.UTC(2026, 11, 6, 9));
    expect(await f.runOnce()).toMatchObject({ fired: 1 });
    const tasks = (await t.call('GET', `/api/v1/tasks?schedule_id=${res.body.id}`)).body.tasks;
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ ...wordwareTask, requester: 'tester', scheduled_for: '2026-12-06T09:00:00.000Z' });
  });

  it('schedules.default_timezone applies to a schedule without one; mixed forms and a bad flow → 400, nothing stored', async () => {
    await using t = await startApp({ config: { ...quiet, schedules: { default_timezone: 'Europe/Berlin' } } });
    const event = JSON.parse(EVENT.toString());
    const bad: [unknown, string][] = [
      [{ ...event, task: { title: 'x' } }, 'flow'],
      [{ ...event, cron: '0 9 * * *' }, 'schedule'],
      [{ ...event, flow: { ...event.flow, api: 'app.wordware.ai/run' } }, 'flow.api'],
      [{ ...event, flow: { ...event.flow, extra: 1 } }, 'flow'],
      [{ ...event, schedule: { ...event.schedule, weekday: [8] } }, 'schedule.weekday.0'],
      [{ name: event.name, flow: event.flow }, 'cron'],
    ];
    for (const [body, field] of bad) {
      const res = await t.call('POST', '/api/v1/schedules', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(JSON.stringify(res.body.details ?? res.body.error), JSON.stringify(body)).toContain(field);
    }
    expect((await t.sql`select count(*)::int as n from schedules`)[0]!.n).toBe(0);
    const ok = await t.call('POST', '/api/v1/schedules', { body: event });
    expect(ok.body.timezone).toBe('Europe/Berlin');
    const explicit = await t.call('POST', '/api/v1/schedules', { body: { ...event, name: 'utc', timezone: 'UTC' } });
    expect(explicit.body.timezone).toBe('UTC');
  });

  it('an unknown schedules.default_timezone is a configuration error', async () => {
    await expect(startApp({ config: { schedules: { default_timezone: 'Mars/Olympus' } } })).rejects.toThrow(/default_timezone/);
  });
});

describe('schedules.dir', () => {
  it('applies every *.json at start as requester dispatch:files, and a changed file updates its schedule in place', async () => {
    const db = await createTestDatabase();
    try {
      const evening = JSON.stringify({
        name: 'evening',
        flow: { input: { m: 'GN' }, api: 'https://app.wordware.ai/api/x/run' },
        schedule: { time: ['21:00'] },
      });
      const dir = dirWith({ 'morning.json': EVENT, 'evening.json': evening, 'notes.txt': 'not an event' });
      {
        await using t = await startApp({ db, config: { ...quiet, schedules: { dir } } });
        const listed = (await t.call('GET', '/api/v1/schedules?requester=dispatch:files')).body.schedules as any[];
        expect(listed.map((s) => s.name).sort()).toEqual(['evening', 'morning_notification']);
        expect(listed.find((s) => s.name === 'morning_notification')).toMatchObject({ requester: 'dispatch:files', task: wordwareTask, timezone: 'UTC' });
      }
      const before = await db.sql<{ id: string; name: string; updated_at: Date }[]>`select id, name, updated_at from schedules order by name`;
      // The same files again: nothing changes. Then the evening time moves: the same row, retimed.
      {
        await using _ = await startApp({ db, config: { ...quiet, schedules: { dir } } });
      }
      expect(await db.sql`select id, name, updated_at from schedules order by name`).toEqual(before);
      writeFileSync(path.join(dir, 'evening.json'), evening.replace('21:00', '22:30'));
      {
        await using t = await startApp({ db, config: { ...quiet, schedules: { dir } } });
        const evening2 = (await t.call('GET', `/api/v1/schedules/${before[0]!.id}`)).body;
        expect(evening2).toMatchObject({ name: 'evening', calendar: { time: ['22:30'] } });
        expect(evening2.next_run_at.slice(11, 16)).toBe('22:30');
        expect((await t.sql`select count(*)::int as n from schedules`)[0]!.n).toBe(2);
      }
    } finally {
      await db.drop();
    }
  });

  it('an invalid file stops the start, naming every file and problem; nothing is stored', async () => {
    const db = await createTestDatabase();
    try {
      const dir = dirWith({
        'good.json': EVENT,
        'broken.json': '{ "name": "x", ',
        'wrong.json': JSON.stringify({ name: 'w', flow: { api: 'nope' }, schedule: { time: ['25:00'] }, colour: 'red' }),
        'late.json': JSON.stringify({ name: 'late', flow: { api: 'https://a.example/run' }, schedule: { time: ['25:00'], weekday: [9] } }),
      });
      const started = startApp({ db, config: { ...quiet, schedules: { dir } } });
      await expect(started).rejects.toThrow(/schedules\.dir .* has invalid files/);
      const message = await started.catch((e: Error) => e.message);
      expect(message).toMatch(/broken\.json: file is not JSON/);
      expect(message).toMatch(/wrong\.json: .*colour is not an accepted field/);
      expect(message).toMatch(/wrong\.json: .*flow\.api/);
      expect(message).toMatch(/late\.json: schedule\.time\.0 .*schedule\.weekday\.0/);
      expect(message).not.toMatch(/good\.json/);
      expect((await db.sql`select count(*)::int as n from schedules`)[0]!.n).toBe(0);
    } finally {
      await db.drop();
    }
  });

  it('as a process: an invalid file exits with code 2 and names the file and its problem on stderr', async () => {
    const db = await createTestDatabase();
    try {
      const dir = dirWith({
        'morning.json': EVENT,
        'bad.json': JSON.stringify({ name: 'bad', flow: { api: 'https://a.example/run' }, schedule: { time: ['9:00 am'] } }),
      });
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: {
          ...process.env,
          DISPATCH_CONFIG: path.join(dir, 'none.yaml'),
          DISPATCH_DATABASE_URL: db.url,
          DISPATCH_SCHEDULES_DIR: dir,
          DISPATCH_PORT: String(await freePort()),
          DISPATCH_METRICS_PORT: String(await freePort()),
          DISPATCH_HOST: '127.0.0.1',
          DISPATCH_LOG_LEVEL: 'silent',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      writeFileSync(path.join(dir, 'none.yaml'), '{}\n');
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code, stderr).toBe(2);
      expect(stderr).toMatch(/schedules\.dir .* has invalid files/);
      expect(stderr).toMatch(/bad\.json: schedule\.time\.0 must be HH:MM/);
      expect(stderr).not.toMatch(/at .*\.ts:\d+/); // no stack
      expect((await db.sql`select count(*)::int as n from schedules`)[0]!.n).toBe(0);
    } finally {
      await db.drop();
    }
  }, 60_000);
});
