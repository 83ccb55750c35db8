// Assignment against real Postgres and the HTTP fakes: availability, wake, drain, fairness,
// immediacy, and the admin agent routes.
import { describe, expect, it } from 'vitest';
import { startApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { quiesce } from './helpers/wait.js';
import { activeByAgent, eventTypes, schedulerOf, startFakes, waitFor } from './fakes/swarm.js';
import type { EventEnvelope } from '../src/store/events.js';
import { EMPTY_RECORD } from '../src/core/record.js';
import { LEAN_PAGE_MARGIN } from '../src/assignment/assign.js';

async function eventsOf(sql: import('../src/store/db.js').Sql, taskId: string, type?: string): Promise<EventEnvelope[]> {
  const rows = await sql<
    { envelope: EventEnvelope; type: string }[]
  >`select dispatch_task_envelope(task_events) as envelope, type from task_events where task_id = ${taskId} and kind = 'task' order by seq`;
  return rows.filter((r) => !type || r.type === type).map((r) => r.envelope);
}

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

describe('assignment engine', () => {
  it('a ready agent beats a sleeping one; a sleeping winner is woken once', async () => {
    await using fakes = await startFakes();
    fakes.addAgent('alpha', ['research'], 'ready');
    fakes.addAgent('sleepy', ['research'], 'sleeping');
    fakes.warren.wakeTo = 'sleeping'; // Warren is slow to show the wake: Dispatch must not wake it again
    await using t = await startApp({ config: { ...fakes.config, assignment: { max_concurrent_per_agent: 3, tick_interval_ms: 60_000 } } });
    const s = schedulerOf(t);
    await s.stopLoop();
    const tasks = [];
    for (let i = 0; i < 4; i++) tasks.push(await insertTask(t.sql, { scope: 'Research', created_at: at(i) }));
    const r = await s.runOnce();
    expect(r.assigned.map((a) => [a.agent, a.woke])).toEqual([
      ['alpha', false],
      ['sleepy', true],
      ['alpha', false],
      ['sleepy', false],
    ]);
    const [first] = await eventsOf(t.sql, tasks[0]!.id, 'assigned');
    expect(first!.data).toMatchObject({ agent: 'alpha', score: 1.25, woke: false, task: { status: 'assigned', assignee: 'alpha' } });
    const [woken] = await eventsOf(t.sql, tasks[1]!.id, 'assigned');
    expect(woken!.data).toMatchObject({ agent: 'sleepy', score: 1, woke: true });
    await waitFor(() => fakes.warren.wakes.length === 1, 'the wake request');
    // More work while Warren still says "sleeping": assigned, but not woken again.
    for (let i = 10; i < 12; i++) await insertTask(t.sql, { scope: 'research', created_at: at(i) });
    const again = await s.runOnce();
    expect(again.assigned.map((a) => [a.agent, a.woke]).sort()).toEqual([
      ['alpha', false],
      ['sleepy', false],
    ]);
    expect(fakes.warren.wakes).toEqual(['sleepy']);
    expect(fakes.warren.count('/admin/agents/sleepy/wake', 'POST')).toBe(1);
  });

  it('while every agent is busy, the whole queue is announced unmatched over a few ticks, each task once', async () => {
    await using t = await startApp({
      config: {
        assignment: { tick_interval_ms: 60_000, max_concurrent_per_agent: 1, batch_size: 5 },
        agents: [{ id: 'w1', name: 'w1', capabilities: ['x'], state: 'ready' }] as never,
      },
    });
    const s = schedulerOf(t);
    await s.stopLoop();
    await insertTask(t.sql, { status: 'running', assignee: 'w1', capabilities: ['x'] });
    const waiting = [];
    for (let i = 0; i < 12; i++) waiting.push(await insertTask(t.sql, { capabilities: ['x'], created_at: at(i) }));
    const marked = [];
    for (let tick = 0; tick < 3; tick++) {
      const r = await s.runOnce();
      expect(r.assigned).toEqual([]);
      marked.push(r.unmatched.length);
    }
    // Tick 1: the head page (5) and one page beyond (5); tick 2: the last 2; tick 3: nothing new.
    expect(marked).toEqual([10, 2, 0]);
    for (const task of waiting) {
      const events = await eventsOf(t.sql, task.id, 'unmatched');
      expect(events.map((e) => e.data.reason)).toEqual(['no_available_agent']);
    }
  });

  it('a lean tick (a poke) reads about the free slots, assigns them, and leaves no_available_agent to the full tick', async () => {
    await using t = await startApp({
      config: {
        assignment: { tick_interval_ms: 60_000, max_concurrent_per_agent: 2, batch_size: 100 },
        agents: [
          { id: 'w1', name: 'w1', capabilities: ['x'], state: 'ready' },
          { id: 'w2', name: 'w2', capabilities: ['x'], state: 'ready' },
        ] as never,
      },
    });
    const s = schedulerOf(t);
    await s.stopLoop();
    await insertTask(t.sql, { status: 'running', assignee: 'w1', capabilities: ['x'] });
    await s.runOnce(); // the agents' views: 3 free slots (w1 1, w2 2)
    const waiting = [];
    for (let i = 0; i < 40; i++) waiting.push(await insertTask(t.sql, { capabilities: ['x'], created_at: at(i) }));
    const nobody = await insertTask(t.sql, { capabilities: ['nobody-has-this'], created_at: at(-1) });
    const lean = await s.runOnce({ lean: true });
    // Free slots (3) + the margin, not batch_size: the head task no agent can take is read too.
    expect(lean.considered).toBe(3 + LEAN_PAGE_MARGIN);
    expect(lean.assigned.map((a) => a.taskId)).toEqual(waiting.slice(0, 3).map((w) => w.id));
    // What is wrong with a task itself is announced at once; agents being busy is not.
    expect(lean.unmatched).toEqual([{ taskId: nobody.id, reason: 'no_capable_agent' }]);
    expect(await eventsOf(t.sql, waiting[3]!.id, 'unmatched')).toEqual([]);
    // The timer's full tick announces the waiting ones (its page and one marking page).
    const full = await s.runOnce();
    expect(full.assigned).toEqual([]);
    expect(full.unmatched.length).toBeGreaterThan(0);
    expect(full.unmatched.every((u) => u.reason === 'no_available_agent')).toBe(true);
    expect((await eventsOf(t.sql, waiting[3]!.id, 'unmatched')).map((e) => e.data.reason)).toEqual(['no_available_agent']);
  });

  it('degraded, stopped and unknown agents never get work; the task is announced unmatched once', async () => {
    await using fakes = await startFakes();
    fakes.addAgent('deg', ['code'], 'degraded');
    fakes.addAgent('gone', ['code'], 'stopped');
    fakes.promptforge.setPersona('ghost', ['code']); // in PromptForge, unknown to Warren
    await using t = await startApp({ config: { ...fakes.config, assignment: { tick_interval_ms: 60_000 } } });
    const s = schedulerOf(t);
    await s.stopLoop();
    const task = await insertTask(t.sql, { scope: 'code' });
    for (let i = 0; i < 3; i++) expect((await s.runOnce()).assigned).toEqual([]);
    const unmatched = await eventsOf(t.sql, task.id, 'unmatched');
    expect(unmatched).toHaveLength(1);
    expect(unmatched[0]!.data.reason).toBe('no_available_agent');
    // A state change (Warren's event, relayed as a signal) takes effect at once.
    t.dispatch.context.signals.emit('agent-state', { agent: 'deg', state: 'ready' });
    const r = await s.runOnce();
    expect(r.assigned).toEqual([{ taskId: task.id, agent: 'deg', woke: false }]);
    expect(await eventTypes(t.sql, task.id)).toEqual(['created', 'unmatched', 'assigned']);
  });

  it('a drained agent gets nothing new; drain is persisted and listed; lifting it restores work', async () => {
    await using fakes = await startFakes();
    fakes.addAgent('a', ['ops'], 'ready');
    fakes.addAgent('b', ['ops'], 'ready');
    await using t = await startApp({ config: { ...fakes.config, assignment: { max_concurrent_per_agent: 10, tick_interval_ms: 60_000 } } });
    const s = schedulerOf(t);
    await s.stopLoop();
    const drain = await t.call('POST', '/api/v1/agents/a/drain', { admin: true });
    expect(drain).toMatchObject({ status: 200, body: { id: 'a', drained: true } });
    expect((await t.call('POST', '/api/v1/agents/a/drain')).status).toBe(401);
    for (let i = 0; i < 5; i++) await insertTask(t.sql, { scope: 'ops', created_at: at(i) });
    const r = await s.runOnce();
    expect(r.assigned.map((x) => x.agent)).toEqual(['b', 'b', 'b', 'b', 'b']);
    const list = await t.call('GET', '/api/v1/agents', { admin: true });
    expect(list.status).toBe(200);
    expect(list.body.agents).toEqual([
      { id: 'a', name: 'a', capabilities: ['ops'], state: 'ready', active_tasks: 0, max_concurrent: 10, drained: true, record: EMPTY_RECORD },
      { id: 'b', name: 'b', capabilities: ['ops'], state: 'ready', active_tasks: 5, max_concurrent: 10, drained: false, record: EMPTY_RECORD },
    ]);
    const [row] = await t.sql<{ drained: boolean }[]>`select drained from agents where id = 'a'`;
    expect(row!.drained).toBe(true);
    expect(await t.call('DELETE', '/api/v1/agents/a/drain', { admin: true })).toMatchObject({ status: 200, body: { id: 'a', drained: false } });
    const task = await insertTask(t.sql, { scope: 'ops', created_at: at(100) });
    expect((await s.runOnce()).assigned).toEqual([{ taskId: task.id, agent: 'a', woke: false }]);
    expect((await t.call('POST', '/api/v1/agents/bad%20id/drain', { admin: true })).status).toBe(400);
  });

  it('equal agents share a burst of 30 tasks within ±1 of each other', async () => {
    await using fakes = await startFakes();
    for (const id of ['x', 'y', 'z']) fakes.addAgent(id, ['burst'], 'ready');
    await using t = await startApp({ config: { ...fakes.config, assignment: { max_concurrent_per_agent: 30, tick_interval_ms: 100 } } });
    await Promise.all(Array.from({ length: 30 }, (_, i) => insertTask(t.sql, { capabilities: ['burst'], created_at: at(i) })));
    const counts = await waitFor(async () => {
      const c = await activeByAgent(t.sql);
      return Object.values(c).reduce((a, b) => a + b, 0) === 30 ? c : undefined;
    }, 'all 30 tasks assigned');
    const n = ['x', 'y', 'z'].map((id) => counts[id] ?? 0);
    expect(Math.max(...n) - Math.min(...n)).toBeLessThanOrEqual(1);
  });

  it('a task created while an agent is free is assigned at once, not at the next tick', async () => {
    await using fakes = await startFakes();
    fakes.addAgent('quick', [], 'ready');
    await using t = await startApp({ config: { ...fakes.config, assignment: { tick_interval_ms: 600_000 } } });
    await waitFor(() => t.dispatch.context.agents.cachedAgents().length === 1, 'capabilities loaded');
    await quiesce(t); // the start-up tick: what the create's sync match plans with
    // By its own create (sync match), with no tick due for ten minutes:
    const created = await t.call('POST', '/api/v1/tasks', { body: { title: 'now' } });
    expect(created.body).toMatchObject({ status: 'assigned', assignee: 'quick' });
    // A task made pending on this replica (here: by hand, then the signal its writer emits) is
    // assigned by the tick the signal starts. No NOTIFY from the insert any more (migrations/0020).
    const second = await insertTask(t.sql, {});
    t.dispatch.context.signals.emit('assign-needed');
    await waitFor(async () => (await t.sql`select 1 from tasks where id = ${second.id} and status = 'assigned'`).length === 1, 'assignment via signal', 10_000);
  });

  it('the roster stands in when no neighbour URL is set, and wakes a sleeping roster agent by marking it ready', async () => {
    await using t = await startApp({
      config: {
        agents: [
          { id: 'scout', name: 'Scout', capabilities: ['research'], state: 'ready' },
          { id: 'builder', name: 'Builder', capabilities: ['code'], state: 'sleeping' },
        ],
        assignment: { tick_interval_ms: 60_000 },
      },
    });
    const s = schedulerOf(t);
    await s.stopLoop();
    const task = await insertTask(t.sql, { scope: 'code' });
    expect((await s.runOnce()).assigned).toEqual([{ taskId: task.id, agent: 'builder', woke: true }]);
    await waitFor(async () => {
      await s.runOnce();
      return t.dispatch.context.agents.cachedAgents().find((a) => a.id === 'builder')?.state === 'ready';
    }, 'builder ready');
    const health = await fetch(`${t.opsUrl}/health`).then((r) => r.json());
    expect(health.checks).toMatchObject({ warren: 'disabled', promptforge: 'disabled', alexandria: 'disabled' });
  });

  it('tasks nobody can take at the head of the queue do not starve the ones behind them', async () => {
    await using fakes = await startFakes();
    fakes.addAgent('worker', ['common'], 'ready');
    await using t = await startApp({ config: { ...fakes.config, assignment: { batch_size: 5, tick_interval_ms: 60_000 } } });
    const s = schedulerOf(t);
    await s.stopLoop();
    for (let i = 0; i < 30; i++) await insertTask(t.sql, { scope: 'exotic', priority: 10, created_at: at(i) });
    const feasible = await insertTask(t.sql, { scope: 'common', priority: 0, created_at: at(100) });
    let ticks = 0;
    await waitFor(
      async () => {
        ticks++;
        return (await s.runOnce()).assigned.some((x) => x.taskId === feasible.id);
      },
      'the feasible task assigned',
      10_000,
      1,
    );
    expect(ticks).toBeLessThanOrEqual(3);
  });

  it('with no agent source at all (empty roster, no neighbours) tasks just wait; deadlines are still swept', async () => {
    await using t = await startApp({ config: { assignment: { tick_interval_ms: 60_000 } } });
    const s = schedulerOf(t);
    await s.stopLoop();
    const waiting = await insertTask(t.sql, {});
    const expired = await insertTask(t.sql, { status: 'running', assignee: 'gone', deadline_at: new Date(Date.now() - 1000), max_retries: 0 });
    const r = await s.runOnce();
    expect(r).toMatchObject({ assigned: [], unmatched: [], timedOut: 1 });
    expect(await eventTypes(t.sql, waiting.id)).toEqual(['created']);
    expect(await eventTypes(t.sql, expired.id)).toEqual(['created', 'timeout']);
  });
});
