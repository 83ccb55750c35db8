// The bench's tail listing (scripts/bench/lib/latency.ts tailLines, DISPATCH_BENCH_TAIL): the
// slowest notifications of a window, listed in the order they were sent, each split into the
// service's decision, the create's answer and the worker hearing it.
import { describe, expect, it } from 'vitest';
import { tailLines } from '../scripts/bench/lib/latency.js';

describe('tailLines', () => {
  const t0 = 1_000_000;
  // Five tasks sent 5 ms apart; #1 and #3 slow (heard 40 and 30 ms after their send), #4 never heard.
  const sentAt = Float64Array.from([0, 5, 10, 15, 20], (x) => t0 + x);
  const decidedAt = Float64Array.from([t0 + 0.5, t0 + 15, t0 + 11, -1, t0 + 20.4]);
  const answeredAt = Float64Array.from([t0 + 2, t0 + 40, t0 + 12, t0 + 44, t0 + 22]);
  const heardAt = Float64Array.from([t0 + 3, t0 + 45, t0 + 13, t0 + 45, 0]);

  it('lists the slowest heard notifications in send order, part by part', () => {
    const lines = tailLines(2, sentAt, decidedAt, answeredAt, heardAt);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('the 2 slowest notifications');
    expect(lines[0]).toContain(`the window began ${new Date(t0).toISOString()}`);
    // #1 (40 ms) and #3 (30 ms, no decision time), in the order sent; #4 was never heard.
    expect(lines[1]!.split('·').map((x) => x.trim())).toEqual(['0.005 s', '10.0', '35.0', '40.0']);
    expect(lines[2]!.split('·').map((x) => x.trim())).toEqual(['0.015 s', '—', '29.0', '30.0']);
  });

  it('lists no more than were heard', () => {
    expect(tailLines(10, sentAt, decidedAt, answeredAt, heardAt)).toHaveLength(1 + 4);
  });
});
