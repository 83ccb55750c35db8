// Scrape a Prometheus text endpoint and compare two scrapes of a histogram.
import { request } from 'undici';

export type Scrape = Map<string, number>;

export async function scrape(url: string): Promise<Scrape> {
  const res = await request(url, { headersTimeout: 5000, bodyTimeout: 5000 });
  const text = await res.body.text();
  const m: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    const v = Number(line.slice(sp + 1));
    if (Number.isFinite(v) || line.endsWith('Inf')) m.set(line.slice(0, sp), v);
  }
  return m;
}

export interface HistogramDelta {
  count: number;
  meanMs: number;
  /** Upper bound (ms) of the bucket holding the quantile; Infinity past the last bucket. */
  p50Ms: number;
  p99Ms: number;
  maxBucketMs: number;
}

/** What happened to histogram `name` between two scrapes (buckets are cumulative). */
export function histogramDelta(a: Scrape, b: Scrape, name: string): HistogramDelta {
  const buckets: Array<{ le: number; n: number }> = [];
  for (const [k, v] of b) {
    if (!k.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(k)?.[1];
    if (!le) continue;
    buckets.push({ le: le === '+Inf' ? Infinity : Number(le), n: v - (a.get(k) ?? 0) });
  }
  buckets.sort((x, y) => x.le - y.le);
  const count = (b.get(`${name}_count`) ?? 0) - (a.get(`${name}_count`) ?? 0);
  const sum = (b.get(`${name}_sum`) ?? 0) - (a.get(`${name}_sum`) ?? 0);
  const q = (p: number) => (buckets.find((x) => x.n >= p * count)?.le ?? NaN) * 1000;
  let maxBucket = NaN;
  let prev = 0;
  for (const x of buckets) {
    if (x.n > prev) maxBucket = x.le * 1000;
    prev = x.n;
  }
  return { count, meanMs: count ? (1000 * sum) / count : NaN, p50Ms: count ? q(0.5) : NaN, p99Ms: count ? q(0.99) : NaN, maxBucketMs: maxBucket };
}

/** A labelled counter's increases between two scrapes, as "value: n, …" (the label `label`'s values), or "none". */
export function counterDeltas(a: Scrape, b: Scrape, name: string, label: string): string {
  const parts: string[] = [];
  for (const [k, v] of b) {
    if (!k.startsWith(`${name}{`)) continue;
    const d = v - (a.get(k) ?? 0);
    const value = new RegExp(`${label}="([^"]*)"`).exec(k)?.[1];
    if (d > 0 && value !== undefined) parts.push(`${value}: ${d}`);
  }
  return parts.length ? parts.join(', ') : 'none';
}

/** Garbage collections between two scrapes (prom-client's default metrics), by kind: "gc minor 12 (30 ms), major 1 (8 ms)". */
export function gcSummary(a: Scrape, b: Scrape): string {
  const kinds: string[] = [];
  for (const kind of ['minor', 'major', 'incremental']) {
    const key = (m: string) => `dispatch_nodejs_gc_duration_seconds_${m}{kind="${kind}"}`;
    const n = (b.get(key('count')) ?? 0) - (a.get(key('count')) ?? 0);
    const ms = 1000 * ((b.get(key('sum')) ?? 0) - (a.get(key('sum')) ?? 0));
    if (n > 0) kinds.push(`${kind} ${n} (${ms.toFixed(0)} ms)`);
  }
  return `gc ${kinds.join(', ') || 'none'}`;
}
