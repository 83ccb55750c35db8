// The call executor (docs/calls.md, docs/benchmarks.md "Call tasks"): one Dispatch process (the
// compiled service), a local HTTP receiver in this process on 127.0.0.1, the bench Postgres.
//
//   1. paced: call tasks created open-loop at --rate per second for --seconds against a receiver
//      that answers 200 {"ok":true} at once: latency from a task's due instant (its created_at)
//      to its request arriving at the receiver, p50/p99, and calls completed per second;
//   2. burst: --burst call tasks all due at the same instant (not_before): how many calls per
//      second the executor pushes through (first due → last completed);
//   3. slow: --slow call tasks against a receiver that holds every request --hold-ms, with
//      http_work.max_in_flight and per_host at --slow: once all are in flight, the Dispatch
//      process's RSS and CPU while they are held (they should stay flat), and after.
//
//   npx tsx scripts/bench/calls.ts [--rate 200] [--seconds 10] [--burst 2000] [--slow 1000] [--hold-ms 20000] [--json FILE]
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { connect, migrate } from '../../src/store/db.js';
import { num } from './lib/args.js';
import { BENCH_ADMIN_TOKEN, startDispatch, type DispatchProc } from './lib/dispatch-proc.js';
import { LatencyRecorder, wallMs, type LatencySummary } from './lib/latency.js';
import { openLoop } from './lib/open-loop.js';
import { runBenchScript, type BenchPostgres } from './lib/postgres.js';
import { cpuSeconds, memoryKb } from './lib/proc.js';
import { fmt, markdownTable } from './lib/table.js';

const DB = 'bench_calls';

export interface CallsBenchOptions {
  rate: number;
  seconds: number;
  burst: number;
  slow: number;
  holdMs: number;
}

interface Sample {
  atS: number;
  rssMb: number;
  cpuPct: number;
  inFlight: number;
}

export interface CallsResult {
  paced: { rate: number; created: number; completed: number; callsPerS: number; dueToSent: LatencySummary };
  burst: { n: number; callsPerS: number; dueToSent: LatencySummary; wallS: number };
  slow: { n: number; holdMs: number; reachedInFlightS: number; samples: Sample[]; completedS: number };
}

/** The receiver: `hold` decides how long each request waits for its 200. Records arrivals by task id. */
async function receiver(holdMs: () => number) {
  const arrivals = new Map<string, number>();
  const held = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const at = wallMs();
    req.resume();
    req.on('end', () => {
      arrivals.set(String(req.headers['x-dispatch-task-id']), at);
      const answer = () => {
        held.delete(res);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      };
      const ms = holdMs();
      if (ms <= 0) return answer();
      held.add(res);
      setTimeout(answer, ms);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 120_000;
  server.requestTimeout = 0;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    arrivals,
    held,
    url: `http://127.0.0.1:${port}/work`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function stats(d: DispatchProc, http: Agent): Promise<{ completed: number }> {
  const res = await request(`${d.apiUrl}/api/v1/stats`, {
    dispatcher: http,
    headers: { 'x-agent-id': 'bench', authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
  });
  const body = (await res.body.json()) as { completed?: number };
  return { completed: body.completed ?? 0 };
}

async function inFlightOf(d: DispatchProc, http: Agent): Promise<number> {
  const res = await request(`${d.opsUrl}/metrics`, { dispatcher: http });
  const m = /dispatch_calls_in_flight\{kind="call"\} (\d+)/.exec(await res.body.text());
  return Number(m?.[1] ?? 0);
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await fn())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function phase(pg: BenchPostgres, name: string, httpWork: Record<string, unknown>, holdMs: () => number) {
  const url = await pg.createDatabase(`${DB}_${name}`);
  const mig = connect(url, { max: 1 });
  await migrate(mig);
  await mig.end();
  const rx = await receiver(holdMs);
  const d = await startDispatch({ databaseUrl: url, agents: 0, tickMs: 1000, extra: { http_work: { allowed_hosts: ['127.0.0.1'], ...httpWork } } });
  const http = new Agent({ connections: 32 });
  const created = new Map<string, number>();
  const create = async (i: number, extra: Record<string, unknown> = {}) => {
    const res = await request(`${d.apiUrl}/api/v1/tasks`, {
      method: 'POST',
      dispatcher: http,
      headers: { 'content-type': 'application/json', 'x-agent-id': 'bench-requester' },
      body: JSON.stringify({ title: `call ${i}`, context: { i }, max_retries: 0, call: { url: rx.url, timeout_ms: 120_000 }, ...extra }),
    });
    const body = (await res.body.json()) as { id: string; created_at: string; not_before: string | null };
    if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${JSON.stringify(body)}`);
    created.set(body.id, Date.parse(body.not_before ?? body.created_at));
  };
  const latencies = () => {
    const rec = new LatencyRecorder();
    for (const [id, at] of rx.arrivals) {
      const due = created.get(id);
      if (due !== undefined) rec.add(at - due);
    }
    return rec.summary();
  };
  const done = async () => {
    await http.close();
    await d.stop();
    await rx.close();
    await pg.dropDatabase(`${DB}_${name}`);
  };
  return { d, http, rx, create, created, latencies, done };
}

export async function runCallsBench(pg: BenchPostgres, o: CallsBenchOptions): Promise<CallsResult> {
  // 1. paced
  let paced: CallsResult['paced'];
  {
    const p = await phase(pg, 'paced', {}, () => 0);
    try {
      const t0 = performance.now();
      const r = await openLoop({ rate: o.rate, durationMs: o.seconds * 1000, send: (i) => p.create(i) });
      await until('every paced call completed', async () => (await stats(p.d, p.http)).completed >= r.ok, 60_000);
      const wallS = (performance.now() - t0) / 1000;
      paced = { rate: o.rate, created: r.ok, completed: (await stats(p.d, p.http)).completed, callsPerS: r.ok / wallS, dueToSent: p.latencies() };
    } finally {
      await p.done();
    }
  }
  // 2. burst: every task due at one instant, after all creates
  let burst: CallsResult['burst'];
  {
    const p = await phase(pg, 'burst', {}, () => 0);
    try {
      const dueAt = new Date(Date.now() + 5000 + o.burst * 5);
      const ids = Array.from({ length: o.burst }, (_, i) => i);
      for (let k = 0; k < ids.length; k += 32) await Promise.all(ids.slice(k, k + 32).map((i) => p.create(i, { not_before: dueAt.toISOString() })));
      if (Date.now() >= dueAt.getTime()) throw new Error('the creates took longer than the lead time: raise it');
      await until('every burst call completed', async () => (await stats(p.d, p.http)).completed >= o.burst, 120_000);
      const wallS = (wallMs() - dueAt.getTime()) / 1000;
      const lastArrival = Math.max(...p.rx.arrivals.values());
      burst = { n: o.burst, callsPerS: o.burst / ((lastArrival - dueAt.getTime()) / 1000), dueToSent: p.latencies(), wallS };
    } finally {
      await p.done();
    }
  }
  // 3. slow: --slow calls held --hold-ms each, all in flight at once
  let slow: CallsResult['slow'];
  {
    const p = await phase(pg, 'slow', { max_in_flight: o.slow, per_host: o.slow }, () => o.holdMs);
    try {
      const t0 = performance.now();
      const ids = Array.from({ length: o.slow }, (_, i) => i);
      for (let k = 0; k < ids.length; k += 32) await Promise.all(ids.slice(k, k + 32).map((i) => p.create(i)));
      await until(`${o.slow} calls in flight`, async () => p.rx.held.size >= o.slow, 60_000);
      const reachedInFlightS = (performance.now() - t0) / 1000;
      const samples: Sample[] = [];
      let cpu0 = cpuSeconds(p.d.pid);
      let tPrev = performance.now();
      const tHold = performance.now();
      // Sample every second while the requests are held, then until they are all completed.
      for (;;) {
        await new Promise((r) => setTimeout(r, 1000));
        const now = performance.now();
        const cpu = cpuSeconds(p.d.pid);
        samples.push({
          atS: (now - tHold) / 1000,
          rssMb: memoryKb(p.d.pid).rss / 1024,
          cpuPct: (100 * (cpu - cpu0)) / ((now - tPrev) / 1000),
          inFlight: await inFlightOf(p.d, p.http),
        });
        cpu0 = cpu;
        tPrev = now;
        if ((await stats(p.d, p.http)).completed >= o.slow) break;
        if (now - tHold > o.holdMs + 60_000) throw new Error('the slow calls did not complete');
      }
      slow = { n: o.slow, holdMs: o.holdMs, reachedInFlightS, samples, completedS: (performance.now() - tHold) / 1000 };
    } finally {
      await p.done();
    }
  }
  return { paced, burst, slow };
}

export function callsTable(r: CallsResult): string {
  const lat = (s: LatencySummary) => [fmt(s.p50, 1), fmt(s.p99, 1), fmt(s.max, 1)];
  const s = r.slow.samples;
  const held = s.filter((x) => x.inFlight >= r.slow.n);
  const range = (xs: number[]) => (xs.length ? `${fmt(Math.min(...xs), 1)}–${fmt(Math.max(...xs), 1)}` : '—');
  return [
    'Call tasks: one Dispatch process (max_in_flight 64, per_host 16 unless said), a receiver on 127.0.0.1 in the bench process answering 200 at once',
    '',
    markdownTable(
      ['scenario', 'calls', 'calls/s', 'due→sent p50 ms', 'p99 ms', 'max ms'],
      [
        [`paced, ${r.paced.rate}/s offered`, String(r.paced.created), fmt(r.paced.callsPerS, 0), ...lat(r.paced.dueToSent)],
        [`burst, all due at one instant`, String(r.burst.n), fmt(r.burst.callsPerS, 0), ...lat(r.burst.dueToSent)],
      ],
    ),
    '',
    `Slow receiver: ${r.slow.n} calls held ${r.slow.holdMs} ms each (max_in_flight = per_host = ${r.slow.n}); all in flight after ${fmt(r.slow.reachedInFlightS, 1)} s.`,
    `While all ${r.slow.n} were held (${held.length} one-second samples): RSS ${range(held.map((x) => x.rssMb))} MB, CPU ${range(held.map((x) => x.cpuPct))} % of one core.`,
    `All completed ${fmt(r.slow.completedS, 1)} s after the hold began; last sample RSS ${fmt(s[s.length - 1]?.rssMb ?? NaN, 1)} MB.`,
    '',
    markdownTable(
      ['t s', 'in flight', 'RSS MB', 'CPU %'],
      s.map((x) => [fmt(x.atS, 0), String(x.inFlight), fmt(x.rssMb, 1), fmt(x.cpuPct, 1)]),
    ),
  ].join('\n');
}

runBenchScript(
  import.meta.url,
  (args) => ({
    rate: num(args.get('rate'), 200),
    seconds: num(args.get('seconds'), 10),
    burst: num(args.get('burst'), 2000),
    slow: num(args.get('slow'), 1000),
    holdMs: num(args.get('hold-ms'), 20_000),
  }),
  runCallsBench,
  callsTable,
  'npx tsx scripts/bench/calls.ts [--rate 200] [--seconds 10] [--burst 2000] [--slow 1000] [--hold-ms 20000] [--json FILE]: call tasks through the executor against a local receiver (due→sent p50/p99, calls/s) and N held in flight against a slow one (RSS, CPU)',
);
