// Workflows in the Wisely form (CONTRACT §19.1): the seed's own daily_instructor_v1.yml PUT
// verbatim, call steps normalised to the object form and carried by their tasks, the trigger's
// cron owning a schedule (updated and paused by new versions), trigger events over HTTP and NATS
// starting exactly one run per listening workflow (a repeated key, a redelivery, two replicas),
// the seed's dispatch body (POST /api/v1/runs), and bad definitions refused with nothing stored.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { startApp, type TestApp } from './helpers/app.js';
import { natsConnect, waitFor } from './helpers/events.js';
import { startNatsServer, type NatsServer } from './helpers/nats-server.js';
import type { ScheduleFirer } from '../src/schedules/firer.js';
import { json, startReceiver, type Receiver } from './helpers/receiver.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/seeds/${name}`, import.meta.url));
const DAILY = fixture('daily_instructor_v1.yml');
const WEEKLY = fixture('weekly_seed_v1.yml');
const yaml = { 'content-type': 'application/yaml' };

function fakeClock(start: number) {
  let now = start;
  return { now: () => new Date(now), set: (ms: number) => void (now = ms) };
}

async function putYaml(t: TestApp, key: string, body: Buffer | string) {
  return t.call('PUT', `/api/v1/workflows/${key}`, { rawBody: body, headers: yaml });
}

// The Wisely edge functions the seed's steps call (http_work.base_url, Wisely's EDGE_BASE_URL): a
// real receiver answering {ok: true, …}; the call executor performs the steps against it.
let edge: Receiver;
const EDGE_PATHS = [...new Set([DAILY, WEEKLY].flatMap((f) => [...f.toString().matchAll(/call: "([^"]+)"/g)].map((m) => m[1]!)).concat('/hello'))];
beforeAll(async () => {
  edge = await startReceiver();
  edge.on('/functions/v1/agent-proxy/snapshot', (_q, res) => json(res, 200, { ok: true, mood: 'up' }));
  for (const path of EDGE_PATHS.filter((p) => p !== '/functions/v1/agent-proxy/snapshot')) edge.on(path, (_q, res) => json(res, 200, { ok: true, path }));
});
afterAll(async () => {
  await edge?.close();
});
/** Each app's config: the edge as base_url (loopback allowed), and the `wisely` credential. */
const seedConfig = (extra: Record<string, unknown> = {}) => ({
  assignment: { tick_interval_ms: 600_000 },
  http_work: { base_url: edge.url(''), allowed_hosts: ['127.0.0.1'], credentials: { wisely: 'edge-secret' } },
  ...extra,
});

const countOf = async (t: TestApp, table: string) => (await t.sql.unsafe(`select count(*)::int as n from ${table}`))[0]!.n as number;

describe('the Wisely seed, verbatim', () => {
  it('PUT daily_instructor_v1.yml as is: 201, call steps in the object form, a second PUT changes nothing', async () => {
    await using t = await startApp({ config: seedConfig() });
    // The fixture is the seed's block byte for byte (no timezone, quoted lists, three call steps).
    expect(DAILY.toString()).toContain('event_types: [ "streak_ping", "user_start_day" ]');
    const res = await putYaml(t, 'daily_instructor_v1', DAILY);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      key: 'daily_instructor_v1',
      version: 1,
      trigger: { type: 'cron_or_event', event_types: ['streak_ping', 'user_start_day'], cron: '0 7 * * *' },
      steps: [
        { id: 'gather_signals', call: { url: '/functions/v1/agent-proxy/snapshot', method: 'GET', timeout_ms: 8000 } },
        { id: 'create_plan', call: { url: '/functions/v1/agent-proxy/instructor/daily', method: 'POST' }, depends_on: ['gather_signals'] },
        { id: 'notify', call: { url: '/functions/v1/agent-proxy/notify', method: 'POST' }, depends_on: ['create_plan'] },
      ],
    });
    expect(res.body.steps[0]).not.toHaveProperty('task');
    const again = await putYaml(t, 'daily_instructor_v1', DAILY);
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(1);
    // The weekly seed (trigger type cron, calls without a method: POST) too.
    const weekly = await putYaml(t, 'weekly_seed_v1', WEEKLY);
    expect(weekly.status, JSON.stringify(weekly.body)).toBe(201);
    expect(weekly.body.trigger).toEqual({ type: 'cron', cron: '0 18 * * SUN' });
    expect(weekly.body.steps[3]).toEqual({
      id: 'brand_ingest',
      call: { url: '/functions/v1/agent-proxy/brand/update-briefing', method: 'POST' },
      depends_on: ['ta_generate_week', 'socratic_seed'],
    });
  });

  it('trigger.cron owns the schedule workflow:<key> (catch_up latest) that starts runs; a new version updates it, one without cron pauses it', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 5, 6, 0, 0));
    await using t = await startApp({ clock, config: seedConfig() });
    const firer = t.dispatch.components.find((c) => c.name === 'schedules') as ScheduleFirer;
    await firer.stopLoop();
    expect((await putYaml(t, 'daily_instructor_v1', DAILY)).status).toBe(201);
    const listed = (await t.call('GET', '/api/v1/schedules')).body.schedules as any[];
    expect(listed).toHaveLength(1);
    const s = listed[0];
    expect(s).toMatchObject({
      name: 'workflow:daily_instructor_v1',
      requester: 'dispatch:workflows',
      cron: '0 7 * * *',
      timezone: 'UTC',
      workflow: { key: 'daily_instructor_v1' },
      task: null,
      catch_up: 'latest',
      paused: false,
      next_run_at: '2026-01-05T07:00:00.000Z',
    });

    // Its occurrence starts a run of the workflow.
    clock.set(Date.UTC(2026, 0, 5, 7, 0, 0));
    expect(await firer.runOnce()).toMatchObject({ fired: 1 });
    const runs = (await t.call('GET', '/api/v1/runs?workflow_key=daily_instructor_v1')).body.runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ requester: 'dispatch:workflows', version: 1, trigger_event_id: null });

    // A new version with another cron and time zone updates the same schedule.
    const v2 = DAILY.toString().replace('cron: "0 7 * * *"', 'cron: "30 6 * * *"\n  timezone: Europe/Berlin');
    expect((await putYaml(t, 'daily_instructor_v1', v2)).body.version).toBe(2);
    const updated = (await t.call('GET', `/api/v1/schedules/${s.id}`)).body;
    expect(updated).toMatchObject({ cron: '30 6 * * *', timezone: 'Europe/Berlin', paused: false, next_run_at: '2026-01-06T05:30:00.000Z' });

    // A version with only event types pauses it; one with a cron again resumes it.
    const v3 = DAILY.toString().replace('type: cron_or_event', 'type: event').replace('  cron: "0 7 * * *"\n', '');
    const put3 = await putYaml(t, 'daily_instructor_v1', v3);
    expect(put3.status, JSON.stringify(put3.body)).toBe(200);
    expect(put3.body.trigger).toEqual({ type: 'event', event_types: ['streak_ping', 'user_start_day'] });
    expect((await t.call('GET', `/api/v1/schedules/${s.id}`)).body.paused).toBe(true);
    clock.set(Date.UTC(2026, 0, 7, 7, 0, 0));
    expect(await firer.runOnce()).toMatchObject({ fired: 0 });
    expect((await putYaml(t, 'daily_instructor_v1', DAILY)).body.version).toBe(4);
    expect((await t.call('GET', `/api/v1/schedules/${s.id}`)).body).toMatchObject({ paused: false, cron: '0 7 * * *', timezone: 'UTC' });
    expect(await countOf(t, 'schedules')).toBe(1);
  });

  it('a trigger event starts one run of every listening workflow; step tasks carry their call and the run context; GET lists events with their runs', async () => {
    await using t = await startApp({ config: seedConfig() });
    expect((await putYaml(t, 'daily_instructor_v1', DAILY)).status).toBe(201);
    expect((await putYaml(t, 'weekly_seed_v1', WEEKLY)).status).toBe(201);
    // A second listener of user_start_day only (JSON, a task step beside a call step).
    const other = await t.call('PUT', '/api/v1/workflows/welcome', {
      body: {
        trigger: { type: 'event', event_types: ['user_start_day'] },
        steps: [
          { id: 'hello', call: { url: edge.url('/hello'), credential: 'wisely', headers: { 'X-Extra': '1' } } },
          { id: 'log', task: { title: 'log it', scope: 'ops' }, depends_on: ['hello'] },
        ],
      },
    });
    expect(other.status, JSON.stringify(other.body)).toBe(201);

    const posted = await t.call('POST', '/api/v1/trigger-events', {
      agent: 'wisely-app',
      body: { type: 'streak_ping', user_id: 'u-42', intent_id: 'i-7', payload: { streak: 3 } },
    });
    expect(posted.status, JSON.stringify(posted.body)).toBe(202);
    expect(posted.body.runs).toHaveLength(1);
    const eventId = posted.body.event_id as string;
    const run = (await t.call('GET', `/api/v1/runs/${posted.body.runs[0]}`)).body;
    const event = { id: eventId, type: 'streak_ping', user_id: 'u-42', intent_id: 'i-7', payload: { streak: 3 } };
    expect(run).toMatchObject({
      workflow_key: 'daily_instructor_v1',
      requester: 'wisely-app',
      user_id: 'u-42',
      intent_id: 'i-7',
      trigger_event_id: eventId,
      context: { event },
    });
    const gather = (await t.call('GET', `/api/v1/tasks/${run.steps[0].task_id}`)).body;
    expect(gather).toMatchObject({
      title: 'gather_signals',
      step_id: 'gather_signals',
      requester: 'wisely-app',
      call: { url: '/functions/v1/agent-proxy/snapshot', method: 'GET', timeout_ms: 8000 },
      context: { context: { event }, upstream: {} },
    });
    expect(gather.call).not.toHaveProperty('body');
    // The executor performs the steps against the edge: gather_signals (GET, no body), then
    // create_plan, whose body (its context) holds gather_signals' answer under upstream.
    const planPath = '/functions/v1/agent-proxy/instructor/daily';
    // The edge is shared by the tests of this file: a request is found by its idempotency key (the task id).
    const sentFor = (path: string, taskId: string) => edge.to(path).find((r) => r.headers['x-idempotency-key'] === taskId);
    const planned = await waitFor('create_plan to be called', () => sentFor(planPath, run.steps[1].task_id));
    const snapshot = sentFor('/functions/v1/agent-proxy/snapshot', gather.id)!;
    expect(snapshot).toMatchObject({ method: 'GET', body: '' });
    expect(snapshot.headers['x-dispatch-attempt']).toBe('1');
    expect(planned.method).toBe('POST');
    expect(JSON.parse(planned.body)).toEqual({ context: { event }, upstream: { gather_signals: { ok: true, mood: 'up' } } });
    const plan = (await t.call('GET', `/api/v1/tasks/${run.steps[1].task_id}`)).body;
    expect(plan).toMatchObject({ title: 'create_plan', assignee: 'dispatch:http', call: { url: planPath, method: 'POST' } });
    await waitFor('the run to complete', async () => (await t.call('GET', `/api/v1/runs/${run.id}`)).body.status === 'completed');

    // user_start_day: both listeners, one run each, the latest versions.
    const both = await t.call('POST', '/api/v1/trigger-events', { body: { type: 'user_start_day', user_id: 'u-1' } });
    expect(both.status).toBe(202);
    const keys = await Promise.all(both.body.runs.map(async (id: string) => (await t.call('GET', `/api/v1/runs/${id}`)).body.workflow_key));
    expect(keys.sort()).toEqual(['daily_instructor_v1', 'welcome']);
    const welcome = (await t.call('GET', `/api/v1/runs/${both.body.runs[keys.indexOf('welcome')]}`)).body;
    const hello = (await t.call('GET', `/api/v1/tasks/${welcome.steps[0].task_id}`)).body;
    expect(hello.call).toMatchObject({ url: edge.url('/hello'), method: 'POST', credential: 'wisely', headers: { 'X-Extra': '1' } });
    expect(welcome.context).toEqual({ event: { id: both.body.event_id, type: 'user_start_day', user_id: 'u-1', intent_id: null, payload: null } });

    // Nobody listens: stored, no run.
    const none = await t.call('POST', '/api/v1/trigger-events', { body: { type: 'nobody_listens' } });
    expect(none).toMatchObject({ status: 202, body: { runs: [] } });

    const list = (await t.call('GET', '/api/v1/trigger-events')).body;
    expect(list.events.map((e: any) => [e.type, e.runs.length])).toEqual([
      ['nobody_listens', 0],
      ['user_start_day', 2],
      ['streak_ping', 1],
    ]);
    expect(list.events[2]).toMatchObject({ id: eventId, requester: 'wisely-app', user_id: 'u-42', intent_id: 'i-7', payload: { streak: 3 } });
    const page = (await t.call('GET', '/api/v1/trigger-events?limit=2')).body;
    expect(page.events).toHaveLength(2);
    const rest = (await t.call('GET', `/api/v1/trigger-events?limit=2&cursor=${encodeURIComponent(page.next_cursor)}`)).body;
    expect(rest.events.map((e: any) => e.id)).toEqual([eventId]);
    expect((await t.call('GET', '/api/v1/trigger-events?type=streak_ping')).body.events).toHaveLength(1);
  });

  it('an Idempotency-Key starts the runs once, also for two replicas posting at the same instant; another body → 409', async () => {
    await using a = await startApp({ config: seedConfig() });
    await using b = await startApp({ db: a.db, config: seedConfig() });
    expect((await putYaml(a, 'daily_instructor_v1', DAILY)).status).toBe(201);
    const body = { type: 'streak_ping', user_id: 'u-1' };
    for (let round = 0; round < 5; round++) {
      const headers = { 'idempotency-key': `ping-${round}` };
      const answers = await Promise.all([a, b, a, b].map((app) => app.call('POST', '/api/v1/trigger-events', { body, headers })));
      expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202]);
      expect(new Set(answers.map((r) => r.body.event_id)).size).toBe(1);
      expect(new Set(answers.map((r) => JSON.stringify(r.body.runs))).size).toBe(1);
    }
    expect(await countOf(a, 'trigger_events')).toBe(5);
    expect(await countOf(a, 'workflow_runs')).toBe(5);
    const conflict = await b.call('POST', '/api/v1/trigger-events', { body: { ...body, user_id: 'u-2' }, headers: { 'idempotency-key': 'ping-0' } });
    expect(conflict).toMatchObject({ status: 409, body: { code: 'idempotency_conflict' } });
    expect(await countOf(a, 'workflow_runs')).toBe(5);
  });

  it('POST /api/v1/runs with the seed dispatch body: 201 Run with user_id and intent_id, context {user_id, intent_id, payload}', async () => {
    await using t = await startApp({ config: seedConfig() });
    expect((await putYaml(t, 'daily_instructor_v1', DAILY)).status).toBe(201);
    // The seed's "Test Workflow Dispatch" body, verbatim.
    const seedBody = `{
    "user_id": "test-user-id",
    "workflow_key": "daily_instructor_v1",
    "payload": {"test": true}
  }`;
    const res = await t.call('POST', '/api/v1/runs', { rawBody: seedBody, headers: { 'content-type': 'application/json' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/runs/${res.body.id}`);
    expect(res.body).toMatchObject({
      workflow_key: 'daily_instructor_v1',
      user_id: 'test-user-id',
      intent_id: null,
      trigger_event_id: null,
      context: { user_id: 'test-user-id', intent_id: null, payload: { test: true } },
      status: 'running',
    });
    const again = await t.call('POST', '/api/v1/runs', { body: { workflow_key: 'daily_instructor_v1', intent_id: 'i' }, headers: { 'idempotency-key': 'k' } });
    const replay = await t.call('POST', '/api/v1/runs', { body: { workflow_key: 'daily_instructor_v1', intent_id: 'i' }, headers: { 'idempotency-key': 'k' } });
    expect([again.status, replay.status, replay.body.id]).toEqual([201, 200, again.body.id]);
    expect((await t.call('POST', '/api/v1/runs', { body: { workflow_key: 'no_such_flow' } })).status).toBe(404);
    expect((await t.call('POST', '/api/v1/runs', { body: { workflow_key: 'daily_instructor_v1', extra: 1 } })).status).toBe(400);
    // The other form of the same start.
    const classic = await t.call('POST', '/api/v1/workflows/daily_instructor_v1/runs', { body: {} });
    expect(classic.body).toMatchObject({ user_id: null, intent_id: null, trigger_event_id: null });
  });

  it('bad definitions and events → 400 with nothing stored', async () => {
    await using t = await startApp({ config: seedConfig() });
    const call = '/functions/v1/agent-proxy/snapshot';
    const bad: [unknown, string][] = [
      [{ steps: [{ id: 'a', task: { title: 'x' }, call }] }, 'steps.0'],
      [{ steps: [{ id: 'a' }] }, 'steps.0'],
      [{ steps: [{ id: 'a', task: { title: 'x' }, method: 'GET' }] }, 'steps.0.method'],
      [{ steps: [{ id: 'a', call: { url: call }, timeout_ms: 8000 }] }, 'steps.0.timeout_ms'],
      [{ steps: [{ id: 'a', call: 'not a path' }] }, 'call'],
      [{ steps: [{ id: 'a', call, method: 'FETCH' }] }, 'method'],
      [{ steps: [{ id: 'a', call, timeout_ms: 10_000_000 }] }, 'steps.0.timeout_ms'],
      [{ trigger: { type: 'sometimes', cron: '0 7 * * *' }, steps: [{ id: 'a', call }] }, 'trigger'],
      [{ trigger: { type: 'cron' }, steps: [{ id: 'a', call }] }, 'trigger.cron'],
      [{ trigger: { type: 'cron', cron: '61 * * * *' }, steps: [{ id: 'a', call }] }, 'trigger.cron'],
      [{ trigger: { type: 'cron', cron: '0 7 * * *', timezone: 'Mars/Olympus' }, steps: [{ id: 'a', call }] }, 'trigger.timezone'],
      [{ trigger: { type: 'cron', cron: '0 7 * * *', event_types: ['x'] }, steps: [{ id: 'a', call }] }, 'trigger.event_types'],
      [{ trigger: { type: 'event' }, steps: [{ id: 'a', call }] }, 'trigger.event_types'],
      [{ trigger: { type: 'event', event_types: ['with.dot'] }, steps: [{ id: 'a', call }] }, 'event_types'],
      [{ trigger: { type: 'cron_or_event', event_types: ['x'] }, steps: [{ id: 'a', call }] }, 'trigger.cron'],
    ];
    for (const [body, field] of bad) {
      const res = await t.call('PUT', '/api/v1/workflows/wf', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code, JSON.stringify(body)).toBe('validation_failed');
      expect(JSON.stringify(res.body.details ?? res.body.error), JSON.stringify(body)).toContain(field);
    }
    // The seed YAML with both task and call on a step, as YAML.
    const both = DAILY.toString().replace('    method: "GET"\n', '    method: "GET"\n    task: { title: "also a task" }\n');
    expect((await putYaml(t, 'daily_instructor_v1', both)).status).toBe(400);
    expect(await countOf(t, 'workflows')).toBe(0);
    expect(await countOf(t, 'schedules')).toBe(0);

    for (const body of [{}, { type: 'a.b' }, { type: 'x', extra: 1 }, { type: 'x', user_id: '' }, { type: 'x', payload: 'y'.repeat(300 * 1024) }]) {
      const res = await t.call('POST', '/api/v1/trigger-events', { body });
      expect([400, 413], JSON.stringify(body).slice(0, 60)).toContain(res.status);
    }
    expect(await countOf(t, 'trigger_events')).toBe(0);
  });
});

describe('swarm.trigger.<type> over NATS', () => {
  // A private nats-server: the subject is consumed in a queue group, so on the shared server
  // another test file's Dispatch (another database) could take these messages.
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats.stop();
  });

  it('starts the runs like the POST; a redelivered message (same id, either replica) starts them once; a bad one is refused', async () => {
    const config = seedConfig({ hermes: { url: nats.url } });
    await using a = await startApp({ config });
    await using b = await startApp({ db: a.db, config });
    for (const app of [a, b]) {
      await waitFor('nats connected', async () => ((await (await request(`${app.opsUrl}/health`)).body.json()) as any).checks.nats === 'ok');
    }
    expect((await putYaml(a, 'daily_instructor_v1', DAILY)).status).toBe(201);
    const nc = await natsConnect(nats.url);
    try {
      // The POST body as the message; Nats-Msg-Id as its id; published four times.
      const h = natsHeaders();
      h.set('Nats-Msg-Id', randomUUID());
      const body = JSON.stringify({ type: 'user_start_day', user_id: 'u-9', payload: { from: 'nats' } });
      for (let i = 0; i < 4; i++) nc.publish('swarm.trigger.user_start_day', body, { headers: h });
      // A swarm envelope whose id is the key, with a reply.
      const envelope = JSON.stringify({ id: randomUUID(), source: 'wisely-app', data: { user_id: 'u-10', intent_id: 'i-1' } });
      const reply = (await nc.request('swarm.trigger.streak_ping', envelope, { timeout: 5000 })).json<any>();
      expect(reply.runs).toHaveLength(1);
      expect((await nc.request('swarm.trigger.streak_ping', envelope, { timeout: 5000 })).json<any>()).toEqual(reply);
      // Malformed: refused with the contract error, nothing stored.
      const refused = (await nc.request('swarm.trigger.streak_ping', JSON.stringify({ type: 'user_start_day' }), { timeout: 5000 })).json<any>();
      expect(refused.code).toBe('validation_failed');

      const events = await waitFor('two events', async () => {
        const rows = await a.sql<{ type: string; requester: string; user_id: string; runs: string[] }[]>`select * from trigger_events order by created_at`;
        return rows.length === 2 ? rows : undefined;
      });
      expect(events.map((e) => [e.type, e.requester, e.user_id, e.runs.length])).toEqual(
        expect.arrayContaining([
          ['user_start_day', 'dispatch:nats', 'u-9', 1],
          ['streak_ping', 'wisely-app', 'u-10', 1],
        ]),
      );
      // Handled by whichever replica got each copy, still one run per event.
      expect(await countOf(a, 'workflow_runs')).toBe(2);
      const run = (await a.call('GET', `/api/v1/runs/${reply.runs[0]}`)).body;
      expect(run).toMatchObject({ requester: 'wisely-app', user_id: 'u-10', intent_id: 'i-1', trigger_event_id: reply.event_id });
    } finally {
      await nc.close();
    }
  });
});
