// The peers' side of the benchmark: graphile-worker 0.17.3 and pg-boss 10.4.2 each doing
// enqueue → a worker starts the job → completes it (no-op handler, 10 handlers, defaults
// otherwise), against the benchmark Postgres. `pg-boss-tuned` is pg-boss with its minimum
// polling interval (0.5 s) and 20 jobs per fetch, because its defaults poll every 2 s for one job.
// Jobs still unstarted when the wait after a window ends count with (end − enqueue) as their
// latency, a lower bound, and the table marks such figures with ≥.
//   - open loop at fixed rates (default 50 and 200 jobs/s, 10 s windows): enqueue→start latency
//   - burn-down of 20,000 pre-enqueued jobs: jobs/s until the database shows none left
// The worker runs in its own process (peer-worker.ts) so its CPU and peak RSS are its own; the
// producer runs here and enqueues through the library's client API.
//   npx tsx scripts/bench/peers.ts [--peers graphile-worker,pg-boss] [--rates 50,200]
//       [--window-s 10] [--burndown 20000] [--burndown-max-s 60] [--json out.json]
import { fileURLToPath } from 'node:url';
import { makeWorkerUtils, Logger, type WorkerUtils } from 'graphile-worker';
import PgBoss from 'pg-boss';
import postgres from 'postgres';
import { num, numList } from './lib/args.js';
import { forkTs, nextMessage, sleep, stopChild, waitFor } from './lib/child.js';
import { LatencyRecorder, wallMs, type LatencySummary } from './lib/latency.js';
import { openLoop, warmUp } from './lib/open-loop.js';
import { xactCommits } from './lib/pg-stats.js';
import { runBenchScript, type BenchPostgres } from './lib/postgres.js';
import { boxCpu, CpuGroups, formatBoxCpu, ProcSampler, type BoxCpu } from './lib/proc.js';
import { fmt, markdownTable } from './lib/table.js';

export const PEERS = ['graphile-worker', 'pg-boss', 'pg-boss-tuned'] as const;
export type Peer = (typeof PEERS)[number];
const QUEUE = 'noop';
const WORKER_SCRIPT = fileURLToPath(new URL('./peer-worker.ts', import.meta.url));
const CHUNK = 1000;

export interface RateResult {
  rate: number;
  sent: number;
  started: number;
  failed: number;
  /** Jobs not started when the wait ended; their latency counts as (end − enqueue), a lower bound. */
  censored: number;
  latency: LatencySummary;
  /** Jobs started per second over the window (≈ rate when the system keeps up). */
  throughput: number;
  cpuPct: number;
  peakRssMb: number;
  commitsPerJob: number;
  /** CPU per job across the box's processes: the worker process and the Postgres server (lib/proc.ts CpuGroups). */
  box?: BoxCpu;
  producerMaxLagMs: number;
}

export interface BurnDownResult {
  jobs: number;
  done: number;
  seconds: number;
  jobsPerS: number;
  capped: boolean;
  cpuPct: number;
  peakRssMb: number;
  commitsPerJob: number;
  /** CPU per job across the box's processes: the worker process and the Postgres server (lib/proc.ts CpuGroups). */
  box?: BoxCpu;
}

export interface PeerResult {
  peer: string;
  rates: RateResult[];
  burnDown?: BurnDownResult;
}

export interface PeerOptions {
  peers: Peer[];
  rates: number[];
  windowMs: number;
  /** The open loop before each rate's window, not measured (lib/open-loop.ts warmUp). */
  warmupMs: number;
  burnDown: number;
  burnDownMaxMs: number;
  log?: (msg: string) => void;
}

interface Producer {
  enqueue(i: number): Promise<void>;
  bulk(from: number, n: number): Promise<void>;
  close(): Promise<void>;
}

async function producer(peer: Peer, url: string): Promise<Producer> {
  if (peer === 'graphile-worker') {
    const utils: WorkerUtils = await makeWorkerUtils({ connectionString: url, logger: new Logger(() => () => {}) });
    await utils.migrate();
    return {
      enqueue: async (i) => {
        await utils.addJob(QUEUE, { i });
      },
      bulk: async (from, n) => {
        for (let k = 0; k < n; k += CHUNK) {
          const specs = Array.from({ length: Math.min(CHUNK, n - k) }, (_, j) => ({ identifier: QUEUE, payload: { i: from + k + j } }));
          await utils.addJobs(specs);
        }
      },
      close: async () => {
        await utils.release();
      },
    };
  }
  // A client-only instance: no maintenance or cron of its own (the worker's instance has those).
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false });
  boss.on('error', (err) => console.error('[pg-boss producer]', err.message));
  await boss.start();
  await boss.createQueue(QUEUE);
  return {
    enqueue: async (i) => {
      await boss.send(QUEUE, { i });
    },
    bulk: async (from, n) => {
      for (let k = 0; k < n; k += CHUNK) {
        await boss.insert(Array.from({ length: Math.min(CHUNK, n - k) }, (_, j) => ({ name: QUEUE, data: { i: from + k + j } })));
      }
    },
    close: () => boss.stop({ graceful: false, wait: true }),
  };
}

/** Jobs not yet completed, read from the peer's own tables. Counts its own queries (commits). */
function remainingCounter(peer: Peer, url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  let queries = 0;
  return {
    get queries() {
      return queries;
    },
    async remaining(): Promise<number> {
      queries++;
      const rows =
        peer === 'graphile-worker'
          ? await sql<{ n: string }[]>`select count(*)::text as n from graphile_worker._private_jobs`
          : await sql<{ n: string }[]>`select count(*)::text as n from pgboss.job where name = ${QUEUE} and state in ('created', 'retry', 'active')`;
      return Number(rows[0]!.n);
    },
    end: () => sql.end({ timeout: 2 }),
  };
}

async function startWorker(peer: Peer, url: string, onStarts: (s: number[]) => void) {
  const child = forkTs(WORKER_SCRIPT, [peer, url]);
  child.on('message', (m: { type: string; s?: number[] }) => {
    if (m.type === 'starts' && m.s) onStarts(m.s);
  });
  const ready = await nextMessage<{ pid: number }>(child, (m) => m.type === 'ready', 60_000);
  return {
    child,
    pid: ready.pid,
    go: async () => {
      child.send({ type: 'go' });
      await nextMessage(child, (m) => m.type === 'going', 60_000);
    },
  };
}

async function rateRun(peer: Peer, pg: BenchPostgres, db: string, rate: number, windowMs: number, iBase: number, warmupMs: number): Promise<RateResult> {
  const url = pg.urlOf(db);
  const n = Math.max(1, Math.round((rate * windowMs) / 1000));
  const sentAt = new Float64Array(n);
  let censoring = false;
  const lat = new LatencyRecorder();
  let started = 0;
  const startedIdx: number[] = [];
  const worker = await startWorker(peer, url, (s) => {
    for (let k = 0; k < s.length; k += 2) {
      const idx = s[k]! - iBase;
      if (idx < 0 || idx >= n || censoring) continue;
      started++;
      startedIdx.push(idx);
      lat.add(s[k + 1]! - sentAt[idx]!);
    }
  });
  await worker.go();
  const prod = await producer(peer, url);
  const counter = remainingCounter(peer, url);
  await sleep(1000); // let the worker settle
  // Its jobs' indices are negative (idx < 0 above): started, never recorded.
  await warmUp(rate, warmupMs, (i) => prod.enqueue(iBase + i));
  await waitFor(async () => (await counter.remaining()) === 0, 10_000, 50);
  const c0 = await xactCommits(pg.adminUrl, db);
  const sampler = new ProcSampler(worker.pid);
  sampler.start();
  const box = boxGroups(peer, pg, worker.pid);
  box?.start();
  const t0 = performance.now();
  const r = await openLoop({
    rate,
    durationMs: windowMs,
    send: (k) => {
      sentAt[k] = wallMs();
      return prod.enqueue(iBase + k);
    },
  });
  await waitFor(() => started >= r.ok, Math.max(10_000, windowMs));
  const tStarted = performance.now();
  const startedInTime = started;
  censoring = true;
  const seen = new Uint8Array(n);
  for (const k of startedIdx) seen[k] = 1;
  let censored = 0;
  const tCut = wallMs();
  for (let k = 0; k < r.sent; k++) {
    if (!seen[k]) {
      censored++;
      lat.add(tCut - sentAt[k]!);
    }
  }
  if (censored === 0) await waitFor(async () => (await counter.remaining()) === 0, 30_000, 100);
  const usage = sampler.stop();
  const boxSeconds = box?.stop();
  await prod.close();
  await stopChild(worker.child);
  await counter.end();
  await sleep(1500); // backends flush their statistics on exit
  const c1 = await xactCommits(pg.adminUrl, db);
  return {
    rate,
    sent: r.sent,
    started: startedInTime,
    failed: r.failed,
    censored,
    latency: lat.summary(),
    throughput: startedInTime / ((tStarted - t0) / 1000),
    cpuPct: usage.cpuPct,
    peakRssMb: usage.peakRssMb,
    commitsPerJob: (c1 - c0 - counter.queries) / Math.max(1, r.ok),
    ...(boxSeconds ? { box: boxCpu(boxSeconds, r.ok) } : {}),
    producerMaxLagMs: r.maxLagMs,
  };
}

async function burnDownRun(peer: Peer, pg: BenchPostgres, db: string, jobs: number, maxMs: number, iBase: number): Promise<BurnDownResult> {
  const url = pg.urlOf(db);
  const prod = await producer(peer, url);
  await prod.bulk(iBase, jobs);
  await prod.close();
  const counter = remainingCounter(peer, url);
  const before = await counter.remaining();
  await sleep(1500);
  const c0 = await xactCommits(pg.adminUrl, db);
  const worker = await startWorker(peer, url, () => {});
  const sampler = new ProcSampler(worker.pid);
  sampler.start();
  const box = boxGroups(peer, pg, worker.pid);
  box?.start();
  const t0 = performance.now();
  await worker.go();
  let left = before;
  const finished = await waitFor(
    async () => {
      left = await counter.remaining();
      return left === 0;
    },
    maxMs,
    100,
  );
  const seconds = (performance.now() - t0) / 1000;
  const usage = sampler.stop();
  const boxSeconds = box?.stop();
  await stopChild(worker.child);
  const done = before - (finished ? 0 : await counter.remaining());
  await counter.end();
  await sleep(1500);
  const c1 = await xactCommits(pg.adminUrl, db);
  return {
    jobs,
    done,
    seconds,
    jobsPerS: (before - left) / seconds,
    capped: !finished,
    cpuPct: usage.cpuPct,
    peakRssMb: usage.peakRssMb,
    commitsPerJob: (c1 - c0 - counter.queries) / Math.max(1, done),
    ...(boxSeconds ? { box: boxCpu(boxSeconds, done) } : {}),
  };
}

/**
 * The box's CPU for a run: the worker process and the Postgres server's processes (the producer
 * is the bench's own process, as Dispatch's HTTP creators are, and not counted). Undefined when
 * /proc does not show the Postgres server.
 */
function boxGroups(peer: Peer, pg: BenchPostgres, workerPid: number): CpuGroups | undefined {
  const serverPids = pg.serverPids;
  if (!serverPids) return undefined;
  return new CpuGroups({ [peer]: () => [workerPid], Postgres: () => serverPids() });
}

export async function runPeers(pg: BenchPostgres, opts: PeerOptions): Promise<PeerResult[]> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const out: PeerResult[] = [];
  // A fresh database per run, so a backlog left by a system that could not keep up does not
  // slow down its next run.
  const fresh = async <T>(peer: Peer, fn: (db: string) => Promise<T>): Promise<T> => {
    const db = `bench_${peer.replace(/-/g, '_')}`;
    await pg.createDatabase(db);
    try {
      return await fn(db);
    } finally {
      await pg.dropDatabase(db);
    }
  };
  for (const peer of opts.peers) {
    const res: PeerResult = { peer, rates: [] };
    for (const rate of opts.rates) {
      log(`[${peer}] open loop at ${rate} jobs/s for ${opts.windowMs / 1000} s`);
      res.rates.push(await fresh(peer, (db) => rateRun(peer, pg, db, rate, opts.windowMs, 0, opts.warmupMs)));
    }
    if (opts.burnDown > 0) {
      log(`[${peer}] burn-down of ${opts.burnDown} jobs (at most ${opts.burnDownMaxMs / 1000} s)`);
      res.burnDown = await fresh(peer, (db) => burnDownRun(peer, pg, db, opts.burnDown, opts.burnDownMaxMs, 0));
    }
    out.push(res);
  }
  return out;
}

export function peerOptionsFromArgs(args: Map<string, string>): PeerOptions {
  const peers = (args.get('peers') ?? PEERS.join(',')).split(',').filter((p): p is Peer => (PEERS as readonly string[]).includes(p));
  return {
    peers,
    rates: numList(args.get('rates'), [50, 200]),
    windowMs: num(args.get('window-s'), 10) * 1000,
    warmupMs: num(args.get('warmup-s'), 2) * 1000,
    burnDown: num(args.get('burndown'), 20_000),
    burnDownMaxMs: num(args.get('burndown-max-s'), 60) * 1000,
  };
}

export function peersTable(results: PeerResult[]): string {
  const rows: Array<Array<string | number>> = [];
  for (const r of results) {
    for (const x of r.rates) {
      const lb = x.censored > 0 ? '≥' : '';
      rows.push([
        r.peer,
        `open loop ${x.rate}/s`,
        `${x.started}/${x.sent}`,
        lb + fmt(x.latency.p50),
        lb + fmt(x.latency.p95),
        lb + fmt(x.latency.p99),
        lb + fmt(x.latency.max),
        fmt(x.throughput),
        fmt(x.cpuPct, 0),
        fmt(x.peakRssMb, 0),
        fmt(x.commitsPerJob, 2),
      ]);
    }
    const b = r.burnDown;
    if (b) {
      rows.push([
        r.peer,
        `burn-down ${b.jobs}${b.capped ? ` (capped at ${fmt(b.seconds, 0)} s)` : ''}`,
        `${b.done}/${b.jobs}`,
        '',
        '',
        '',
        '',
        fmt(b.jobsPerS),
        fmt(b.cpuPct, 0),
        fmt(b.peakRssMb, 0),
        fmt(b.commitsPerJob, 2),
      ]);
    }
  }
  const table = markdownTable(['system', 'run', 'started/sent', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'jobs/s', 'CPU %', 'peak RSS MB', 'commits/job'], rows);
  const boxes = results.flatMap((r) =>
    [...r.rates.map((x) => [`open loop ${x.rate}/s`, x.box] as const), ['burn-down', r.burnDown?.box] as const]
      .filter(([, x]) => x)
      .map(([run, x]) => `${r.peer} ${run} ${formatBoxCpu(x!)}`),
  );
  return boxes.length ? `${table}\n\nCPU per job, whole box: ${boxes.join('; ')}` : table;
}

runBenchScript(import.meta.url, peerOptionsFromArgs, runPeers, peersTable);
