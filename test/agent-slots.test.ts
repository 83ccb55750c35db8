// What the create's sync match plans with between ticks (agents/slots.ts): slots counted from the
// plan on, given back when the database refuses, and not forgotten by a tick that read its counts
// before they were taken or freed.
import { describe, expect, it } from 'vitest';
import { AgentSlots } from '../src/agents/slots.js';
import type { AgentView } from '../src/core/scoring.js';

const view = (id: string, active: number): AgentView => ({ id, capabilities: ['x'], state: 'ready', active, drained: false, lastAssignedAt: null });
const active = (s: AgentSlots) => Object.fromEntries((s.current(0) ?? []).map((v) => [v.id, v.active]));

describe('agent slots', () => {
  it('a take counts at once; released gives it back; free() sums what is left', () => {
    const s = new AgentSlots(10_000);
    s.refresh([view('a', 0), view('b', 2)], 0);
    expect(s.free(0, 3)).toBe(4);
    s.taken('a', 0, false);
    expect(active(s)).toEqual({ a: 1, b: 2 });
    s.released('a');
    expect(active(s)).toEqual({ a: 0, b: 2 });
    expect(s.free(20_000, 3)).toBeUndefined(); // too old: nothing known
  });

  it("a tick's refresh keeps what was taken and freed after it began reading its counts", () => {
    const s = new AgentSlots(10_000);
    s.refresh([view('a', 0), view('b', 1)], 0);
    s.taken('a', 0, false); // before the tick reads: in its counts
    s.readStarted();
    s.taken('a', 0, false); // during the tick: not in its counts
    s.taken('b', 0, false);
    s.freed('b');
    s.freed('b');
    // The tick read a: 1 (the first take), b: 1.
    s.refresh([view('a', 1), view('b', 1)], 0);
    expect(active(s)).toEqual({ a: 2, b: 0 });
    // The next tick, with nothing in between, takes its counts as they are.
    s.readStarted();
    s.refresh([view('a', 2), view('b', 0)], 0);
    expect(active(s)).toEqual({ a: 2, b: 0 });
  });
});
