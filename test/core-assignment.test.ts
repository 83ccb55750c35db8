import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decideTask, evaluateTask, planAssignments, rankCandidates, type PlanSnapshot, type PlanTask } from '../src/core/assignment.js';
import type { AgentView } from '../src/core/scoring.js';

const agent = (id: string, o: Partial<AgentView> = {}): AgentView => ({
  id,
  capabilities: [],
  state: 'ready',
  active: 0,
  drained: false,
  lastAssignedAt: null,
  ...o,
});
const task = (id: string, o: Partial<PlanTask> = {}): PlanTask => ({ id, requiredTags: [], priority: 5, owner: null, avoidAgent: null, ...o });
const snap = (o: Partial<PlanSnapshot>): PlanSnapshot => ({
  tasks: [],
  agents: [],
  maxConcurrent: 3,
  ownerFilter: false,
  ownership: new Map(),
  capabilitiesKnown: true,
  availabilityKnown: true,
  now: 1000,
  ...o,
});
const assigned = (ds: ReturnType<typeof planAssignments>) =>
  Object.fromEntries(ds.map((d) => [d.taskId, d.kind === 'assign' ? d.agent : d.kind === 'unmatched' ? `unmatched:${d.reason}` : `held:${d.hold}`]));

describe('planAssignments', () => {
  it('prefers a ready agent over a sleeping one, and wakes a sleeping winner once', () => {
    expect(assigned(planAssignments(snap({ tasks: [task('t1')], agents: [agent('sleepy', { state: 'sleeping' }), agent('ready')] })))).toEqual({ t1: 'ready' });
    const ds = planAssignments(snap({ tasks: [task('t1'), task('t2'), task('t3')], agents: [agent('sleepy', { state: 'sleeping' })] }));
    expect(ds.map((d) => d.kind === 'assign' && d.wake)).toEqual([true, false, false]);
  });

  it('never hands an agent more than its free slots in one plan', () => {
    const tasks = Array.from({ length: 10 }, (_, i) => task(`t${i}`));
    const ds = planAssignments(snap({ tasks, agents: [agent('a', { active: 1 }), agent('b')], maxConcurrent: 3 }));
    const per = assigned(ds);
    expect(Object.values(per).filter((v) => v === 'a')).toHaveLength(2);
    expect(Object.values(per).filter((v) => v === 'b')).toHaveLength(3);
    expect(Object.values(per).filter((v) => v === 'unmatched:no_available_agent')).toHaveLength(5);
  });

  it('spreads a burst over equal agents', () => {
    const tasks = Array.from({ length: 30 }, (_, i) => task(`t${i}`));
    const ds = planAssignments(snap({ tasks, agents: ['x', 'y', 'z'].map((id) => agent(id)), maxConcurrent: 100 }));
    const counts = ['x', 'y', 'z'].map((id) => ds.filter((d) => d.kind === 'assign' && d.agent === id).length);
    expect(counts).toEqual([10, 10, 10]);
  });

  it.each([
    ['no agents at all', [] as AgentView[], {}, 'no_capable_agent'],
    ['nobody holds the tags', [agent('a', { capabilities: ['code'] })], {}, 'no_capable_agent'],
    ['capabilities never loaded', [], { capabilitiesKnown: false }, 'capabilities_unavailable'],
    ['all capable agents drained', [agent('a', { capabilities: ['research'], drained: true })], {}, 'agents_drained'],
    ['all capable agents degraded', [agent('a', { capabilities: ['research'], state: 'degraded' })], {}, 'no_available_agent'],
    ['states unknown', [agent('a', { capabilities: ['research'], state: 'unknown' })], { availabilityKnown: false }, 'availability_unavailable'],
  ])('unmatched: %s', (_l, agents, extra, reason) => {
    const ds = planAssignments(snap({ tasks: [task('t', { requiredTags: ['research'] })], agents, ...extra }));
    expect(ds).toEqual([{ kind: 'unmatched', taskId: 't', reason }]);
  });

  it("owner filter: only the owner's agents; unknown ownership waits; filter off ignores owners", () => {
    const agents = [agent('mine'), agent('theirs')];
    const t = task('t', { owner: 'alice' });
    expect(assigned(planAssignments(snap({ tasks: [t], agents, ownerFilter: true, ownership: new Map([['alice', new Set(['mine'])]]) })))).toEqual({
      t: 'mine',
    });
    expect(assigned(planAssignments(snap({ tasks: [t], agents, ownerFilter: true, ownership: new Map([['alice', new Set(['nobody'])]]) })))).toEqual({
      t: 'unmatched:no_owned_agent',
    });
    expect(assigned(planAssignments(snap({ tasks: [t], agents, ownerFilter: true, ownership: new Map([['alice', null]]) })))).toEqual({
      t: 'unmatched:ownership_unavailable',
    });
    expect(assigned(planAssignments(snap({ tasks: [t], agents, ownerFilter: true })))).toEqual({ t: 'unmatched:ownership_unavailable' });
    expect(assigned(planAssignments(snap({ tasks: [t], agents: [agent('theirs')], ownerFilter: false })))).toEqual({ t: 'theirs' });
  });

  it('avoids the agent that let the task lapse unless it is the only one', () => {
    const agents = [agent('a'), agent('b', { active: 2 })];
    expect(assigned(planAssignments(snap({ tasks: [task('t', { avoidAgent: 'a' })], agents })))).toEqual({ t: 'b' });
    expect(assigned(planAssignments(snap({ tasks: [task('t', { avoidAgent: 'a' })], agents: [agent('a')] })))).toEqual({ t: 'a' });
  });

  it('property: no agent ever exceeds max_concurrent, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ active: fc.integer({ min: 0, max: 5 }), state: fc.constantFrom('ready', 'sleeping', 'starting', 'degraded') }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 0, max: 40 }),
        (max, specs, n) => {
          const agents = specs.map((s, i) => agent(`a${i}`, s));
          const ds = planAssignments(snap({ tasks: Array.from({ length: n }, (_, i) => task(`t${i}`)), agents, maxConcurrent: max }));
          for (const a of agents) {
            const got = ds.filter((d) => d.kind === 'assign' && d.agent === a.id).length;
            expect(a.active + got <= Math.max(max, a.active)).toBe(true);
            if (a.active >= max || a.state === 'degraded') expect(got).toBe(0);
          }
        },
      ),
    );
  });

  it('property: the planner decides as explain shows (decideTask = evaluateTask, whose best candidate it names)', () => {
    const agentArb = fc.record({
      caps: fc.subarray(['a', 'B', 'c']),
      state: fc.constantFrom('ready', 'sleeping', 'starting', 'degraded'),
      active: fc.integer({ min: 0, max: 3 }),
      drained: fc.boolean(),
      last: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
      rate: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
    });
    fc.assert(
      fc.property(
        fc.array(agentArb, { maxLength: 6 }),
        fc.subarray(['a', 'b', 'c']),
        fc.integer({ min: 0, max: 10 }),
        fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
        fc.constantFrom(0, 0.5),
        (specs, tags, priority, avoid, weight) => {
          const agents = specs.map((x, i) =>
            agent(`g${i}`, { capabilities: x.caps, state: x.state, active: x.active, drained: x.drained, lastAssignedAt: x.last, successRate: x.rate }),
          );
          const t = task('t', { requiredTags: tags, priority, avoidAgent: avoid === null ? null : `g${avoid}` });
          const s = snap({ agents, recordWeight: weight });
          const { candidates, decision } = evaluateTask(t, agents, s);
          expect(decideTask(t, agents, s)).toEqual(decision);
          const best = [...candidates].sort(rankCandidates)[0];
          if (decision.kind === 'assign') expect(decision.agent).toBe(best!.agent.id);
          else expect(candidates.every((c) => !c.eligible)).toBe(true);
        },
      ),
    );
  });
});
