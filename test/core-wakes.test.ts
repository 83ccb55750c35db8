// core/wakes.ts: which held requests a committed change may end (the rule migrations 0010/0030's
// triggers applied, now applied by the writers after their commit).
import { describe, expect, it } from 'vitest';
import { wakesOf } from '../src/core/wakes.js';
import type { TaskRow, TaskStatus } from '../src/core/task.js';

const row = (status: TaskStatus, assignee: string | null = null, id = 't1') => ({ id, status, assignee }) as TaskRow;

describe('wakesOf', () => {
  it('a task newly assigned wakes its assignee, not its awaits', () => {
    expect(wakesOf([{ before: row('pending'), next: row('assigned', 'scout') }])).toEqual({ agents: ['scout'], tasks: [] });
    // A create inserted already assigned (no before).
    expect(wakesOf([{ next: row('assigned', 'scout') }])).toEqual({ agents: ['scout'], tasks: [] });
  });

  it('an assignment that stays with the same agent wakes nobody; a move to another agent wakes the new one', () => {
    expect(wakesOf([{ before: row('assigned', 'scout'), next: row('assigned', 'scout') }])).toEqual({ agents: [], tasks: [] });
    expect(wakesOf([{ before: row('assigned', 'scout'), next: row('assigned', 'scribe') }])).toEqual({ agents: ['scribe'], tasks: [] });
  });

  it('an answered question wakes the assignee; asking one wakes the awaits', () => {
    expect(wakesOf([{ before: row('input_required', 'scout'), next: row('running', 'scout') }])).toEqual({ agents: ['scout'], tasks: [] });
    expect(wakesOf([{ before: row('running', 'scout'), next: row('input_required', 'scout') }])).toEqual({ agents: [], tasks: ['t1'] });
  });

  it('a task that ends wakes its awaits once; one already ended, or going back to pending, wakes none', () => {
    for (const end of ['completed', 'failed', 'timed_out', 'cancelled'] as const) {
      expect(wakesOf([{ before: row('running', 'scout'), next: row(end, 'scout') }])).toEqual({ agents: [], tasks: ['t1'] });
    }
    expect(wakesOf([{ before: row('failed'), next: row('cancelled') }])).toEqual({ agents: [], tasks: [] });
    expect(wakesOf([{ before: row('running', 'scout'), next: row('pending') }])).toEqual({ agents: [], tasks: [] });
  });

  it('several changes: each agent and task once', () => {
    const w = wakesOf([
      { before: row('pending', null, 'a'), next: row('assigned', 'scout', 'a') },
      { before: row('pending', null, 'b'), next: row('assigned', 'scout', 'b') },
      { before: row('running', 'x', 'c'), next: row('completed', 'x', 'c') },
    ]);
    expect(w).toEqual({ agents: ['scout'], tasks: ['c'] });
  });
});
