// Dependencies and workflow runs against a real Postgres: release exactly once (also with two
// replicas completing a diamond's two middle steps at the same instant), cascades that cancel
// exactly the downstream, manual retry, long chains and wide fan-outs, and bad input.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { collect } from './helpers/events.js';
import { waitFor } from './helpers/wait.js';
import { startApp, type TestApp } from './helpers/app.js';
import { schedulerOf } from './fakes/swarm.js';
import { counts } from './helpers/tasks-api.js';
import type { Scheduler } from '../src/assignment/scheduler.js';

const AGENTS = [
  { id: 'w1', name: 'W1', capabilities: ['work'], state: 'ready' as const },
  { id: 'w2', name: 'W2', capabilities: ['work'], state: 'ready' as const },
];

let t: TestApp;
let s: Scheduler;
beforeAll(async () => {
  t = await startApp({
    config: { agents: AGENTS, assignment: { max_concurrent_per_agent: 500 }, server: { rate_limit_burst: 100_000, rate_limit_per_second: 100_000 } },
  });
  s = schedulerOf(t);
  await s.stopLoop(); // the tests tick by hand
});
afterAll(async () => t?.stop());

const diamond = {
  steps: [
    { id: 'a', task: { title: 'research', scope: 'work' } },
    { id: 'b', task: { title: 'draft one', scope: 'work' }, depends_on: ['a'] },
    { id: 'c', task: { title: 'draft two', scope: 'work' }, depends_on: ['a'] },
    { id: 'd', task: { title: 'review both', scope: 'work' }, depends_on: ['b', 'c'] },
  ],
};

async function put(key: string, body: unknown, app = t) {
  const res = await app.call('PUT', `/api/v1/workflows/${key}`, { body });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body;
}

async function run(key: string, context?: Record<string, unknown>, app = t) {
  const res = await app.call('POST', `/api/v1/workflows/${key}/runs`, { agent: 'alice', body: context ? { context } : {} });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; status: string; steps: { step_id: string; task_id: string; status: string }[] };
}

const stepTask = (r: { steps: { step_id: string; task_id: string }[] }, step: string) => r.steps.find((x) => x.step_id === step)!.task_id;
const task = async (id: string, app = t) => (await app.call('GET', `/api/v1/tasks/${id}`)).body;
const getRun = async (id: string, app = t) => (await app.call('GET', `/api/v1/runs/${id}`)).body;

/** Tick, then report every assigned task of `ids` done (progress, complete with a result naming it). */
async function workOff(ids: string[], app = t): Promise<string[]> {
  await s.runOnce();
  const assigned = await app.sql<{ id: string; assignee: string }[]>`
    select id, assignee from tasks where id = any(${app.sql.array(ids)}::uuid[]) and status = 'assigned'`;
  const byId = new Map(assigned.map((a) => [a.id, a.assignee]));
  const done: string[] = [];
  for (const id of ids.filter((x) => byId.has(x))) {
    expect((await app.call('POST', `/api/v1/tasks/${id}/complete`, { agent: byId.get(id)!, body: { result: { by: id } } })).status).toBe(200);
    done.push(id);
  }
  return done;
}

/** No task's first assignment came before the completion of each of its dependencies. */
async function expectNoEarlyAssignment(app: TestApp, runId: string) {
  const rows = await app.sql<{ id: string; depends_on: string[] }[]>`select id, depends_on from tasks where workflow_run_id = ${runId}`;
  const ev = await app.sql<{ task_id: string; type: string; seq: number }[]>`
    select task_id, type, seq from task_events where task_id = any(${app.sql.array(rows.map((r) => r.id))}::uuid[]) and type in ('assigned','completed')`;
  const first = (id: string, type: string) => Math.min(...ev.filter((e) => e.task_id === id && e.type === type).map((e) => Number(e.seq)));
  for (const r of rows) for (const d of r.depends_on) expect(first(r.id, 'assigned')).toBeGreaterThan(first(d, 'completed'));
}

describe('dependencies', () => {
  it('a diamond: d waits for b and c, is released once with both results in context.upstream, and the run completes', async () => {
    await put('diamond', diamond);
    const r = await run('diamond', { topic: 'x' });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => stepTask(r, x)) as [string, string, string, string];
    expect(r.steps.map((x) => [x.step_id, x.status])).toEqual([
      ['a', 'pending'],
      ['b', 'waiting'],
      ['c', 'waiting'],
      ['d', 'waiting'],
    ]);
    expect(await workOff([a, b, c, d])).toEqual([a]);
    expect((await task(b)).status).toBe('pending');
    expect((await task(d)).status).toBe('waiting');
    expect(await workOff([b])).toEqual([b]); // c is assigned too but not yet done
    expect((await task(d)).status).toBe('waiting');
    expect(await workOff([c, d])).toEqual([c]);
    const released = await task(d);
    expect(released.status).toBe('pending');
    expect(released.context).toEqual({ topic: 'x', upstream: { b: { by: b }, c: { by: c } } });
    expect(await workOff([d])).toEqual([d]);
    const done = await getRun(r.id);
    expect(done.status).toBe('completed');
    const types = await t.sql<{ type: string }[]>`select type from task_events where task_id = ${d} order by seq`;
    expect(types.map((x) => x.type)).toEqual(['created', 'unblocked', 'assigned', 'completed']);
    const runEvents = await t.sql<{ type: string }[]>`select type from task_events where task_id = ${r.id} and kind = 'run' order by seq`;
    expect(runEvents.map((x) => x.type)).toEqual(['created', 'completed']);
    await expectNoEarlyAssignment(t, r.id);
  });

  it('plain tasks: depends_on on create, pending at once when the dependency already completed, 400 naming a missing id', async () => {
    const first = (await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'first', scope: 'work' } })).body;
    const second = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'second', scope: 'work', depends_on: [first.id] } });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ status: 'waiting', depends_on: [first.id], workflow_run_id: null });
    expect(await workOff([first.id])).toEqual([first.id]);
    expect(await task(second.body.id)).toMatchObject({ status: 'pending', context: { upstream: { [first.id]: { by: first.id } } } });
    const third = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'third', depends_on: [first.id] } });
    expect(third.body).toMatchObject({ status: 'pending', context: { upstream: { [first.id]: { by: first.id } } } });
    const before = await counts(t.sql);
    const missing = '00000000-0000-4000-8000-000000000000';
    const bad = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'x', depends_on: [first.id, missing] } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'validation_failed', details: [{ field: 'depends_on.1', message: expect.stringContaining(missing) }] });
    expect(await counts(t.sql)).toEqual(before);
    const waiting = await t.call('GET', `/api/v1/tasks?status=waiting&limit=500`);
    expect(waiting.status).toBe(200);
  });

  it('a failure cancels exactly its downstream; retrying it brings them back to waiting and the run back to running', async () => {
    await put('fan', {
      steps: [
        { id: 'root', task: { title: 'r', scope: 'work', max_retries: 0 } },
        { id: 'left', task: { title: 'l', scope: 'work', max_retries: 0 }, depends_on: ['root'] },
        { id: 'right', task: { title: 'rt', scope: 'work' }, depends_on: ['root'] },
        { id: 'after_left', task: { title: 'al', scope: 'work' }, depends_on: ['left'] },
        { id: 'join', task: { title: 'j', scope: 'work' }, depends_on: ['after_left', 'right'] },
      ],
    });
    const r = await run('fan');
    const id = (x: string) => stepTask(r, x);
    await workOff([id('root')]);
    await s.runOnce();
    const left = await task(id('left'));
    expect(left.status).toBe('assigned');
    const failed = await t.call('POST', `/api/v1/tasks/${id('left')}/fail`, { agent: left.assignee, body: { error: 'boom', retryable: false } });
    expect(failed.body.status).toBe('failed');
    expect(await task(id('after_left'))).toMatchObject({ status: 'cancelled', error: `dependency ${id('left')} failed` });
    expect(await task(id('join'))).toMatchObject({ status: 'cancelled', error: `dependency ${id('after_left')} cancelled` });
    expect((await task(id('right'))).status).toBe('assigned'); // not downstream of left: untouched
    expect((await getRun(r.id)).status).toBe('failed');
    const cancelled = await t.sql<{ data: { reason: string; dependency: string } }[]>`
      select dispatch_task_envelope(task_events)->'data' as data from task_events where task_id = ${id('join')} and type = 'cancelled'`;
    expect(cancelled[0]!.data).toMatchObject({ reason: 'dependency_failed', dependency: id('after_left') });

    const retried = await t.call('POST', `/api/v1/tasks/${id('left')}/retry`, { agent: 'alice' });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'pending', retry_count: 0, assignee: null, error: 'boom' });
    expect((await task(id('after_left'))).status).toBe('waiting');
    expect((await task(id('join'))).status).toBe('waiting');
    expect((await getRun(r.id)).status).toBe('running');
    const requeued = await t.sql<{ type: string }[]>`select type from task_events where task_id = ${id('left')} order by seq`;
    expect(requeued.map((x) => x.type).at(-1)).toBe('requeued');
    // Work the rest off: the run completes.
    for (let i = 0; i < 6 && (await getRun(r.id)).status !== 'completed'; i++) await workOff(r.steps.map((x) => x.task_id));
    expect((await getRun(r.id)).status).toBe('completed');
    await expectNoEarlyAssignment(t, r.id);
    // Retry of a task that is not failed, timed out or cancelled → 409; by someone else → 403.
    expect((await t.call('POST', `/api/v1/tasks/${id('root')}/retry`, { agent: 'alice' })).body).toMatchObject({ code: 'invalid_transition' });
    expect((await t.call('POST', `/api/v1/tasks/${id('left')}/retry`, { agent: 'mallory' })).status).toBe(403);
  });

  it('cancelling a run cancels every unfinished task; a waiting task can be cancelled by its requester', async () => {
    await put('diamond2', diamond);
    const r = await run('diamond2');
    await workOff([stepTask(r, 'a')]);
    const res = await t.call('PATCH', `/api/v1/runs/${r.id}`, { agent: 'alice', body: { status: 'cancelled' } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    expect(res.body.steps.map((x: { status: string }) => x.status)).toEqual(['completed', 'cancelled', 'cancelled', 'cancelled']);
    expect((await t.call('PATCH', `/api/v1/runs/${r.id}`, { agent: 'alice', body: { status: 'cancelled' } })).status).toBe(409);
    const w = await run('diamond2');
    const c = await t.call('PATCH', `/api/v1/tasks/${stepTask(w, 'd')}`, { agent: 'alice', body: { status: 'cancelled' } });
    expect(c.body.status).toBe('cancelled');
  });

  it('a 200-step chain and a 200-wide fan-out: one transaction each, every step once, none early', async () => {
    const chain = {
      steps: Array.from({ length: 200 }, (_, i) => ({ id: `s${i}`, task: { title: `s${i}`, scope: 'work' }, ...(i ? { depends_on: [`s${i - 1}`] } : {}) })),
    };
    const fan = {
      steps: [
        { id: 'top', task: { title: 'top', scope: 'work' } },
        ...Array.from({ length: 198 }, (_, i) => ({ id: `f${i}`, task: { title: `f${i}`, scope: 'work' }, depends_on: ['top'] })),
        { id: 'bottom', task: { title: 'bottom', scope: 'work' }, depends_on: Array.from({ length: 100 }, (_, i) => `f${i}`) },
      ],
    };
    for (const [key, def] of [
      ['chain200', chain],
      ['fan200', fan],
    ] as const) {
      await put(key, def);
      const r = await run(key);
      expect(r.steps).toHaveLength(200);
      const [tx] = await t.sql<{ n: number }[]>`select count(distinct xmin::text)::int as n from tasks where workflow_run_id = ${r.id}`;
      expect(tx!.n).toBe(1); // all 200 tasks written by one transaction
      const ids = r.steps.map((x) => x.task_id);
      for (let i = 0; i < 250 && (await getRun(r.id)).status !== 'completed'; i++) await workOff(ids);
      expect((await getRun(r.id)).status).toBe('completed');
      const [once] = await t.sql<{ n: number; d: number }[]>`
        select count(*)::int as n, count(distinct task_id)::int as d from task_events
        where type = 'completed' and task_id = any(${t.sql.array(ids)}::uuid[])`;
      expect(once).toEqual({ n: 200, d: 200 });
      await expectNoEarlyAssignment(t, r.id);
    }
  }, 120_000);
});

describe('two replicas', () => {
  it('b and c completing at the same instant on different replicas release d exactly once, with both results', async () => {
    const second = await startApp({ db: t.db, config: { agents: AGENTS, assignment: { max_concurrent_per_agent: 500 } } });
    try {
      await schedulerOf(second).stopLoop();
      await put('diamond_r', diamond);
      const runs = [];
      for (let i = 0; i < 15; i++) runs.push(await run('diamond_r'));
      const all = runs.flatMap((r) => r.steps.map((x) => x.task_id));
      await workOff(runs.map((r) => stepTask(r, 'a')));
      await s.runOnce();
      // Every b on replica one and every c on replica two, all at once.
      const reports = runs.flatMap((r) => [
        task(stepTask(r, 'b')).then((b) => t.call('POST', `/api/v1/tasks/${b.id}/complete`, { agent: b.assignee, body: { result: 'B' } })),
        task(stepTask(r, 'c')).then((c) => second.call('POST', `/api/v1/tasks/${c.id}/complete`, { agent: c.assignee, body: { result: 'C' } })),
      ]);
      expect((await Promise.all(reports)).map((x) => x.status)).toEqual(Array(30).fill(200));
      const ds = runs.map((r) => stepTask(r, 'd'));
      const unblocked = await t.sql<{ task_id: string; n: number }[]>`
        select task_id, count(*)::int as n from task_events where type = 'unblocked' and task_id = any(${t.sql.array(ds)}::uuid[]) group by task_id`;
      expect(unblocked.map((u) => u.n)).toEqual(Array(15).fill(1));
      for (const d of ds) expect((await task(d)).context.upstream).toEqual({ b: 'B', c: 'C' });
      await workOff(all);
      for (const r of runs) expect((await getRun(r.id)).status).toBe('completed');
    } finally {
      await second.stop();
    }
  }, 60_000);
});

describe('definitions and bad input', () => {
  const bad = async (body: unknown, code: string, headers?: Record<string, string>) => {
    const before = await t.sql`select count(*)::int as n from workflows`;
    const res = headers
      ? await t.call('PUT', '/api/v1/workflows/badwf', { rawBody: body as string, headers })
      : await t.call('PUT', '/api/v1/workflows/badwf', { body });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe(code);
    expect(await t.sql`select count(*)::int as n from workflows`).toEqual(before);
    return res.body;
  };

  it('versions: a new key is 201 v1, the same body again 200 unchanged, a changed one 200 v2; YAML is accepted', async () => {
    const first = await t.call('PUT', '/api/v1/workflows/ver', { body: diamond });
    expect([first.status, first.body.version]).toEqual([201, 1]);
    const same = await t.call('PUT', '/api/v1/workflows/ver', { body: { steps: [...diamond.steps] } });
    expect([same.status, same.body.version]).toEqual([200, 1]);
    const yamlBody = 'key: ver\ndescription: now with yaml\nsteps:\n  - id: only\n    task: { title: "One step", scope: work }\n';
    const changed = await t.call('PUT', '/api/v1/workflows/ver', { rawBody: yamlBody, headers: { 'content-type': 'application/yaml' } });
    expect([changed.status, changed.body.version, changed.body.description]).toEqual([200, 2, 'now with yaml']);
    expect((await t.call('GET', '/api/v1/workflows/ver')).body.version).toBe(2);
    expect((await t.call('GET', '/api/v1/workflows')).body.workflows.map((w: { key: string }) => w.key)).toContain('ver');
    expect((await t.call('GET', '/api/v1/workflows/nope')).status).toBe(404);
  });

  it('refuses unknown step ids, duplicates, cycles (self-loops too), > 200 steps and non-YAML, storing nothing', async () => {
    const step = (id: string, deps?: string[]) => ({ id, task: { title: id }, ...(deps ? { depends_on: deps } : {}) });
    const unknown = await bad({ steps: [step('a', ['ghost'])] }, 'validation_failed');
    expect(unknown.details).toEqual([{ field: 'steps.0.depends_on.0', message: 'unknown step id "ghost"' }]);
    await bad({ steps: [step('a'), step('a')] }, 'validation_failed');
    const cycle = await bad({ steps: [step('a', ['c']), step('b', ['a']), step('c', ['b'])] }, 'workflow_cycle');
    expect(cycle.details.cycle).toEqual(['a', 'c', 'b', 'a']);
    expect((await bad({ steps: [step('self', ['self'])] }, 'workflow_cycle')).details.cycle).toEqual(['self', 'self']);
    await bad({ steps: Array.from({ length: 201 }, (_, i) => step(`s${i}`)) }, 'validation_failed');
    await bad('steps: [ {id: a, task: {title: x}', 'validation_failed', { 'content-type': 'application/yaml' });
    await bad({ key: 'other', steps: [step('a')] }, 'validation_failed');
    const runOfNothing = await t.call('POST', '/api/v1/workflows/never-defined/runs', { body: {} });
    expect(runOfNothing.status).toBe(404);
  });
});

describe('workflows.dir', () => {
  it('stores every definition of the folder at start, and a bad file stops the start naming it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-wf-'));
    writeFileSync(
      path.join(dir, 'weekly.yaml'),
      'steps:\n  - id: one\n    task: { title: One }\n  - id: two\n    task: { title: Two }\n    depends_on: [one]\n',
    );
    writeFileSync(path.join(dir, 'keyed.json'), JSON.stringify({ key: 'from_json', steps: [{ id: 'x', task: { title: 'X' } }] }));
    await using app = await startApp({ db: t.db, config: { workflows: { dir } } });
    const weekly = await app.call('GET', '/api/v1/workflows/weekly');
    expect(weekly.body).toMatchObject({ key: 'weekly', version: 1, created_by: 'dispatch', steps: [{ id: 'one' }, { id: 'two', depends_on: ['one'] }] });
    expect((await app.call('GET', '/api/v1/workflows/from_json')).status).toBe(200);

    writeFileSync(path.join(dir, 'broken.yaml'), 'steps:\n  - id: a\n    task: { title: A }\n    depends_on: [a]\n');
    await expect(startApp({ db: t.db, config: { workflows: { dir } } })).rejects.toThrow(/broken\.yaml.*cycle/s);
  });
});

describe('run events on NATS', () => {
  it("a run publishes swarm.run.<id>.created and .completed with the run, beside its tasks' events", async () => {
    // A database of its own: a replica without hermes.url (the suite's `t`) settles rows unpublished.
    await using app = await startApp({ config: { agents: AGENTS, hermes: { url: inject('natsUrl') } } });
    await schedulerOf(app).stopLoop();
    await put('one_step', { steps: [{ id: 'only', task: { title: 'only', scope: 'work' } }] }, app);
    const r = await run('one_step', undefined, app);
    const runs = await collect(inject('natsUrl'), `swarm.run.${r.id}.*`);
    try {
      await schedulerOf(app).runOnce();
      const only = stepTask(r, 'only');
      const cur = await task(only, app);
      expect((await app.call('POST', `/api/v1/tasks/${only}/complete`, { agent: cur.assignee, body: { result: 1 } })).status).toBe(200);
      await waitFor(() => runs.messages.some((m) => m.subject.endsWith('.completed')), 'run completed event');
      const done = runs.messages.filter((m) => m.subject.endsWith('.completed'));
      expect(done).toHaveLength(1);
      expect(done[0]!.msgId).toBe(done[0]!.envelope.id);
      expect(done[0]!.envelope).toMatchObject({
        type: 'run.completed',
        source: 'dispatch',
        correlation_id: r.id,
        data: { run: { id: r.id, status: 'completed' } },
      });
    } finally {
      await runs.close();
    }
  });
});
