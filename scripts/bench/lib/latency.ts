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
