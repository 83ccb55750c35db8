// Latency samples in milliseconds → count, p50/p95/p99/max (nearest-rank percentiles).
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export class LatencyRecorder {
  private samples: number[] = [];

  add(ms: number): void {
    this.samples.push(ms);
  }

  get count(): number {
    return this.samples.length;
  }

  summary(): LatencySummary {
    const s = [...this.samples].sort((a, b) => a - b);
    const n = s.length;
    if (n === 0) return { count: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
    const at = (q: number) => s[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
    return { count: n, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[n - 1]!, mean: s.reduce((a, b) => a + b, 0) / n };
  }
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The `count` slowest notifications of a window, in the order they were sent: when (s into the
 * window), and ms from the send to the service's decision (its assigned_at, its clock), to the
 * create's answer, and to the worker hearing it. Consecutive tasks slow together are a stall;
 * which of the three moved says whose (the service before deciding, the statement and the publish
 * before answering, or NATS and the worker after the answer). Tasks never heard (or never sent)
 * are left out. The window's start is given as a wall-clock time, to line a burst up with another
 * process's record (scripts/profile/loop-delay.mjs prints its pauses' wall-clock times too).
 */
export function tailLines(count: number, sentAt: Float64Array, decidedAt: Float64Array, answeredAt: Float64Array, heardAt: Float64Array): string[] {
  const heard = [...sentAt.keys()].filter((i) => heardAt[i]! > 0);
  const slowest = heard.sort((a, b) => heardAt[b]! - sentAt[b]! - (heardAt[a]! - sentAt[a]!)).slice(0, count);
  const t0 = sentAt[0]!;
  const ms = (x: number) => x.toFixed(1).padStart(6);
  return [
    `[dispatch] the ${slowest.length} slowest notifications (ms from the send; the window began ${new Date(t0).toISOString()}): sent at s · decided · answered · heard`,
    ...slowest
      .sort((a, b) => a - b)
      .map(
        (i) =>
          `  ${((sentAt[i]! - t0) / 1000).toFixed(3)} s · ${decidedAt[i]! > 0 ? ms(decidedAt[i]! - sentAt[i]!) : '     —'} · ${ms(answeredAt[i]! - sentAt[i]!)} · ${ms(heardAt[i]! - sentAt[i]!)}`,
      ),
  ];
}
