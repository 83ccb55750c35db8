// Delivery scenario (docs/waiting.md; Dispatch only, no NATS): workers on long-poll.
//   - open loop at each --rates task/s for --window-s s: N agents each hold
//     GET /api/v1/agents/<id>/assignments?wait=30, complete what they get, poll again; latency =
//     the task's created_at → the poll response carrying it (same host clock).
//   - idle: --idle-polls long-polls (wait=60) held for --idle-s s, nothing else happening:
//     Dispatch's CPU and RSS, and the database's transactions (pg_stat_database xact_commit) in
//     that window, next to a window of the same length with no poll held (the background loops).
// Run: npx tsx scripts/bench/delivery.ts [--rates 50,200] [--window-s 10] [--agents 50]
//        [--idle-polls 5000] [--idle-s 30] [--json FILE]
import { Pool } from 'undici';
import { connect, migrate } from '../../src/store/db.js';
import { numList, num } from './lib/args.js';
import { sleep } from './lib/child.js';
import { startDispatch } from './lib/dispatch-proc.js';
import { LatencyRecorder, wallMs, type LatencySummary } from './lib/latency.js';
import { openLoop } from './lib/open-loop.js';
import { xactCommits } from './lib/pg-stats.js';
import { runBenchScript, type BenchPostgres } from './lib/postgres.js';
import { ProcSampler, memoryKb } from './lib/proc.js';
import { scrape } from './lib/prom.js';
import { fmt, markdownTable } from './lib/table.js';

const DB = 'bench_delivery';

export interface DeliveryOptions {
  rates: number[];
  windowMs: number;
  agents: number;
  maxConcurrent: number;
  idlePolls: number;
  idleMs: number;
}

export interface RateResult {
  rate: number;
  sent: number;
  received: number;
  toWorker: LatencySummary;
  /** assigned_at → the poll response: the delivery's own share. */
  assignedToWorker: LatencySummary;
  cpuPct: number;
  peakRssMb: number;
}

export interface IdleResult {
  polls: number;
  heldAnswered: number;
  windowS: number;
  cpuPct: number;
  rssMb: number;
  commitsHeld: number;
  commitsBaseline: number;
}

export interface DeliveryResults {
  rates: RateResult[];
  idle?: IdleResult;
}

async function freshDb(pg: BenchPostgres): Promise<string> {
  const url = await pg.createDatabase(DB);
  const sql = connect(url, { max: 1 });
  await migrate(sql);
  await sql.end();
  return url;
}

async function rateRun(pg: BenchPostgres, o: DeliveryOptions, rate: number): Promise<RateResult> {
  const url = await freshDb(pg);
  const d = await startDispatch({ databaseUrl: url, agents: o.agents, maxConcurrent: o.maxConcurrent });
  const pool = new Pool(d.apiUrl, { connections: o.agents * 2 + 64, pipelining: 1 });
  const lat = new LatencyRecorder();
  const fromAssigned = new LatencyRecorder();
  const seen = new Set<string>();
  let stop = false;
  const worker = async (agent: string) => {
    while (!stop) {
      const res = await pool.request({
        method: 'GET',
        path: `/api/v1/agents/${agent}/assignments?wait=30`,
        headers: { 'x-agent-id': agent },
        bodyTimeout: 0,
        headersTimeout: 0,
      });
      const at = wallMs();
      const body = (await res.body.json()) as { tasks?: Array<{ id: string; created_at: string; assigned_at: string }> };
      const fresh = (body.tasks ?? []).filter((t) => !seen.has(t.id));
      for (const t of fresh) {
        seen.add(t.id);
        lat.add(at - Date.parse(t.created_at));
        fromAssigned.add(at - Date.parse(t.assigned_at));
      }
      await Promise.all(
        fresh.map(async (t) => {
          const r = await pool.request({
            method: 'POST',
            path: `/api/v1/tasks/${t.id}/complete`,
            headers: { 'x-agent-id': agent, 'content-type': 'application/json' },
            body: '{}',
          });
          await r.body.dump();
        }),
      );
    }
  };
  try {
    const workers = Array.from({ length: o.agents }, (_, k) => worker(`agent-${k}`).catch(() => {}));
    await sleep(1000);
    const sampler = new ProcSampler(d.pid);
    sampler.start();
    const loop = await openLoop({
      rate,
      durationMs: o.windowMs,
      send: async () => {
        const r = await pool.request({
          method: 'POST',
          path: '/api/v1/tasks',
          headers: { 'x-agent-id': 'bench', 'content-type': 'application/json' },
          body: '{"title":"b","scope":"bench"}',
        });
        await r.body.dump();
      },
    });
    const until = performance.now() + 15_000;
    while (seen.size < loop.ok && performance.now() < until) await sleep(50);
    const usage = sampler.stop();
    stop = true;
    await d.stop(); // answers the held polls
    await Promise.all(workers);
    return {
      rate,
      sent: loop.sent,
      received: seen.size,
      toWorker: lat.summary(),
      assignedToWorker: fromAssigned.summary(),
      cpuPct: usage.cpuPct,
      peakRssMb: usage.peakRssMb,
    };
  } finally {
    await pool.close().catch(() => {});
    await d.stop().catch(() => {});
    await pg.dropDatabase(DB);
  }
}

async function idleRun(pg: BenchPostgres, o: DeliveryOptions): Promise<IdleResult> {
  const url = await freshDb(pg);
  const d = await startDispatch({ databaseUrl: url, agents: o.agents, maxConcurrent: o.maxConcurrent });
  const pool = new Pool(d.apiUrl, { connections: o.idlePolls + 16, pipelining: 1 });
  try {
    await sleep(2000);
    // Baseline: the same window with nothing held (scheduler tick, housekeeping, relay poll).
    const b0 = await xactCommits(pg.adminUrl, DB);
    await sleep(o.idleMs);
    const b1 = await xactCommits(pg.adminUrl, DB);
    let answered = 0;
    const polls = Array.from({ length: o.idlePolls }, async (_, k) => {
      const agent = `idle-${k}`;
      const r = await pool.request({
        method: 'GET',
        path: `/api/v1/agents/${agent}/assignments?wait=60`,
        headers: { 'x-agent-id': agent },
        bodyTimeout: 0,
        headersTimeout: 0,
      });
      await r.body.dump();
      answered++;
    });
    // Every poll has made its one read and is held (the replica's own gauge), then 2 s more.
    const heldUntil = performance.now() + 120_000;
    while (performance.now() < heldUntil && (await scrape(`${d.opsUrl}/metrics`)).get('dispatch_held_requests{kind="assignments"}') !== o.idlePolls)
      await sleep(200);
    await sleep(2000);
    const sampler = new ProcSampler(d.pid);
    sampler.start();
    const c0 = await xactCommits(pg.adminUrl, DB);
    await sleep(o.idleMs);
    const c1 = await xactCommits(pg.adminUrl, DB);
    const usage = sampler.stop();
    const heldAnswered = answered;
    const rssMb = memoryKb(d.pid).rss / 1024;
    await d.stop();
    await Promise.allSettled(polls);
    return { polls: o.idlePolls, heldAnswered, windowS: o.idleMs / 1000, cpuPct: usage.cpuPct, rssMb, commitsHeld: c1 - c0, commitsBaseline: b1 - b0 };
  } finally {
    await pool.close().catch(() => {});
    await d.stop().catch(() => {});
    await pg.dropDatabase(DB);
  }
}

export async function runDeliveryBench(pg: BenchPostgres, o: DeliveryOptions): Promise<DeliveryResults> {
  const out: DeliveryResults = { rates: [] };
  for (const rate of o.rates) {
    console.error(`[delivery] open loop at ${rate} tasks/s for ${o.windowMs / 1000} s, ${o.agents} agents on long-poll`);
    out.rates.push(await rateRun(pg, o, rate));
  }
  if (o.idlePolls > 0) {
    console.error(`[delivery] ${o.idlePolls} idle long-polls held for ${o.idleMs / 1000} s`);
    out.idle = await idleRun(pg, o);
  }
  return out;
}

export function deliveryTable(r: DeliveryResults): string {
  const rows: Array<Array<string | number>> = r.rates.map((x) => [
    `long-poll open loop ${x.rate}/s`,
    `${x.received}/${x.sent}`,
    `${fmt(x.toWorker.p50)} / ${fmt(x.toWorker.p99)} / ${fmt(x.toWorker.max)}`,
    `${fmt(x.assignedToWorker.p50)} / ${fmt(x.assignedToWorker.p99)} / ${fmt(x.assignedToWorker.max)}`,
    fmt(x.cpuPct),
    fmt(x.peakRssMb),
  ]);
  let out = markdownTable(
    [
      'scenario',
      'received/sent',
      'created → worker has it p50 / p99 / max (ms)',
      'assigned_at → worker has it p50 / p99 / max (ms)',
      'Dispatch CPU %',
      'peak RSS MB',
    ],
    rows,
  );
  if (r.idle) {
    const i = r.idle;
    out +=
      '\n\n' +
      markdownTable(
        ['idle long-polls', 'window s', 'answered early', 'Dispatch CPU %', 'RSS MB', 'xact_commit held', 'xact_commit same window, none held'],
        [[i.polls, i.windowS, i.heldAnswered, fmt(i.cpuPct), fmt(i.rssMb), i.commitsHeld, i.commitsBaseline]],
      );
  }
  return out;
}

export function deliveryOptionsFromArgs(args: Map<string, string>): DeliveryOptions {
  return {
    rates: numList(args.get('rates'), [50, 200]),
    windowMs: num(args.get('window-s'), 10) * 1000,
    agents: num(args.get('agents'), 50),
    maxConcurrent: num(args.get('max-concurrent'), 3),
    idlePolls: num(args.get('idle-polls'), 5000),
    idleMs: num(args.get('idle-s'), 30) * 1000,
  };
}

runBenchScript(import.meta.url, deliveryOptionsFromArgs, runDeliveryBench, deliveryTable);
