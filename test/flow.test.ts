// Flow control (CONTRACT §20, docs/flow-control.md) end to end on one Dispatch: a fake clock and
// the scheduler ticked by hand, so every token and pause boundary is exact.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { schedulerOf } from './fakes/swarm.js';
import type { Scheduler } from '../src/assignment/scheduler.js';
import { flowGuard, flowTake, type FlowStart } from '../src/store/flow.js';

let now = new Date('2033-03-04T05:06:07.000Z');
const clock = { now: () => now };
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

const AGENTS = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((id) => ({ id, name: id, capabilities: ['work'], state: 'ready' as const }));

describe('flow control', () => {
  let t: TestApp;
  let s: Scheduler;
  beforeAll(async () => {
    t = await startApp({
      clock,
      config: {
        agents: AGENTS,
        assignment: { max_concurrent_per_agent: 3, batch_size: 50 },
        flow: {
          limits: [
            { key: 'user:*', rate: 10, per_ms: 60_000, burst: 10 },
            { key: 'model:gpt', concurrency: 4 },
          ],
        },
      },
    });
    s = schedulerOf(t);
    await s.stopLoop();
  });
  afterAll(async () => t?.stop());
  // Each test starts from an empty queue and no api limits or key state.
  beforeEach(async () => {
    await t.sql`update tasks set status = 'cancelled', assignee = null, completed_at = ${now} where status not in ('completed','failed','timed_out','cancelled')`;
    await t.sql`delete from flow_limits`;
    await t.sql`delete from flow_keys`;
  });

  const create = async (body: Record<string, unknown>, agent = 'alice') => {
    advance(1); // distinct created_at: assignment order is creation order
    const r = await t.call('POST', '/api/v1/tasks', { agent, body: { title: 'x', scope: 'work', ...body } });
    expect(r.status).toBe(201);
    return r.body as { id: string; status: string; flow_key: string | null };
  };
  const tick = async (ms = 10) => {
    advance(ms);
    return s.runOnce();
  };
  const complete = async (id: string) => {
    const [row] = await t.sql<{ assignee: string }[]>`select assignee from tasks where id = ${id}`;
    expect((await t.call('POST', `/api/v1/tasks/${id}/complete`, { agent: row!.assignee, body: {} })).status).toBe(200);
  };
  const explainReason = async (id: string) => (await t.call('GET', `/api/v1/tasks/${id}/explain`)).body.decision.reason as string | null;

  it('refuses a bad flow_key or limit with 400 and stores nothing', async () => {
    const before = await t.sql`select count(*)::int as n from tasks`;
    for (const flow_key of ['', 'has space', 'x'.repeat(201), 'emoji😀', 'slash/key', 42]) {
      const r = await t.call('POST', '/api/v1/tasks', { body: { title: 'x', flow_key } });
      expect(r.status, JSON.stringify(flow_key)).toBe(400);
      expect(r.body.code).toBe('validation_failed');
    }
    expect(await t.sql`select count(*)::int as n from tasks`).toEqual(before);

    const put = (key: string, body: unknown) => t.call('PUT', `/api/v1/flow/limits/${key}`, { admin: true, body });
    for (const body of [
      {},
      { rate: 10 },
      { per_ms: 1000 },
      { burst: 5 },
      { concurrency: 0 },
      { rate: 1.5, per_ms: 1000 },
      { concurrency: 2, extra: 1 },
      { rate: 1, per_ms: 86_400_001 },
    ]) {
      const r = await put('model:x', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.code).toBe('validation_failed');
    }
    const badKey = await put('bad%20key', { concurrency: 1 });
    expect(badKey.status).toBe(400);
    expect(badKey.body.code).toBe('validation_failed');
    expect(await t.sql`select * from flow_limits`).toEqual([]);

    // The admin routes need the admin token; a pause more than 24 h ahead, or in the past, is refused.
    expect((await t.call('PUT', '/api/v1/flow/limits/model:x', { body: { concurrency: 1 } })).status).toBe(401);
    expect((await t.call('GET', '/api/v1/flow/limits')).status).toBe(401);
    for (const until of [new Date(now.getTime() + 86_400_001), new Date(now.getTime() - 1), 'tomorrow']) {
      const r = await t.call('POST', '/api/v1/flow/keys/model:x/pause', { body: { until } });
      expect(r.status, String(until)).toBe(400);
      expect(r.body.code).toBe('validation_failed');
    }
    expect(await t.sql`select * from flow_keys`).toEqual([]);
  });

  it('limits: config and api, an api limit overrides config for its key, the longest pattern applies', async () => {
    const put = await t.call('PUT', '/api/v1/flow/limits/user:vip:*', { admin: true, body: { rate: 100, per_ms: 1000 } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ key: 'user:vip:*', rate: 100, per_ms: 1000, burst: 100, source: 'api' });
    expect((await t.call('PUT', '/api/v1/flow/limits/model:gpt', { admin: true, body: { concurrency: 8 } })).body.source).toBe('api');
    const list = await t.call('GET', '/api/v1/flow/limits', { admin: true });
    expect(list.body.limits).toEqual([
      { key: 'model:gpt', concurrency: 8, source: 'api' },
      { key: 'user:*', rate: 10, per_ms: 60_000, burst: 10, source: 'config' },
      { key: 'user:vip:*', rate: 100, per_ms: 1000, burst: 100, source: 'api' },
    ]);
    const key = async (k: string) => (await t.call('GET', `/api/v1/flow/keys/${k}`)).body;
    expect(await key('user:vip:7')).toEqual({
      key: 'user:vip:7',
      limit_key: 'user:vip:*',
      tokens: 100,
      capacity: 100,
      active: 0,
      concurrency: null,
      paused_until: null,
    });
    expect(await key('user:7')).toMatchObject({ limit_key: 'user:*', tokens: 10, capacity: 10 });
    expect(await key('model:gpt')).toMatchObject({ limit_key: 'model:gpt', concurrency: 8, tokens: null, capacity: null });
    expect(await key('other')).toMatchObject({ limit_key: null, tokens: null, concurrency: null });
    expect((await t.call('DELETE', '/api/v1/flow/limits/model:gpt', { admin: true })).status).toBe(204);
    expect(await key('model:gpt')).toMatchObject({ concurrency: 4 }); // the config limit again
    expect((await t.call('DELETE', '/api/v1/flow/limits/model:gpt', { admin: true })).status).toBe(404);
  });

  it('concurrency: never more than the limit active; a freed slot starts the next at the next tick; explain names the key', async () => {
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push((await create({ flow_key: 'model:gpt' })).id);
    const free = await create({});
    // A keyed task is never sync-matched (an agent was free): it waits for the tick.
    expect((await t.sql`select status from tasks where id = any(${ids})`).every((r) => r.status === 'pending')).toBe(true);
    const first = await tick();
    expect(
      first.assigned
        .map((a) => a.taskId)
        .filter((id) => id !== free.id)
        .sort(),
    ).toEqual([...ids.slice(0, 4)].sort());
    expect(first.held).toBeGreaterThan(0);
    expect((await t.sql`select status from tasks where id = ${free.id}`)[0]!.status).toBe('assigned');
    expect(await explainReason(ids[4]!)).toBe('flow_concurrency:model:gpt');
    expect((await t.call('GET', '/api/v1/flow/keys/model:gpt')).body).toMatchObject({ active: 4, concurrency: 4 });
    expect((await tick()).assigned).toEqual([]);
    await complete(ids[0]!);
    const next = await tick();
    expect(next.assigned.map((a) => a.taskId)).toEqual([ids[4]]);
    const metrics = await t.dispatch.context.metrics.flowDeferred.get();
    expect(metrics.values.find((v) => v.labels.limit === 'model:gpt')?.value).toBeGreaterThan(0);
  });

  it('rate: starts per window stay within the bucket (burst + rate × window), tokens taken at assignment', async () => {
    await t.call('PUT', '/api/v1/flow/limits/user:9', { admin: true, body: { rate: 2, per_ms: 1000, burst: 3 } });
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push((await create({ flow_key: 'user:9' })).id);
    const starts: number[] = [];
    const t0 = now.getTime();
    for (let i = 0; i < 40 && starts.length < 20; i++) {
      const r = await tick(i === 0 ? 0 : 250);
      for (const _ of r.assigned) starts.push(now.getTime() - t0);
      // Complete at once: only the rate holds them back, never the agents.
      for (const a of r.assigned) await complete(a.taskId);
      if (r.assigned.length === 0) {
        const [waiting] = await t.sql<{ id: string }[]>`select id from tasks where flow_key = 'user:9' and status = 'pending' limit 1`;
        expect(await explainReason(waiting!.id)).toBe('flow_rate:user:9');
      }
    }
    expect(starts).toHaveLength(20);
    expect(starts.slice(0, 3)).toEqual([0, 0, 0]); // the burst
    // Any window of w ms holds at most burst + rate × w / per_ms starts, and the bucket is used: ≥ rate × w / per_ms - 1.
    for (const w of [1000, 2000, 4000]) {
      for (const from of starts) {
        const n = starts.filter((x) => x >= from && x < from + w).length;
        expect(n).toBeLessThanOrEqual(3 + (2 * w) / 1000);
      }
    }
    const last = starts[starts.length - 1]!;
    // 17 after the burst at 2 per second: about 8.5 s, not more than a tick later.
    expect(last).toBeGreaterThanOrEqual(8000);
    expect(last).toBeLessThanOrEqual(8750);
  });

  it('the tick asks to run again when the next token arrives', async () => {
    await t.call('PUT', '/api/v1/flow/limits/user:10', { admin: true, body: { rate: 1, per_ms: 3000, burst: 1 } });
    await create({ flow_key: 'user:10' });
    await create({ flow_key: 'user:10' });
    expect((await tick()).assigned).toHaveLength(1);
    const r = await tick(1000);
    expect(r.assigned).toHaveLength(0);
    expect(r.flowWakeAt).toBe(now.getTime() + 2000);
  });

  it('pause: nothing of the key starts until the pause ends, then at the first tick after it; other keys flow', async () => {
    const until = new Date(now.getTime() + 10_000);
    const p = await t.call('POST', '/api/v1/flow/keys/model:claude/pause', { body: { until: until.toISOString() } });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ key: 'model:claude', paused_until: until.toISOString(), limit_key: null });
    const held = await create({ flow_key: 'model:claude' });
    const other = await create({ flow_key: 'model:other' });
    const r1 = await tick();
    expect(r1.assigned.map((a) => a.taskId)).toEqual([other.id]);
    expect(r1.flowWakeAt).toBe(until.getTime());
    expect(await explainReason(held.id)).toBe('flow_paused:model:claude');
    advance(until.getTime() - now.getTime() - 1);
    expect((await s.runOnce()).assigned).toEqual([]);
    const r2 = await tick(1);
    expect(r2.assigned.map((a) => a.taskId)).toEqual([held.id]);

    // DELETE lifts a pause at once.
    await t.call('POST', '/api/v1/flow/keys/model:claude/pause', { body: { until: new Date(now.getTime() + 60_000).toISOString() } });
    const again = await create({ flow_key: 'model:claude' });
    expect((await tick()).assigned).toEqual([]);
    expect((await t.call('DELETE', '/api/v1/flow/keys/model:claude/pause')).status).toBe(204);
    expect((await tick()).assigned.map((a) => a.taskId)).toEqual([again.id]);
  });

  it('10,000 held tasks ahead of a free one: the free one is assigned on the next tick', async () => {
    await t.call('POST', '/api/v1/flow/keys/model:slow/pause', { body: { until: new Date(now.getTime() + 3_600_000).toISOString() } });
    const old = new Date(now.getTime() - 3_600_000);
    await t.sql`
      insert into tasks (id, title, requester, required_tags, capabilities, scope, priority, status, timeout_ms, max_retries, queued_at, created_at, updated_at, flow_key)
      select gen_random_uuid(), 'held ' || i, 'alice', '{work}', '{}', 'work', 9, 'pending', 60000, 3,
             ${old}::timestamptz + i * interval '1 ms', ${old}::timestamptz + i * interval '1 ms', ${old}, 'model:slow'
      from generate_series(1, 10000) i`;
    const freeKeyed = await insertTask(t.sql, { scope: 'work', priority: 1, flow_key: 'user:77', created_at: new Date(now.getTime() - 1000) });
    const unkeyed = await insertTask(t.sql, { scope: 'work', priority: 1, created_at: new Date(now.getTime() - 500) });
    const r = await tick();
    expect(r.assigned.map((a) => a.taskId).sort()).toEqual([freeKeyed.id, unkeyed.id].sort());
    expect(r.considered).toBe(2); // the held backlog was not even read
    // Nor does it keep a create from being sync-matched (§17): a free agent takes it in the create.
    const created = await create({ priority: 1 });
    expect(created.status).toBe('assigned');
  });

  it('flowGuard + flowTake: the guard of a claim outside dispatch_assign (call tasks) in its own transaction', async () => {
    const rate = { rate: 2, per_ms: 1000, burst: 2 };
    await t.call('POST', '/api/v1/flow/keys/model:down/pause', { body: { until: new Date(now.getTime() + 1000).toISOString() } });
    await insertTask(t.sql, { status: 'running', scope: 'work', assignee: 'a1', flow_key: 'model:gpt' });
    const starts: FlowStart[] = [
      { key: 'user:50', limit: rate },
      { key: 'user:50', limit: rate },
      { key: 'user:50', limit: rate },
      { key: null, limit: undefined },
      { key: 'model:gpt', limit: { concurrency: 2 } },
      { key: 'model:gpt', limit: { concurrency: 2 } },
      { key: 'model:down', limit: undefined },
    ];
    const claim = () =>
      t.sql.begin(async (tx) => {
        const outcomes = await flowGuard(tx, starts, now);
        await flowTake(
          tx,
          starts.filter((_, i) => outcomes[i] === 'ok'),
          now,
        );
        return outcomes;
      });
    expect(await claim()).toEqual(['ok', 'ok', 'flow_rate', 'ok', 'ok', 'flow_concurrency', 'flow_paused']);
    expect((await t.call('GET', '/api/v1/flow/keys/user:50')).body.tokens).toBe(0); // taken
    advance(500); // one token back
    expect((await claim()).slice(0, 3)).toEqual(['ok', 'flow_rate', 'flow_rate']);
  });

  it('a workflow step and a schedule template carry flow_key', async () => {
    const wf = await t.call('PUT', '/api/v1/workflows/flowwf', {
      body: { steps: [{ id: 'one', task: { title: 'one', scope: 'work', flow_key: 'user:5:agent:clo' } }] },
    });
    expect(wf.status).toBe(201);
    const run = await t.call('POST', '/api/v1/workflows/flowwf/runs', { body: {} });
    expect(run.status).toBe(201);
    const [step] = await t.sql<{ flow_key: string }[]>`select flow_key from tasks where workflow_run_id = ${run.body.id}`;
    expect(step!.flow_key).toBe('user:5:agent:clo');
    const bad = await t.call('PUT', '/api/v1/workflows/flowwf2', { body: { steps: [{ id: 'one', task: { title: 'one', flow_key: 'no spaces' } }] } });
    expect(bad.status).toBe(400);
    const sch = await t.call('POST', '/api/v1/schedules', {
      body: { name: 'flowsch', cron: '0 7 * * *', task: { title: 'gm', scope: 'work', flow_key: 'user:5:agent:gm' } },
    });
    expect(sch.status).toBe(201);
    const fired = await t.call('POST', `/api/v1/schedules/${sch.body.id}/trigger`, { body: {} });
    expect(fired.status).toBe(201);
    expect(fired.body.flow_key).toBe('user:5:agent:gm');
  });
});
