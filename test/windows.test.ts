// Windows (CONTRACT §19.3, docs/windows.md): a task with duration_ms runs until
// max(start_at, assigned_at) + duration_ms and then ends by itself (completed, reason
// window_ended), driven here by the scheduler's sweep on a fake clock. start_at holds the
// assignment back; PATCH of an active window's context, target or duration_ms writes `updated`.
import { describe, expect, it } from 'vitest';
import { startApp } from './helpers/app.js';
import { schedulerOf } from './fakes/swarm.js';
import { fakeClock } from './helpers/clock.js';

const AGENTS = [{ id: 'actor', name: 'Actor', capabilities: ['battery'], state: 'ready' as const }];
const iso = (ms: number) => new Date(ms).toISOString();

async function windowApp() {
  const clock = fakeClock();
  const t = await startApp({ clock, config: { agents: AGENTS, assignment: { tick_interval_ms: 600_000, sync_match: false } } });
  const s = schedulerOf(t);
  await s.stopLoop(); // the tests tick by hand
  return { t, s, clock };
}

const types = async (t: Awaited<ReturnType<typeof windowApp>>['t'], id: string) =>
  ((await t.call('GET', `/api/v1/tasks/${id}/events`)).body.events as { type: string; data: Record<string, unknown> }[]).map((e) => ({
    type: e.type,
    data: e.data,
  }));

describe('windows', () => {
  it('is not assigned before start_at, shows until once assigned, and ends by itself at until (completed, window_ended)', async () => {
    const { t, s, clock } = await windowApp();
    await using _ = t;
    const t0 = clock.now().getTime();
    const body = {
      title: 'charge the battery',
      scope: 'battery',
      start_at: iso(t0 + 60_000),
      duration_ms: 3_600_000,
      dry_run: true,
      target: { components: [7, 9] },
      context: { power_w: 5000 },
      // timeout_ms shorter than the window: the window's end is its attempt deadline.
      timeout_ms: 1000,
    };
    const created = await t.call('POST', '/api/v1/tasks', { body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      status: 'pending',
      start_at: body.start_at,
      not_before: body.start_at,
      duration_ms: 3_600_000,
      until: null,
      dry_run: true,
      target: { components: [7, 9] },
      call: null,
    });
    const id = created.body.id as string;

    expect((await s.runOnce()).assigned).toEqual([]);
    clock.advance(59_999);
    expect((await s.runOnce()).assigned).toEqual([]);
    clock.advance(1);
    expect((await s.runOnce()).assigned.map((a) => a.taskId)).toEqual([id]);
    const assigned = (await t.call('GET', `/api/v1/tasks/${id}`)).body;
    expect(assigned).toMatchObject({ status: 'assigned', assignee: 'actor', until: iso(t0 + 60_000 + 3_600_000) });
    expect((await t.call('POST', `/api/v1/tasks/${id}/progress`, { agent: 'actor', body: { message: 'charging' } })).status).toBe(200);

    // timeout_ms (1 s) has long passed: the window keeps running until its end.
    clock.advance(3_600_000 - 1);
    const before = await s.runOnce();
    expect([before.windowsEnded, before.timedOut, before.retriedAfterTimeout]).toEqual([0, 0, 0]);
    expect((await t.call('GET', `/api/v1/tasks/${id}`)).body.status).toBe('running');

    clock.advance(1);
    expect((await s.runOnce()).windowsEnded).toBe(1);
    const ended = (await t.call('GET', `/api/v1/tasks/${id}`)).body;
    expect(ended).toMatchObject({
      status: 'completed',
      result: { ended: 'window' },
      assignee: 'actor',
      until: iso(t0 + 60_000 + 3_600_000),
      completed_at: iso(t0 + 60_000 + 3_600_000),
    });
    const events = await types(t, id);
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.assigned', 'task.started', 'task.progress', 'task.completed']);
    expect(events.at(-1)!.data).toMatchObject({ reason: 'window_ended', agent: 'actor' });
    // Ended once: the next tick finds nothing, and the agent's late report is refused.
    expect((await s.runOnce()).windowsEnded).toBe(0);
    expect((await t.call('POST', `/api/v1/tasks/${id}/complete`, { agent: 'actor', body: {} })).status).toBe(409);
  });

  it('a window reported complete before its end keeps its result; a task without duration_ms still times out', async () => {
    const { t, s, clock } = await windowApp();
    await using _ = t;
    const w = (await t.call('POST', '/api/v1/tasks', { body: { title: 'short window', scope: 'battery', duration_ms: 5000 } })).body;
    const plain = (await t.call('POST', '/api/v1/tasks', { body: { title: 'plain', scope: 'battery', timeout_ms: 1000, max_retries: 0 } })).body;
    expect((await s.runOnce()).assigned).toHaveLength(2);
    expect((await t.call('POST', `/api/v1/tasks/${w.id}/complete`, { agent: 'actor', body: { result: { done: 'early' } } })).status).toBe(200);
    clock.advance(5000);
    const tick = await s.runOnce();
    expect([tick.windowsEnded, tick.timedOut]).toEqual([0, 1]);
    expect((await t.call('GET', `/api/v1/tasks/${w.id}`)).body).toMatchObject({ status: 'completed', result: { done: 'early' } });
    expect((await t.call('GET', `/api/v1/tasks/${plain.id}`)).body.status).toBe('timed_out');
  });

  it('PATCH of an active window writes updated with the changed fields; a new duration_ms moves until', async () => {
    const { t, s, clock } = await windowApp();
    await using _ = t;
    const t0 = clock.now().getTime();
    const w = (await t.call('POST', '/api/v1/tasks', { agent: 'planner', body: { title: 'w', scope: 'battery', duration_ms: 60_000, target: [1] } })).body;
    // Pending: a change is no reconfiguration (no event).
    expect((await t.call('PATCH', `/api/v1/tasks/${w.id}`, { agent: 'planner', body: { target: [1, 2] } })).status).toBe(200);
    await s.runOnce();
    expect((await t.call('POST', `/api/v1/tasks/${w.id}/progress`, { agent: 'actor', body: {} })).status).toBe(200);
    const patched = await t.call('PATCH', `/api/v1/tasks/${w.id}`, {
      agent: 'planner',
      body: { context: { power_w: 10 }, target: [3], duration_ms: 120_000 },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ status: 'running', target: [3], duration_ms: 120_000, until: iso(t0 + 120_000), context: { power_w: 10 } });
    // The same values again change nothing, so nothing is announced.
    expect((await t.call('PATCH', `/api/v1/tasks/${w.id}`, { agent: 'planner', body: { target: [3] } })).status).toBe(200);
    expect((await t.call('PATCH', `/api/v1/tasks/${w.id}`, { agent: 'planner', body: { target: { a: 1 } } })).status).toBe(200);
    const updated = (await types(t, w.id)).filter((e) => e.type === 'task.updated');
    expect(updated.map((e) => e.data.changed)).toEqual([['context', 'target', 'duration_ms'], ['target']]);
    expect(updated[0]!.data.task).toMatchObject({ target: [3], until: iso(t0 + 120_000) });

    // The old end passes without ending it; the new one ends it.
    clock.advance(60_000);
    expect((await s.runOnce()).windowsEnded).toBe(0);
    clock.advance(60_000);
    expect((await s.runOnce()).windowsEnded).toBe(1);
    // PATCH of a plain active task's context writes no updated event.
    const plain = (await t.call('POST', '/api/v1/tasks', { agent: 'planner', body: { title: 'plain', scope: 'battery' } })).body;
    await s.runOnce();
    expect((await t.call('PATCH', `/api/v1/tasks/${plain.id}`, { agent: 'planner', body: { context: { x: 1 } } })).status).toBe(200);
    expect((await types(t, plain.id)).map((e) => e.type)).toEqual(['task.created', 'task.assigned']);
  });

  it('bad window fields → 400 validation_failed, nothing stored', async () => {
    const { t } = await windowApp();
    await using _ = t;
    const bad = [
      { title: 'x', duration_ms: 999 },
      { title: 'x', duration_ms: 2 ** 31 + 1 },
      { title: 'x', duration_ms: 1.5 },
      { title: 'x', start_at: 'soon' },
      { title: 'x', dry_run: 'yes' },
      { title: 'x', target: 'x'.repeat(64 * 1024) },
    ];
    for (const body of bad) {
      const res = await t.call('POST', '/api/v1/tasks', { body });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
    expect((await t.sql`select count(*)::int as n from tasks`)[0]!.n).toBe(0);
    const ok = await t.call('POST', '/api/v1/tasks', { body: { title: 'x', duration_ms: 2 ** 31, target: 'a string is JSON too' } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ duration_ms: 2 ** 31, target: 'a string is JSON too', dry_run: false });
    const patch = await t.call('PATCH', `/api/v1/tasks/${ok.body.id}`, { body: { duration_ms: 10 } });
    expect(patch.status).toBe(400);
  });
});
