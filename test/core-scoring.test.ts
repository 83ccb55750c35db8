import { describe, expect, it } from 'vitest';
import {
  agentReasons,
  compareCandidates,
  ineligibleCategory,
  priorityWeight,
  scoreCandidate,
  type AgentView,
  type ScoringPolicy,
  type TaskNeeds,
} from '../src/core/scoring.js';

const agent = (o: Partial<AgentView> = {}): AgentView => ({
  id: 'a1',
  capabilities: ['research', 'analysis'],
  state: 'ready',
  active: 0,
  drained: false,
  lastAssignedAt: null,
  ...o,
});
const MAX = 3;

describe('scoreCandidate', () => {
  it.each([
    // state, active, expected availability multiplier (0 = not a candidate), wake
    ['ready', 0, 1.0, false],
    ['ready', 1, 0.5, false],
    ['ready', MAX - 1, 0.5, false],
    ['ready', MAX, 0, false],
    ['sleeping', 0, 0.8, true],
    ['sleeping', MAX, 0, false],
    ['starting', 0, 0.8, false],
    ['starting', 1, 0.5, false],
    ['degraded', 0, 0, false],
    ['unknown', 0, 0, false],
    ['stopped', 0, 0, false],
    ['exploded', 0, 0, false],
  ] as const)('state %s with %i active → ×%f', (state, active, multiplier, wake) => {
    const s = scoreCandidate({ requiredTags: [], priority: 0 }, agent({ state, active }), { maxConcurrent: MAX });
    if (multiplier === 0) {
      expect(s.eligible).toBe(false);
      if (!s.eligible) expect(s.reason).toBe(active >= MAX ? 'at_limit' : 'unavailable');
    } else {
      expect(s).toEqual({ eligible: true, score: multiplier, availability: multiplier, wake, recordFactor: 1 });
    }
  });

  it.each([
    [0, 1.0],
    [5, 1.25],
    [10, 1.5],
  ])('priority %i weighs %f', (priority, weight) => {
    expect(priorityWeight(priority)).toBeCloseTo(weight);
    const s = scoreCandidate({ requiredTags: ['research'], priority }, agent(), { maxConcurrent: MAX });
    expect(s.eligible && s.score).toBeCloseTo(weight);
  });

  it.each([
    [['research'], true],
    [['RESEARCH', 'Analysis'], true],
    [['research', 'code'], false],
    [[], true], // empty requirements: any agent
  ])('required tags %j held → %s', (tags, eligible) => {
    const s = scoreCandidate({ requiredTags: tags, priority: 5 }, agent({ capabilities: ['Research', 'analysis'] }), { maxConcurrent: MAX });
    expect(s.eligible).toBe(eligible);
    if (!s.eligible) expect(s.reason).toBe('missing_capability');
  });

  it('excludes drained agents', () => {
    expect(scoreCandidate({ requiredTags: [], priority: 5 }, agent({ drained: true }), { maxConcurrent: MAX })).toEqual({
      eligible: false,
      reason: 'drained',
      reasons: ['drained'],
    });
  });

  it.each([
    [undefined, true], // filter off
    [new Set(['a1']), true],
    [new Set(['someone-else']), false],
    [new Set<string>(), false],
  ])('owner filter %j → eligible %s', (ownedBy, eligible) => {
    const s = scoreCandidate({ requiredTags: [], priority: 5 }, agent(), { maxConcurrent: MAX, ...(ownedBy ? { ownedBy } : {}) });
    expect(s.eligible).toBe(eligible);
    if (!s.eligible) expect(s.reason).toBe('not_owned');
  });
});

describe('compareCandidates (ties)', () => {
  const c = (o: Partial<AgentView>, score = 1) => ({ agent: agent(o), score });
  it.each([
    ['higher score first', c({ id: 'b' }, 1), c({ id: 'a' }, 0.8)],
    ['then fewer active', c({ id: 'b', active: 0 }), c({ id: 'a', active: 1 })],
    ['then idle longest (never assigned first)', c({ id: 'b', lastAssignedAt: null }), c({ id: 'a', lastAssignedAt: 5 })],
    ['then idle longest (older first)', c({ id: 'b', lastAssignedAt: 1 }), c({ id: 'a', lastAssignedAt: 5 })],
    ['then agent id', c({ id: 'a' }), c({ id: 'b' })],
  ])('%s', (_label, better, worse) => {
    expect(compareCandidates(better, worse)).toBeLessThan(0);
    expect(compareCandidates(worse, better)).toBeGreaterThan(0);
  });
});

describe('agentReasons (the stable codes of GET /explain)', () => {
  it('lists every reason that applies, most fundamental first; scoreCandidate reports the first', () => {
    const a = agent({ capabilities: ['research'], drained: true, active: MAX, state: 'degraded' });
    const task = { requiredTags: ['research', 'code', 'web'], priority: 5 };
    const reasons = agentReasons(task, a, { maxConcurrent: MAX, ownedBy: new Set(['other']) });
    expect(reasons).toEqual(['missing_capability:code', 'missing_capability:web', 'not_owner', 'drained', 'at_limit', 'unavailable:degraded']);
    expect(scoreCandidate(task, a, { maxConcurrent: MAX, ownedBy: new Set(['other']) })).toMatchObject({ eligible: false, reason: 'missing_capability' });
    expect(agentReasons({ requiredTags: [], priority: 5 }, agent(), { maxConcurrent: MAX, ownershipUnknown: true })).toEqual(['ownership_unavailable']);
  });

  /** Every combination of state, load, drain flag, required tags and ownership the checks branch on. */
  function eachCase(check: (t: TaskNeeds, a: AgentView, policy: ScoringPolicy) => void): void {
    for (const state of ['ready', 'sleeping', 'starting', 'degraded', 'stopped'])
      for (const active of [0, 1, MAX])
        for (const drained of [false, true])
          for (const tags of [[], ['research'], ['Research', 'ANALYSIS'], ['nope']])
            for (const owner of [{}, { ownedBy: new Set(['a1']) }, { ownedBy: new Set(['other']) }, { ownershipUnknown: true }])
              check({ requiredTags: tags, priority: 3 }, agent({ state, active, drained, capabilities: ['research', 'Analysis'] }), {
                maxConcurrent: MAX,
                ...owner,
              });
  }

  it('is empty exactly when scoreCandidate finds the agent eligible', () => {
    eachCase((t, a, policy) => expect(agentReasons(t, a, policy).length === 0).toBe(scoreCandidate(t, a, policy).eligible));
  });

  it("ineligibleCategory is scoreCandidate's category, without the reasons (undefined when eligible)", () => {
    const seen = new Set<string | undefined>();
    eachCase((t, a, policy) => {
      const s = scoreCandidate(t, a, policy);
      const category = ineligibleCategory(t, a, policy);
      expect(category).toBe(s.eligible ? undefined : s.reason);
      seen.add(category);
    });
    // Every category (and eligibility) came up, so the comparison above covered each branch.
    expect([...seen].sort()).toEqual(['at_limit', 'drained', 'missing_capability', 'not_owned', 'unavailable', undefined]);
  });
});
