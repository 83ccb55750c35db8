// GET /api/v1/tasks/:id/explain (§16.2, docs/heartbeats.md "Explain"): the contract's shape and
// reason codes, read-only, the recorded assignment of a finished task, and — a property over
// random directories and tasks — the agent explain names is the one the next runOnce assigns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startApp, type TestApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { schedulerOf } from './fakes/swarm.js';
import type { Scheduler } from '../src/assignment/scheduler.js';

const AGENTS = [
  { id: 'a0', name: 'A0', capabilities: ['x'] },
  { id: 'a1', name: 'A1', capabilities: ['x', 'y'] },
  { id: 'a2', name: 'A2', capabilities: ['y'] },
  { id: 'a3', name: 'A3', capabilities: ['x', 'y', 'z'] },
  { id: 'a4', name: 'A4', capabilities: ['z'] },
];
const STATES = ['ready', 'sleeping', 'starting', 'degraded', 'stopped'] as const;
const MAX = 2;

let t: TestApp;
let s: Scheduler;
let now = new Date('2032-01-01T00:00:00.000Z');
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

beforeAll(async () => {
  t = await startApp({
    clock: { now: () => now },
    random: () => 0,
    config: {
      agents: AGENTS.map((a) => ({ ...a, state: 'ready' })),
      assignment: { wake_timeout_ms: 600_000, max_concurrent_per_agent: MAX },
    },
  });
  s = schedulerOf(t);
  await s.stopLoop();
});
afterAll(async () => t?.stop());

async function reset(): Promise<void> {
  advance(3_600_000);
  await t.sql`update tasks set status = 'cancelled', completed_at = now(), deadline_at = null, wake_deadline_at = null, heartbeat_deadline_at = null
    where status in ('pending','assigned','running','waiting')`;
  await t.sql`update agents set drained = false, drained_at = null`;
  for (const a of AGENTS) t.dispatch.context.agents.applyState(a.id, 'ready');
}

const explain = (id: string) => t.call('GET', `/api/v1/tasks/${id}/explain`, { agent: 'anyone' });

describe('explain', () => {
  it('lists every agent with its reasons, best first, and the decision; reads only', async () => {
    await reset();
    t.dispatch.context.agents.applyState('a2', 'degraded');
    await t.call('POST', '/api/v1/agents/a1/drain', { agent: 'admin', admin: true });
    const created = await t.call('POST', '/api/v1/tasks', { agent: 'req', body: { title: 'w', scope: 'y', priority: 5 } });
    const id = created.body.id as string;
    const [counts] = await t.sql<{ rows: number; events: number }[]>`
      select (select count(*) from tasks)::int as rows, (select count(*) from task_events)::int as events`;
    const r = await explain(id);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ task_id: id, status: 'pending', evaluated_at: now.toISOString(), required_tags: ['y'] });
    expect(r.body.candidates[0]).toEqual({
      agent: 'a3',
      eligible: true,
      score: 1.25,
      availability: 'ready',
      active_tasks: 0,
      max_concurrent: MAX,
      reasons: [],
      record_factor: 1,
    });
    const byAgent = Object.fromEntries(r.body.candidates.map((c: { agent: string; reasons: string[] }) => [c.agent, c.reasons]));
    expect(byAgent).toEqual({ a3: [], a1: ['drained'], a2: ['unavailable:degraded'], a0: ['missing_capability:y'], a4: ['missing_capability:y'] });
    expect(r.body.decision).toEqual({ agent: 'a3', reason: null });
    expect(r.body.assigned).toBeUndefined();
    const [after] = await t.sql<{ rows: number; events: number }[]>`
      select (select count(*) from tasks)::int as rows, (select count(*) from task_events)::int as events`;
    expect(after).toEqual(counts); // nothing written

    // Assigned, then finished: the assignment's own record stays explainable.
    const tick = await s.runOnce();
    expect(tick.assigned).toEqual([{ taskId: id, agent: 'a3', woke: false }]);
    expect((await t.call('POST', `/api/v1/tasks/${id}/complete`, { agent: 'a3', body: {} })).status).toBe(200);
    const done = await explain(id);
    expect(done.body.status).toBe('completed');
    expect(done.body.assigned).toEqual({ agent: 'a3', score: 1.25, woke: false, at: now.toISOString() });
    await t.call('DELETE', '/api/v1/agents/a1/drain', { agent: 'admin', admin: true });
  });

  it('task-level reasons: not_before, waiting_for_dependencies; none capable; the avoided agent; 404', async () => {
    await reset();
    const later = await t.call('POST', '/api/v1/tasks', {
      agent: 'req',
      body: { title: 'w', scope: 'x', not_before: new Date(now.getTime() + 60_000).toISOString() },
    });
    expect((await explain(later.body.id)).body.decision).toEqual({ agent: null, reason: 'not_before' });
    const dep = await t.call('POST', '/api/v1/tasks', { agent: 'req', body: { title: 'w', scope: 'x', depends_on: [later.body.id] } });
    const waiting = await explain(dep.body.id);
    expect(waiting.body.decision).toEqual({ agent: null, reason: 'waiting_for_dependencies' });
    expect(waiting.body.candidates).toHaveLength(AGENTS.length);
    const nobody = await t.call('POST', '/api/v1/tasks', { agent: 'req', body: { title: 'w', capabilities: ['q'] } });
    expect((await explain(nobody.body.id)).body.decision).toEqual({ agent: null, reason: 'no_capable_agent' });
    const avoided = await insertTask(t.sql, { scope: 'z', created_at: now });
    await t.sql`update tasks set avoid_agent = 'a3' where id = ${avoided.id}`;
    const e = await explain(avoided.id);
    expect(e.body.decision.agent).toBe('a4');
    expect(e.body.candidates.slice(0, 2)).toMatchObject([
      { agent: 'a4', eligible: true, reasons: [] },
      { agent: 'a3', eligible: true, reasons: ['avoided_after_wake_timeout'] },
    ]);
    expect((await explain('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await explain('nope')).status).toBe(400);
  });

  it('agrees with the scheduler: for random directories and tasks, the agent explain names is the one runOnce assigns', async () => {
    const agentArb = fc.record({
      state: fc.constantFrom(...STATES),
      drained: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
      active: fc.integer({ min: 0, max: MAX }),
      lastAssigned: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
    });
    const caseArb = fc.record({
      agents: fc.tuple(...AGENTS.map(() => agentArb)),
      tags: fc.subarray(['x', 'y', 'z']),
      priority: fc.integer({ min: 0, max: 10 }),
      avoid: fc.option(fc.constantFrom(...AGENTS.map((a) => a.id)), { nil: null }),
    });
    let assignedRuns = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        await reset();
        for (const [i, a] of c.agents.entries()) {
          const id = AGENTS[i]!.id;
          t.dispatch.context.agents.applyState(id, a.state);
          const last = a.lastAssigned === null ? null : new Date(now.getTime() - 1000 * (a.lastAssigned + 1));
          await t.sql`insert into agents (id, drained, last_assigned_at) values (${id}, ${a.drained}, ${last})
            on conflict (id) do update set drained = excluded.drained, last_assigned_at = excluded.last_assigned_at`;
          for (let k = 0; k < a.active; k++) await insertTask(t.sql, { status: 'assigned', assignee: id, scope: 'busy', created_at: now });
        }
        const task = await insertTask(t.sql, { capabilities: c.tags, priority: c.priority, created_at: now });
        if (c.avoid !== null) await t.sql`update tasks set avoid_agent = ${c.avoid} where id = ${task.id}`;
        const e = await explain(task.id);
        expect(e.status).toBe(200);
        const tick = await s.runOnce();
        const got = tick.assigned.find((x) => x.taskId === task.id)?.agent ?? null;
        expect(e.body.decision.agent).toBe(got);
        if (got === null) expect(tick.unmatched.find((u) => u.taskId === task.id)?.reason).toBe(e.body.decision.reason);
        else {
          assignedRuns++;
          expect(e.body.candidates[0].agent).toBe(got);
        }
      }),
      { numRuns: 40, seed: 1816 },
    );
    expect(assignedRuns).toBeGreaterThan(0); // the property saw assignments, not only refusals
  });
});
