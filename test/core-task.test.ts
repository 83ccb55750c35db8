import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ACTIVE_STATUSES,
  REDRIVABLE_STATUSES,
  TASK_STATUSES,
  TERMINAL_STATUSES,
  TRANSITIONS,
  isTerminal,
  requiredTags,
  rowToTask,
  sourcesOf,
  type Actor,
  type TaskRow,
  type TaskStatus,
} from '../src/core/task.js';

const ACTORS: Actor[] = ['scheduler', 'assignee', 'requester_or_admin', 'dependency'];
const edge = (t: { from: string; to: string; by: string }) => `${t.from} -> ${t.to} by ${t.by}`;

function reachableFrom(start: TaskStatus): Set<TaskStatus> {
  const seen = new Set<TaskStatus>([start]);
  const queue: TaskStatus[] = [start];
  while (queue.length) {
    const s = queue.shift()!;
    for (const t of TRANSITIONS) {
      if (t.from === s && !seen.has(t.to)) {
        seen.add(t.to);
        queue.push(t.to);
      }
    }
  }
  return seen;
}

describe('TRANSITIONS', () => {
  it('mirrors docs/state-machine.md exactly (one row per from/to/actor)', () => {
    const expected = [
      'pending -> assigned by scheduler',
      'assigned -> running by assignee',
      'assigned -> completed by assignee',
      'running -> completed by assignee',
      'assigned -> failed by assignee',
      'running -> failed by assignee',
      'assigned -> pending by assignee',
      'running -> pending by assignee',
      'assigned -> pending by scheduler',
      'running -> pending by scheduler',
      'assigned -> timed_out by scheduler',
      'running -> timed_out by scheduler',
      'pending -> cancelled by requester_or_admin',
      'assigned -> cancelled by requester_or_admin',
      'running -> cancelled by requester_or_admin',
      'waiting -> cancelled by requester_or_admin',
      'waiting -> pending by dependency',
      'waiting -> cancelled by dependency',
      'failed -> pending by requester_or_admin',
      'timed_out -> pending by requester_or_admin',
      'cancelled -> pending by requester_or_admin',
      'failed -> waiting by requester_or_admin',
      'timed_out -> waiting by requester_or_admin',
      'cancelled -> waiting by requester_or_admin',
      'cancelled -> waiting by dependency',
      'pending -> timed_out by scheduler',
      'waiting -> timed_out by scheduler',
      'input_required -> cancelled by requester_or_admin',
      'running -> input_required by assignee',
      'input_required -> running by requester_or_admin',
      'input_required -> timed_out by scheduler',
    ];
    expect(TRANSITIONS.map(edge).sort()).toEqual([...expected].sort());
  });

  it('has no duplicate edge', () => {
    const edges = TRANSITIONS.map(edge);
    expect(new Set(edges).size).toBe(edges.length);
  });

  it('only names known statuses and actors, never a self-loop', () => {
    for (const t of TRANSITIONS) {
      expect(TASK_STATUSES).toContain(t.from);
      expect(TASK_STATUSES).toContain(t.to);
      expect(ACTORS).toContain(t.by);
      expect(t.from).not.toBe(t.to);
      expect(t.why.length).toBeGreaterThan(0);
    }
  });

  it('reaches every status but waiting from pending, and every status from waiting', () => {
    expect([...reachableFrom('pending')].sort()).toEqual([...TASK_STATUSES].sort());
    expect([...reachableFrom('waiting')].sort()).toEqual([...TASK_STATUSES].sort());
  });

  it('every non-terminal status can still end (reaches a terminal status)', () => {
    for (const s of TASK_STATUSES.filter((x) => !isTerminal(x))) {
      const r = reachableFrom(s);
      for (const term of TERMINAL_STATUSES) expect(r.has(term), `${s} reaches ${term}`).toBe(true);
    }
  });

  it('only a manual retry (or the retry of the dependency that cancelled it) leaves a terminal status', () => {
    for (const s of TERMINAL_STATUSES) {
      for (const t of TRANSITIONS.filter((x) => x.from === s)) {
        expect(REDRIVABLE_STATUSES).toContain(s);
        expect(['pending', 'waiting']).toContain(t.to);
        expect(t.by === 'requester_or_admin' || (t.by === 'dependency' && s === 'cancelled')).toBe(true);
      }
    }
    expect(TRANSITIONS.filter((t) => t.from === 'completed')).toEqual([]);
  });

  it('waiting, pending, active and terminal statuses partition TASK_STATUSES', () => {
    const all = ['waiting', 'pending', ...ACTIVE_STATUSES, ...TERMINAL_STATUSES];
    expect(all.sort()).toEqual([...TASK_STATUSES].sort());
    expect(new Set(all).size).toBe(TASK_STATUSES.length);
  });

  it.each([
    ['pending', false],
    ['assigned', false],
    ['running', false],
    ['completed', true],
    ['failed', true],
    ['timed_out', true],
    ['cancelled', true],
  ] as const)('isTerminal(%s) = %s', (s, terminal) => {
    expect(isTerminal(s)).toBe(terminal);
  });
});

describe('sourcesOf', () => {
  it('agrees with TRANSITIONS for every status and actor, without duplicates', () => {
    for (const to of TASK_STATUSES) {
      for (const by of [undefined, ...ACTORS]) {
        const got = sourcesOf(to, by);
        const want = new Set(TRANSITIONS.filter((t) => t.to === to && (by === undefined || t.by === by)).map((t) => t.from));
        expect(new Set(got).size, `sourcesOf(${to}, ${by}) has duplicates`).toBe(got.length);
        expect([...got].sort()).toEqual([...want].sort());
      }
    }
  });

  it.each([
    ['assigned', undefined, ['pending']],
    ['running', 'assignee', ['assigned']],
    ['completed', 'assignee', ['assigned', 'running']],
    ['failed', 'assignee', ['assigned', 'running']],
    ['pending', undefined, ['assigned', 'running', 'waiting', 'failed', 'timed_out', 'cancelled']],
    ['pending', 'scheduler', ['assigned', 'running']],
    ['pending', 'requester_or_admin', ['failed', 'timed_out', 'cancelled']],
    ['pending', 'dependency', ['waiting']],
    ['timed_out', 'scheduler', ['assigned', 'running', 'pending', 'waiting', 'input_required']],
    ['timed_out', 'assignee', []],
    ['cancelled', 'requester_or_admin', ['waiting', 'pending', 'assigned', 'running', 'input_required']],
    ['cancelled', 'assignee', []],
  ] as const)('sourcesOf(%s, %s) = %j', (to, by, want) => {
    expect([...sourcesOf(to, by)].sort()).toEqual([...want].sort());
  });

  it('lists a terminal status as a source only of a retry back to pending or waiting', () => {
    for (const to of TASK_STATUSES) for (const from of sourcesOf(to)) if (isTerminal(from)) expect(['pending', 'waiting']).toContain(to);
  });
});

describe('requiredTags', () => {
  it.each([
    ['scope and capabilities, lower-cased, trimmed, sorted', 'Acme', [' Research', 'analysis '], ['acme', 'analysis', 'research']],
    ['duplicates across scope and capabilities', 'research', ['RESEARCH', ' research '], ['research']],
    ['drops empty and blank tags', '   ', ['', '  ', 'x'], ['x']],
    ['no scope', null, ['b', 'a'], ['a', 'b']],
    ['undefined scope', undefined, ['b'], ['b']],
    ['nothing at all', null, [], []],
    ['scope only', ' Team-A ', [], ['team-a']],
  ] as const)('%s', (_l, scope, caps, want) => {
    expect(requiredTags(scope, caps)).toEqual(want);
  });

  it('defaults capabilities to none', () => {
    expect(requiredTags('S')).toEqual(['s']);
    expect(requiredTags(null)).toEqual([]);
  });

  it('does not mutate its input', () => {
    const caps = Object.freeze(['B', 'a']);
    expect(requiredTags('c', caps)).toEqual(['a', 'b', 'c']);
    expect(caps).toEqual(['B', 'a']);
  });

  it('property: sorted, unique, normalised, complete and idempotent', () => {
    const tag = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(' A', 'a ', 'A', '  ', '', 'Ab', 'b'));
    fc.assert(
      fc.property(fc.option(tag, { nil: null }), fc.array(tag, { maxLength: 8 }), (scope, caps) => {
        const got = requiredTags(scope, caps);
        expect(got).toEqual([...got].sort());
        expect(new Set(got).size).toBe(got.length);
        for (const t of got) {
          expect(t).toBe(t.trim().toLowerCase());
          expect(t).not.toBe('');
        }
        for (const t of [...(scope ? [scope] : []), ...caps]) {
          const n = t.trim().toLowerCase();
          if (n) expect(got).toContain(n);
        }
        expect(requiredTags(null, got)).toEqual(got);
      }),
    );
  });
});

describe('rowToTask', () => {
  const T0 = new Date('2025-03-01T10:00:00.000Z');
  const T1 = new Date('2025-03-01T10:00:05.250Z');
  const T2 = new Date('2025-03-01T10:01:00.000Z');
  const base: TaskRow = {
    id: '0b6f7a36-2c58-4c84-9b1e-2f3c1c0d0001',
    title: 'Summarise',
    description: 'desc',
    requester: 'req',
    owner: 'alice',
    scope: 'acme',
    capabilities: ['research'],
    required_tags: ['acme', 'research'],
    priority: 7,
    status: 'completed',
    assignee: 'scout',
    context: { k: 'v' },
    progress: { message: 'half', percent: 50, at: T1.toISOString() },
    result: { ok: true },
    error: null,
    timeout_ms: 60_000,
    max_retries: 2,
    retry_count: 1,
    attempt: 2,
    parent_id: '0b6f7a36-2c58-4c84-9b1e-2f3c1c0d0000',
    not_before: T0,
    depends_on: [],
    workflow_run_id: null,
    step_id: null,
    callback_url: null,
    callback_events: null,
    has_dependents: false,
    cancelled_by: null,
    start_by: null,
    schedule_id: null,
    scheduled_for: null,
    deadline_at: T2,
    wake_deadline_at: T1,
    heartbeat_timeout_ms: 5000,
    heartbeat_deadline_at: T2,
    input_timeout_ms: 86_400_000,
    input: null,
    input_deadline_at: null,
    call: null,
    start_at: null,
    duration_ms: null,
    dry_run: false,
    target: null,
    call_host: null,
    flow_key: 'model:gpt',
    assigned_score: 1.35,
    assigned_woke: false,
    avoid_agent: 'other',
    unmatched_reason: 'no_capable_agent',
    queued_at: T0,
    created_at: T0,
    updated_at: T2,
    assigned_at: T1,
    started_at: T1,
    completed_at: T2,
  };

  it('maps every contract field, dates to ISO strings, and leaves the bookkeeping columns out', () => {
    expect(rowToTask(base)).toStrictEqual({
      id: base.id,
      title: 'Summarise',
      description: 'desc',
      requester: 'req',
      owner: 'alice',
      scope: 'acme',
      capabilities: ['research'],
      priority: 7,
      status: 'completed',
      assignee: 'scout',
      context: { k: 'v' },
      progress: { message: 'half', percent: 50, at: '2025-03-01T10:00:05.250Z' },
      result: { ok: true },
      error: null,
      timeout_ms: 60_000,
      max_retries: 2,
      retry_count: 1,
      parent_id: base.parent_id,
      not_before: '2025-03-01T10:00:00.000Z',
      depends_on: [],
      workflow_run_id: null,
      step_id: null,
      start_by: null,
      schedule_id: null,
      scheduled_for: null,
      callback_url: null,
      callback_events: null,
      heartbeat_timeout_ms: 5000,
      input_timeout_ms: 86_400_000,
      input: null,
      call: null,
      start_at: null,
      duration_ms: null,
      until: null,
      dry_run: false,
      target: null,
      flow_key: 'model:gpt',
      created_at: '2025-03-01T10:00:00.000Z',
      updated_at: '2025-03-01T10:01:00.000Z',
      assigned_at: '2025-03-01T10:00:05.250Z',
      started_at: '2025-03-01T10:00:05.250Z',
      completed_at: '2025-03-01T10:01:00.000Z',
    });
  });

  it('keeps null dates null', () => {
    const t = rowToTask({ ...base, not_before: null, assigned_at: null, started_at: null, completed_at: null });
    expect([t.not_before, t.assigned_at, t.started_at, t.completed_at]).toEqual([null, null, null, null]);
  });

  it.each([
    ['null', null, null],
    ['undefined', undefined, null],
    ['false', false, false],
    ['zero', 0, 0],
    ['empty string', '', ''],
    ['array', [1, 2], [1, 2]],
  ] as const)('result %s → %j', (_l, result, want) => {
    expect(rowToTask({ ...base, result }).result).toStrictEqual(want);
  });
});
