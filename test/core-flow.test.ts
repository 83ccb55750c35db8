// core/flow.ts (pure): which limit applies, how full a bucket is, how many of a key's tasks may
// start; and planAssignments spending a key's budget without wasting agent slots.
import { describe, expect, it } from 'vitest';
import { limitFor, limitProblems, mergeLimits, pauseProblem, standingOf, tokensAt, type FlowLimit } from '../src/core/flow.js';
import { planAssignments } from '../src/core/assignment.js';
import type { AgentView } from '../src/core/scoring.js';

const L = (key: string, o: Partial<FlowLimit> = {}): FlowLimit => ({ key, source: 'config', ...o });
const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number) => T0.getTime() + ms;

describe('limitFor: the longest matching pattern', () => {
  const limits = [L('*'), L('user:*'), L('user:vip:*'), L('user:vip:7'), L('model:gpt')];
  it.each([
    ['user:vip:7', 'user:vip:7'], // an exact key beats every prefix
    ['user:vip:70', 'user:vip:*'],
    ['user:1', 'user:*'],
    ['user:', 'user:*'], // the empty rest matches
    ['model:gpt', 'model:gpt'],
    ['model:gpt-4', '*'], // an exact pattern is not a prefix
    ['other', '*'],
  ])('%s → %s', (key, want) => expect(limitFor(key, limits)?.key).toBe(want));
  it('no pattern matches → none', () => expect(limitFor('x', [L('user:*')])).toBeUndefined());
  it('an api limit replaces the config limit of its pattern', () => {
    const merged = mergeLimits([L('a', { concurrency: 1 }), L('b', { concurrency: 2 })], [{ key: 'a', concurrency: 9, source: 'api' }]);
    expect(merged).toEqual([
      { key: 'a', concurrency: 9, source: 'api' },
      { key: 'b', concurrency: 2, source: 'config' },
    ]);
  });
});

describe('the token bucket', () => {
  const rate = { rate: 10, per_ms: 60_000, burst: 10 };
  it('a key never drawn from is full; refills lazily at rate/per_ms, capped at burst', () => {
    expect(tokensAt(rate, undefined, at(0))).toBe(10);
    const state = { tokens: 0, refilled_at: T0 };
    expect(tokensAt(rate, state, at(6000))).toBeCloseTo(1);
    expect(tokensAt(rate, state, at(30_000))).toBeCloseTo(5);
    expect(tokensAt(rate, state, at(3_600_000))).toBe(10);
  });
  it('a clock behind the last refill (another replica) refills nothing', () => {
    expect(tokensAt(rate, { tokens: 2, refilled_at: T0 }, at(-5000))).toBe(2);
  });
  it('burst defaults to rate', () => expect(tokensAt({ rate: 3, per_ms: 1000 }, undefined, at(0))).toBe(3));
});

describe('standingOf', () => {
  const state = (o: Partial<{ tokens: number | null; refilled_at: Date | null; paused_until: Date | null; active: number }> = {}) => ({
    key: 'k',
    tokens: null,
    refilled_at: null,
    paused_until: null,
    active: 0,
    ...o,
  });
  it('no limit, no pause: unlimited', () => expect(standingOf('k', undefined, state(), at(0))).toMatchObject({ admissible: Infinity, hold: null }));
  it('a pause holds whatever the limit, until its end', () => {
    const s = standingOf('k', undefined, state({ paused_until: new Date(at(5000)) }), at(0));
    expect(s).toMatchObject({ admissible: 0, hold: 'flow_paused', wakeAt: at(5000) });
    expect(standingOf('k', undefined, state({ paused_until: new Date(at(5000)) }), at(5000)).admissible).toBe(Infinity);
  });
  it('concurrency: the free slots; at the limit it is held with no wake time (a slot must free)', () => {
    expect(standingOf('k', L('k', { concurrency: 4 }), state({ active: 1 }), at(0))).toMatchObject({ admissible: 3, hold: 'flow_concurrency' });
    expect(standingOf('k', L('k', { concurrency: 4 }), state({ active: 4 }), at(0))).toMatchObject({ admissible: 0, hold: 'flow_concurrency', wakeAt: null });
  });
  it('rate: the whole tokens; out of tokens it wakes when the next one arrives', () => {
    const l = L('k', { rate: 2, per_ms: 1000, burst: 2 });
    expect(standingOf('k', l, state({ tokens: 1.5, refilled_at: T0 }), at(0))).toMatchObject({ admissible: 1, hold: 'flow_rate' });
    expect(standingOf('k', l, state({ tokens: 0.5, refilled_at: T0 }), at(0))).toMatchObject({ admissible: 0, hold: 'flow_rate', wakeAt: at(250) });
  });
  it('both: the smaller; both exhausted → concurrency (a slot must free before a token helps)', () => {
    const l = L('k', { rate: 2, per_ms: 1000, burst: 5, concurrency: 3 });
    expect(standingOf('k', l, state({ tokens: 5, refilled_at: T0, active: 1 }), at(0))).toMatchObject({ admissible: 2, hold: 'flow_concurrency' });
    expect(standingOf('k', l, state({ tokens: 1, refilled_at: T0, active: 0 }), at(0))).toMatchObject({ admissible: 1, hold: 'flow_rate' });
    expect(standingOf('k', l, state({ tokens: 0, refilled_at: T0, active: 3 }), at(0))).toMatchObject({ admissible: 0, hold: 'flow_concurrency' });
  });
});

describe('limit and pause checks', () => {
  it.each([
    [{}, ['body']],
    [{ rate: 1 }, ['per_ms']],
    [{ per_ms: 1 }, ['body', 'rate']],
    [{ concurrency: 1, burst: 2 }, ['burst']],
    [{ rate: 1, per_ms: 10 }, []],
    [{ concurrency: 1 }, []],
    [{ rate: 1, per_ms: 10, burst: 3, concurrency: 2 }, []],
  ])('%j → %j', (body, fields) => expect(limitProblems(body).map((p) => p.field)).toEqual(fields));
  it('a pause is in the future and at most 24 h ahead', () => {
    expect(pauseProblem(at(0), at(0))).not.toBeNull();
    expect(pauseProblem(at(86_400_001), at(0))).not.toBeNull();
    expect(pauseProblem(at(86_400_000), at(0))).toBeNull();
  });
});

describe('planAssignments with flow standings', () => {
  const agent = (id: string, caps: string[]): AgentView => ({ id, capabilities: caps, state: 'ready', active: 0, drained: false, lastAssignedAt: null });
  const task = (id: string, tags: string[], flowKey: string | null) => ({ id, requiredTags: tags, priority: 5, owner: null, avoidAgent: null, flowKey });
  const base = { maxConcurrent: 3, ownerFilter: false, ownership: new Map(), capabilitiesKnown: true, availabilityKnown: true, now: 0 };

  it("a key's budget goes to the tasks an agent can take; the rest are held and take no slot", () => {
    const flow = new Map([['k', standingOf('k', L('k', { concurrency: 2 }), undefined, 0)]]);
    const ds = planAssignments({
      ...base,
      agents: [agent('a', ['x'])],
      flow,
      tasks: [task('t1', ['nobody'], 'k'), task('t2', ['x'], 'k'), task('t3', ['x'], 'k'), task('t4', ['x'], 'k'), task('t5', ['x'], null)],
    });
    expect(ds.map((d) => [d.taskId, d.kind])).toEqual([
      ['t1', 'unmatched'], // no agent: it does not spend the key's budget
      ['t2', 'assign'],
      ['t3', 'assign'],
      ['t4', 'held'], // the key's 2 are spent; agent a keeps its third slot
      ['t5', 'assign'],
    ]);
    expect(ds[3]).toEqual({ kind: 'held', taskId: 't4', key: 'k', hold: 'flow_concurrency', limitKey: 'k' });
  });
});
