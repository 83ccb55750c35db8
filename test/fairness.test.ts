// Fair share between requesters (§16.3) and the agents' track record (§16.4), end to end: a whole
// Dispatch per mode, a fake clock and the scheduler ticked by hand (docs/fairness.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { schedulerOf } from './fakes/swarm.js';
import type { Scheduler } from '../src/assignment/scheduler.js';
import { trimTrackRecord } from '../src/store/retention.js';

let now = new Date('2032-05-06T07:08:09.000Z');
const clock = { now: () => now };
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

/** A's 200 pending tasks (oldest first), then B's 5 (younger than all of A's). */
async function seedBacklog(t: TestApp): Promise<Map<string, string>> {
  const requesterOf = new Map<string, string>();
  const base = now.getTime() - 1_000_000;
  for (let i = 0; i < 200; i++) {
    const row = await insertTask(t.sql, { requester: 'alice', scope: 'research', created_at: new Date(base + i) });
    requesterOf.set(row.id, 'alice');
  }
  for (let i = 0; i < 5; i++) {
    const row = await insertTask(t.sql, { requester: 'bob', scope: 'research', created_at: new Date(base + 500 + i) });
    requesterOf.set(row.id, 'bob');
  }
  return requesterOf;
}

/** Tick and complete, one task at a time (one agent, limit 1), until the queue is empty: the requesters in assignment order. */
async function drain(t: TestApp, s: Scheduler, requesterOf: Map<string, string>): Promise<{ requesters: string[]; ids: string[] }> {
  const requesters: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < requesterOf.size; i++) {
    advance(10);
    const tick = await s.runOnce();
    expect(tick.assigned).toHaveLength(1);
    const { taskId, agent } = tick.assigned[0]!;
    expect(agent).toBe('scout');
    requesters.push(requesterOf.get(taskId)!);
    ids.push(taskId);
    expect((await t.call('POST', `/api/v1/tasks/${taskId}/complete`, { agent: 'scout', body: {} })).status).toBe(200);
  }
  advance(10);
  expect((await s.runOnce()).assigned).toHaveLength(0);
  return { requesters, ids };
}

const oneAgent = { agents: [{ id: 'scout', name: 'Scout', capabilities: ['research'], state: 'ready' as const }] };

describe('fairness: requester', () => {
  let t: TestApp;
  let s: Scheduler;
  beforeAll(async () => {
    t = await startApp({ clock, config: { ...oneAgent, assignment: { fairness: 'requester', max_concurrent_per_agent: 1, batch_size: 50 } } });
    s = schedulerOf(t);
    await s.stopLoop();
  });
  afterAll(async () => t?.stop());

  it("B's 5 tasks, behind A's 200, are assigned within the next 10 assignments; each requester's own tasks stay in age order", async () => {
    const requesterOf = await seedBacklog(t);
    const { requesters, ids } = await drain(t, s, requesterOf);
    const bobAt = requesters.flatMap((r, i) => (r === 'bob' ? [i + 1] : []));
    expect(bobAt).toHaveLength(5);
    expect(Math.max(...bobAt)).toBeLessThanOrEqual(10);
    expect(bobAt).toEqual([2, 4, 6, 8, 10]); // strict alternation while both wait
    // Age order within a requester: the order they were inserted in.
    const inserted = [...requesterOf.keys()];
    for (const who of ['alice', 'bob']) {
      const got = ids.filter((id) => requesterOf.get(id) === who);
      expect(got).toEqual(inserted.filter((id) => requesterOf.get(id) === who));
    }
  });

  it('priority still wins over fairness', async () => {
    const base = now.getTime() - 1000;
    const low = await insertTask(t.sql, { requester: 'carol', scope: 'research', priority: 3, created_at: new Date(base) });
    const high = [];
    for (let i = 0; i < 3; i++)
      high.push((await insertTask(t.sql, { requester: 'alice', scope: 'research', priority: 8, created_at: new Date(base + 1 + i) })).id);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      advance(10);
      const [a] = (await s.runOnce()).assigned;
      order.push(a!.taskId);
      expect((await t.call('POST', `/api/v1/tasks/${a!.taskId}/complete`, { agent: 'scout', body: {} })).status).toBe(200);
    }
    expect(order).toEqual([...high, low.id]);
  });

  it('a due task below many bands of not-yet-due tasks is still found in one tick', async () => {
    const later = new Date(now.getTime() + 3_600_000);
    for (let p = 10; p >= 2; p--) await insertTask(t.sql, { requester: `r${p}`, scope: 'research', priority: p, not_before: later });
    const due = await insertTask(t.sql, { requester: 'dave', scope: 'research', priority: 1 });
    advance(10);
    expect((await s.runOnce()).assigned.map((a) => a.taskId)).toEqual([due.id]);
  });
});

describe('fairness: requester, tasks nobody can take at the head', () => {
  let t: TestApp;
  let s: Scheduler;
  beforeAll(async () => {
    t = await startApp({ clock, config: { ...oneAgent, assignment: { fairness: 'requester', batch_size: 20 } } });
    s = schedulerOf(t);
    await s.stopLoop();
  });
  afterAll(async () => t?.stop());

  it("do not starve the tasks behind them: a full tick's position carries over to the next tick", async () => {
    const base = now.getTime() - 1_000_000;
    for (let i = 0; i < 150; i++) {
      await insertTask(t.sql, { requester: 'alice', scope: 'painting', created_at: new Date(base + i) });
      await insertTask(t.sql, { requester: 'bob', scope: 'painting', created_at: new Date(base + i) });
    }
    const wanted = await insertTask(t.sql, { requester: 'alice', scope: 'research', created_at: new Date(base + 1000) });
    // A tick reads at most 4 pages of 20 (40 of each requester's); alice's research task is her 151st.
    let ticks = 0;
    let assigned: string[] = [];
    while (assigned.length === 0 && ticks < 10) {
      advance(10);
      assigned = (await s.runOnce()).assigned.map((a) => a.taskId);
      ticks++;
    }
    expect(assigned).toEqual([wanted.id]);
    expect(ticks).toBeGreaterThan(1);
    expect(ticks).toBeLessThanOrEqual(5);
  });
});

describe('fairness: fifo (the default)', () => {
  let t: TestApp;
  let s: Scheduler;
  beforeAll(async () => {
    t = await startApp({ clock, config: { ...oneAgent, assignment: { max_concurrent_per_agent: 1, batch_size: 50 } } });
    s = schedulerOf(t);
    await s.stopLoop();
  });
  afterAll(async () => t?.stop());

  it("B's 5 tasks come after A's 200", async () => {
    expect(t.config.assignment.fairness).toBe('fifo');
    const { requesters } = await drain(t, s, await seedBacklog(t));
    expect(requesters.slice(0, 200).every((r) => r === 'alice')).toBe(true);
    expect(requesters.slice(200)).toEqual(['bob', 'bob', 'bob', 'bob', 'bob']);
  });
});

const twoAgents = {
  agents: [
    { id: 'flaky', name: 'Flaky', capabilities: ['research'], state: 'ready' as const },
    { id: 'steady', name: 'Steady', capabilities: ['research'], state: 'ready' as const },
  ],
};

/** Post one task, tick, and have its agent fail it (flaky) or complete it (steady): who got it. */
async function oneRound(t: TestApp, s: Scheduler): Promise<string> {
  const created = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'x', scope: 'research', max_retries: 0 } });
  expect(created.status).toBe(201);
  advance(1000);
  const [a] = (await s.runOnce()).assigned;
  expect(a?.taskId).toBe(created.body.id);
  advance(250);
  const report = a!.agent === 'flaky' ? { path: 'fail', body: { error: 'no', retryable: false } } : { path: 'complete', body: {} };
  expect((await t.call('POST', `/api/v1/tasks/${a!.taskId}/${report.path}`, { agent: a!.agent, body: report.body })).status).toBe(200);
  return a!.agent;
}

const recordOf = async (t: TestApp, id: string) =>
  (await t.call('GET', '/api/v1/agents', { admin: true })).body.agents.find((x: { id: string }) => x.id === id)?.record;

describe('track record', () => {
  describe('track_record_weight: 1', () => {
    let t: TestApp;
    let s: Scheduler;
    beforeAll(async () => {
      t = await startApp({ clock, config: { ...twoAgents, assignment: { track_record_weight: 1, sync_match: false } } });
      s = schedulerOf(t);
      await s.stopLoop();
    });
    afterAll(async () => t?.stop());

    it('two equal agents, one failing every task: once each has a record, new tasks go to the other one', async () => {
      const first = [await oneRound(t, s), await oneRound(t, s)];
      expect(first.sort()).toEqual(['flaky', 'steady']); // equal at first: they share
      const next = [];
      for (let i = 0; i < 8; i++) next.push(await oneRound(t, s));
      expect(next).toEqual(Array(8).fill('steady'));
      expect(await recordOf(t, 'flaky')).toEqual({ completed: 0, failed: 1, timed_out: 0, success_rate: 0, avg_duration_ms: null });
      expect(await recordOf(t, 'steady')).toEqual({ completed: 9, failed: 0, timed_out: 0, success_rate: 1, avg_duration_ms: 250 });
    });

    it('the success ratio is a metric per agent with a record', async () => {
      const res = await fetch(`${t.opsUrl}/metrics`);
      const text = await res.text();
      expect(text).toContain('dispatch_agent_success_ratio{agent="flaky"} 0');
      expect(text).toContain('dispatch_agent_success_ratio{agent="steady"} 1');
    });
  });

  describe('track_record_weight: 0 (the default)', () => {
    let t: TestApp;
    let s: Scheduler;
    beforeAll(async () => {
      t = await startApp({ clock, config: { ...twoAgents, assignment: { track_record_size: 3, sync_match: false } } });
      s = schedulerOf(t);
      await s.stopLoop();
    });
    afterAll(async () => t?.stop());

    it('the record does not change who gets work (equal agents take turns), and covers only the last track_record_size attempts', async () => {
      const got = [];
      for (let i = 0; i < 6; i++) got.push(await oneRound(t, s));
      expect(got.filter((a) => a === 'flaky')).toHaveLength(3);
      expect(await recordOf(t, 'flaky')).toEqual({ completed: 0, failed: 3, timed_out: 0, success_rate: 0, avg_duration_ms: null });
      for (let i = 0; i < 2; i++) got.push(await oneRound(t, s));
      expect(got.filter((a) => a === 'flaky')).toHaveLength(4);
      const flaky = await recordOf(t, 'flaky');
      expect(flaky.failed).toBe(3); // the window: 4 failures, the last 3 kept
      expect(await recordOf(t, 'steady')).toMatchObject({ completed: 3, success_rate: 1 });
      // Outcomes older than the window stay until the retention sweep trims them (migration 0066).
      const ring = async () => (await t.sql<{ n: number }[]>`select count(*)::int as n from agent_outcomes where agent = 'flaky'`)[0]!.n;
      expect(await ring()).toBe(4);
      expect(await trimTrackRecord(t.sql, 100)).toBe(2); // one of flaky's four, one of steady's four
      expect(await ring()).toBe(3);
      expect(await recordOf(t, 'flaky')).toEqual(flaky);
    });

    it('an attempt timeout counts as timed_out; a wake timeout counts nothing', async () => {
      const timing = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'x', scope: 'research', timeout_ms: 1000, max_retries: 0 } });
      advance(1000);
      const [first] = (await s.runOnce()).assigned;
      expect(first?.taskId).toBe(timing.body.id);
      const before = await recordOf(t, first!.agent);
      expect((await t.call('POST', `/api/v1/tasks/${first!.taskId}/progress`, { agent: first!.agent, body: {} })).status).toBe(200);
      advance(1001);
      expect((await s.runOnce()).timedOut).toBe(1);
      expect((await recordOf(t, first!.agent)).timed_out).toBe(before.timed_out + 1);

      const waking = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'x', scope: 'research' } });
      advance(1000);
      const [second] = (await s.runOnce()).assigned;
      expect(second?.taskId).toBe(waking.body.id);
      const records = { flaky: await recordOf(t, 'flaky'), steady: await recordOf(t, 'steady') };
      advance(t.config.assignment.wake_timeout_ms + 1);
      await s.runOnce(); // no progress: back to pending (and on to the other agent)
      expect((await t.call('GET', `/api/v1/tasks/${waking.body.id}`)).body.assignee).not.toBe(second!.agent);
      expect({ flaky: await recordOf(t, 'flaky'), steady: await recordOf(t, 'steady') }).toEqual(records);
    });
  });
});
