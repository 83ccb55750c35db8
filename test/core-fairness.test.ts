// The pure parts of fair share (§16.3) and the track record (§16.4): fairOrder, servedOrder, the
// reader's position merge, recordFactor and the record summary.
import { describe, expect, it } from 'vitest';
import { fairOrder, servedOrder, type FairTask } from '../src/core/fairness.js';
import { planAssignments } from '../src/core/assignment.js';
import { recordFactor, scoreCandidate, type AgentView } from '../src/core/scoring.js';
import { EMPTY_RECORD, toRecord } from '../src/core/record.js';
import { furthest } from '../src/assignment/fair.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
let n = 0;
const task = (requester: string, at: number, priority = 5): FairTask => ({
  id: `t${String(n++).padStart(4, '0')}`,
  requester,
  created_at: new Date(T0 + at),
  priority,
});
const ids = (ts: FairTask[]) => ts.map((t) => `${t.requester}${t.created_at.getTime() - T0}`);

describe('fairOrder', () => {
  it('round-robin across requesters, each one oldest first, the requester with the oldest task first when nobody was served', () => {
    const tasks = [task('a', 0), task('a', 1), task('a', 2), task('a', 3), task('b', 10), task('b', 11), task('c', 5)];
    expect(ids(fairOrder(tasks, new Map()))).toEqual(['a0', 'c5', 'b10', 'a1', 'b11', 'a2', 'a3']);
  });

  it('the requester served longest ago goes first; one never served before anyone served', () => {
    const tasks = [task('a', 0), task('a', 1), task('b', 10), task('c', 20)];
    expect(
      ids(
        fairOrder(
          tasks,
          new Map([
            ['a', 7],
            ['b', 3],
          ]),
        ),
      ),
    ).toEqual(['c20', 'b10', 'a0', 'a1']);
  });

  it('priority wins over fairness: a higher band comes whole before a lower one', () => {
    const tasks = [task('a', 0, 5), task('a', 1, 5), task('b', 9, 8), task('b', 10, 8), task('c', 2, 3)];
    expect(ids(fairOrder(tasks, new Map([['b', 99]])))).toEqual(['b9', 'b10', 'a0', 'a1', 'c2']);
  });

  it('is a permutation of its input, whatever the input order (ties by id)', () => {
    const tasks = [task('b', 1), task('a', 1), task('a', 0), task('b', 0), task('a', 0)];
    const out = fairOrder([...tasks].reverse(), new Map());
    expect(new Set(out)).toEqual(new Set(tasks));
    expect(out).toHaveLength(tasks.length);
    expect(ids(out)).toEqual(['a0', 'b0', 'a0', 'b1', 'a1']);
  });

  it("one requester's backlog delays another's task by at most one task per requester ahead of it", () => {
    const tasks = [...Array.from({ length: 1000 }, (_, i) => task('big', i)), task('small', 5000)];
    const out = fairOrder(tasks, new Map());
    expect(out.findIndex((t) => t.requester === 'small')).toBe(1);
  });
});

describe('servedOrder', () => {
  it('each requester once, in the order of its last assignment', () => {
    expect(servedOrder(['a', 'b', 'a', 'c', 'b'])).toEqual(['a', 'c', 'b']);
    expect(servedOrder([])).toEqual([]);
  });
});

describe('the fair reader position (furthest)', () => {
  const pos = (id: string, at: number) => ({ created_at: new Date(T0 + at), id });
  it('a lower band is further; "below p" is past band p', () => {
    const inFive = { priority: 5, after: new Map([['a', pos('x', 1)]]) };
    expect(furthest(inFive, { priority: 3, after: new Map() })).toEqual({ priority: 3, after: new Map() });
    expect(furthest(inFive, { below: 5 })).toEqual({ below: 5 });
    expect(furthest({ below: 6 }, inFive)).toBe(inFive);
  });
  it('in one band, each requester at the later of its two positions', () => {
    const a = {
      priority: 5,
      after: new Map([
        ['a', pos('x', 1)],
        ['b', pos('y', 9)],
      ]),
    };
    const b = {
      priority: 5,
      after: new Map([
        ['a', pos('z', 4)],
        ['c', pos('w', 2)],
      ]),
    };
    expect(furthest(a, b)).toEqual({
      priority: 5,
      after: new Map([
        ['a', pos('z', 4)],
        ['b', pos('y', 9)],
        ['c', pos('w', 2)],
      ]),
    });
  });
});

describe('recordFactor', () => {
  it.each([
    // success rate, weight, factor
    [null, 1, 1],
    [undefined, 0.5, 1],
    [0, 0, 1],
    [0, 1, 0],
    [0.5, 1, 0.5],
    [0.5, 0.5, 0.75],
    [1, 0.3, 1],
    [0.2, undefined, 1],
  ] as const)('rate %s, weight %s → ×%f', (rate, weight, factor) => {
    expect(recordFactor(rate, weight)).toBeCloseTo(factor, 12);
  });

  const agent = (o: Partial<AgentView>): AgentView => ({ id: 'a', capabilities: ['x'], state: 'ready', active: 0, drained: false, lastAssignedAt: null, ...o });
  it('multiplies the eligible score and is returned with it', () => {
    const s = scoreCandidate({ requiredTags: ['x'], priority: 0 }, agent({ successRate: 0.5 }), { maxConcurrent: 3, recordWeight: 0.5 });
    expect(s).toEqual({ eligible: true, score: 0.75, availability: 1, wake: false, recordFactor: 0.75 });
  });

  it('among equals the reliable agent wins; with weight 0 the tie-breaks decide as before', () => {
    const agents = [agent({ id: 'a', successRate: 0.2 }), agent({ id: 'b', successRate: 0.9 })];
    const snap = { tasks: [{ id: 't', requiredTags: ['x'], priority: 5, owner: null, avoidAgent: null }], agents, maxConcurrent: 3, ownerFilter: false };
    const rest = { ownership: new Map(), capabilitiesKnown: true, availabilityKnown: true, now: T0 };
    expect(planAssignments({ ...snap, ...rest, recordWeight: 1 })).toMatchObject([{ kind: 'assign', agent: 'b' }]);
    expect(planAssignments({ ...snap, ...rest, recordWeight: 0 })).toMatchObject([{ kind: 'assign', agent: 'a' }]);
  });
});

describe('toRecord', () => {
  it('success rate over the window, mean duration of the completed attempts', () => {
    expect(toRecord({ completed: 3, failed: 1, timed_out: 0, completed_ms: 1000 })).toEqual({
      completed: 3,
      failed: 1,
      timed_out: 0,
      success_rate: 0.75,
      avg_duration_ms: 333,
    });
    expect(toRecord({ completed: 0, failed: 0, timed_out: 2, completed_ms: 0 })).toEqual({
      completed: 0,
      failed: 0,
      timed_out: 2,
      success_rate: 0,
      avg_duration_ms: null,
    });
    expect(toRecord({ completed: 0, failed: 0, timed_out: 0, completed_ms: 0 })).toEqual(EMPTY_RECORD);
  });
});
