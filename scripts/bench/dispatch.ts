// Dispatch's side of the benchmark: Dispatch started as its own process against the benchmark
// Postgres and a nats-server (standalone roster of simulated agents), simulated workers that learn
// of assignments from NATS (`swarm.task.*.assigned`) and complete them over HTTP.
//   - open loop at fixed rates: create→assigned (task.assigned_at − create sent),
//     create→worker-notified (event received − create sent), full lifecycle throughput,
//     tick duration (/metrics), CPU and peak RSS of the Dispatch process, commits per task
//   - burn-down of N pre-inserted pending tasks: full lifecycles per second
//   - scale: tick time and RSS with 1k/10k/100k pending and 500 agents that are all busy
//   - fairness scale (--fairness-scale 100000): the same tick with the backlog from
//     --fairness-requesters 100 requesters, `assignment.fairness: requester` against `fifo`
//   npx tsx scripts/bench/dispatch.ts [--rates 50,200,1000] [--window-s 10] [--agents 50]
//       [--max-concurrent 3] [--burndown 20000] [--burndown-max-s 60] [--scale 1000,10000,100000]
//       [--scale-agents 500] [--scale-window-s 10] [--tick-ms 1000] [--notify nats|poll] [--json out.json]
//       [--fairness-scale 100000] [--fairness-requesters 100]
//       [--workflow-rate 20] [--workflow-s 30] [--workflow-plain-s 10] [--workflow-only] [--skip-workflow] [--help]
//       [--retention-tasks N] [--retention-window-s 20] [--retention-max-s 1800] [--retention-busy F] [--retention-only]
//   - workflow (scripts/bench/workflow.ts): diamond runs a → {b, c} → d open loop, run created → d
//     assigned, per-release latency, the statements of a completion with dependents
//     (DISPATCH_BENCH_STATEMENTS=1) against a plain one. `--workflow-only` runs just that (~1.5 min).
//   - retention (scripts/bench/retention.ts, only with --retention-tasks N): bytes per lifecycle, a purge of
//     N seeded finished tasks under the 200/s open loop, batched deletes vs dropping a partition.
//   - after the burn-down: bytes per lifecycle (lib/storage.ts), as written and live.
import { Pool } from 'undici';
import { connect, migrate } from '../../src/store/db.js';
import { freePort } from '../../src/store/embedded.js';
import { startNatsServer, type NatsServer } from '../../test/helpers/nats-server.js';
import { num, numList } from './lib/args.js';
import { sleep, waitFor } from './lib/child.js';
import { startDispatch, type DispatchProc } from './lib/dispatch-proc.js';
import { tailLines, LatencyRecorder, wallMs, type LatencySummary } from './lib/latency.js';
import { openLoop, warmUp } from './lib/open-loop.js';
import { printStatements, resetStatements, xactCommits } from './lib/pg-stats.js';
import { runBenchScript, type BenchPostgres } from './lib/postgres.js';
import { boxCpu, brokerGroups, formatBoxCpu, memoryKb, ProcSampler, type BoxCpu, type CpuGroups } from './lib/proc.js';
import { counterDeltas, gcSummary, histogramDelta, scrape, type HistogramDelta } from './lib/prom.js';
import { insertBusy, insertPending } from './lib/seed.js';
import { duePending } from '../../src/store/assignments.js';
import { fairBand } from '../../src/store/fairness.js';
import { fmt, markdownTable } from './lib/table.js';
import { startChildWorkers, startWorkers } from './lib/workers.js';
import { runWorkflowBench, workflowTable, type WorkflowResult } from './workflow.js';
import { runScheduleBench, scheduleTable, type ScheduleResult } from './schedule.js';
import { retentionTable, runRetentionBench, type RetentionBenchResult } from './retention.js';
import { formatBytes, lifecycleBytes, type StorageBytes } from './lib/storage.js';
import { heartbeatTable, runHeartbeatBench, type HeartbeatResult } from './heartbeat.js';

const DB = 'bench_dispatch';
const TICK = 'dispatch_tick_duration_seconds';

export interface DispatchRateResult {
  rate: number;
  sent: number;
  created: number;
  assigned: number;
  completed: number;
  /** Tasks not assigned when the wait ended: their latency counts as (end − create), a lower bound. */
  censored: number;
  createHttp: LatencySummary;
  toAssigned: LatencySummary;
  toNotified: LatencySummary;
  toCompleted: LatencySummary;
  /** Full lifecycles (create → assign → complete) per second over the window and its drain. */
  throughput: number;
  tick: HistogramDelta;
  cpuPct: number;
  peakRssMb: number;
  commitsPerTask: number;
  /** CPU per lifecycle across the box's processes (lib/proc.ts CpuGroups), when /proc shows them. */
  box?: BoxCpu;
  producerMaxLagMs: number;
  errors: string[];
}

export interface DispatchBurnDown {
  jobs: number;
  done: number;
  seconds: number;
  jobsPerS: number;
  capped: boolean;
  cpuPct: number;
  peakRssMb: number;
  commitsPerTask: number;
  /** CPU per lifecycle across the box's processes (lib/proc.ts CpuGroups), when /proc shows them. */
  box?: BoxCpu;
  tick: HistogramDelta;
  /** Bytes per lifecycle of what the burn-down left (lib/storage.ts): as written, and live after VACUUM FULL. */
  bytes?: StorageBytes;
  liveBytes?: StorageBytes;
}

/** The closed loop (--closed N): N HTTP creators, each posting its next task when the last is answered. */
export interface DispatchClosedLoop {
  creators: number;
  seconds: number;
  created: number;
  /** Lifecycles completed inside the window, per second. */
  lifecyclesPerS: number;
  createP50: number;
  createP99: number;
  cpuPct: number;
  peakRssMb: number;
  commitsPerTask: number;
}

export interface ScaleResult {
  pending: number;
  /** The fairness scale step: the mode and how many requesters the backlog came from. */
  fairness?: 'fifo' | 'requester';
  requesters?: number;
  /** The fairness scale step: mean ms of the mode's first-page read, timed from the bench on the seeded backlog (20 reads). */
  readMs?: number;
  agents: number;
  tick: HistogramDelta;
  rssMb: number;
  peakRssMb: number;
  cpuPct: number;
}

export interface DispatchResults {
  rates: DispatchRateResult[];
  burnDown?: DispatchBurnDown;
  closed?: DispatchClosedLoop;
  scale: ScaleResult[];
  /** The fairness scale step (--fairness-scale): fifo and requester at each backlog. */
  fairness?: ScaleResult[];
  /** The workflow scenario (Dispatch only: no peer has workflows). */
  workflow?: WorkflowResult;
  /** The schedule scenario (scripts/bench/schedule.ts). */
  schedule?: ScheduleResult;
  /** The retention scenario (scripts/bench/retention.ts, `--retention-tasks N`). */
  retention?: RetentionBenchResult;
  /** The heartbeat scenario (scripts/bench/heartbeat.ts). */
  heartbeat?: HeartbeatResult;
}

/**
 * How long a fresh Dispatch settles before a window's commit count starts (DISPATCH_BENCH_SETTLE_MS,
 * default 1000, as in every run before run 10). Postgres backends report their counters at their
 * next transaction or after up to 10 s idle, so start-up commits can land in a window that starts
 * sooner; 11000 keeps them out.
 */
const SETTLE_MS = Number(process.env.DISPATCH_BENCH_SETTLE_MS ?? 1000);
/** DISPATCH_BENCH_TAIL=N: after each open-loop window, its N slowest notifications, timed part by part (tailLines). */
const TAIL = Number(process.env.DISPATCH_BENCH_TAIL ?? 0);

export interface DispatchBenchOptions {
  rates: number[];
  windowMs: number;
  /** The open loop before each rate's window, not measured (lib/open-loop.ts warmUp). */
  warmupMs: number;
  agents: number;
  maxConcurrent: number;
  burnDown: number;
  burnDownMaxMs: number;
  /** Closed-loop creators (0: skip) and its window. */
  closed: number;
  closedWindowMs: number;
  scale: number[];
  scaleAgents: number;
  scaleWindowMs: number;
  /** Backlogs of the fairness scale step (empty: skip) and the requesters they come from. */
  fairnessScale: number[];
  fairnessRequesters: number;
  tickMs: number;
  /** How workers learn of assignments: NATS events (default) or polling the API. */
  notify: 'nats' | 'poll';
  /** Workflow scenario: runs/s, window and plain-task comparison window (0: skip the scenario / the comparison). */
  workflowRate: number;
  workflowWindowMs: number;
  workflowPlainMs: number;
  /** Only the workflow scenario (no open-loop rates, burn-down or scale). */
  workflowOnly: boolean;
  /** Schedule scenario: schedules firing every second (0: skip), its window; `scheduleOnly` runs just that. */
  schedules: number;
  scheduleWindowMs: number;
  scheduleOnly: boolean;
  /** Retention scenario: finished tasks seeded and purged under the open loop (0: skip); `retentionOnly` runs just that. */
  retentionTasks: number;
  retentionWindowMs: number;
  retentionMaxMs: number;
  /** retention.busy_fraction of the purging Dispatch (its default when absent). */
  retentionBusy?: number;
  retentionOnly: boolean;
  /** Heartbeat scenario: running tasks beating every second (0: skip, the default), its window; `heartbeatOnly` runs just that. */
  heartbeatTasks: number;
  heartbeatWindowMs: number;
  heartbeatOnly: boolean;
  log?: (m: string) => void;
}

interface Env {
  url: string;
  nats: NatsServer;
  stop(): Promise<void>;
}

/** A fresh database (migrated) and nats-server for one run. */
async function freshEnv(pg: BenchPostgres): Promise<Env> {
  const url = await pg.createDatabase(DB);
  const sql = connect(url, { max: 1 });
  await migrate(sql);
  await sql.end();
  const nats = await startNatsServer();
  return {
    url,
    nats,
    stop: async () => {
      await nats.stop();
      await pg.dropDatabase(DB);
    },
  };
}

/** The box's CPU for a run (lib/proc.ts brokerGroups): Dispatch, its Postgres server, nats-server, the workers. */
function boxGroups(pg: BenchPostgres, dispatchPid: number, env: Env, workers: { pid?: number }): CpuGroups | undefined {
  return brokerGroups('Dispatch', dispatchPid, pg.serverPids, () => env.nats.pid, workers.pid);
}

async function stopAndCount(pg: BenchPostgres, d: DispatchProc): Promise<number> {
  await d.stop();
  await sleep(1500); // backends flush their statistics on exit
  return xactCommits(pg.adminUrl, DB);
}

async function rateRun(pg: BenchPostgres, o: DispatchBenchOptions, rate: number): Promise<DispatchRateResult> {
  const env = await freshEnv(pg);
  try {
    const d = await startDispatch({ databaseUrl: env.url, natsUrl: env.nats.url, agents: o.agents, maxConcurrent: o.maxConcurrent, tickMs: o.tickMs });
    const n = Math.max(1, Math.round((rate * o.windowMs) / 1000));
    const sentAt = new Float64Array(n);
    // For DISPATCH_BENCH_TAIL: when the create was answered, when the service decided (assigned_at), when the worker heard.
    const answeredAt = new Float64Array(n);
    const decidedAt = new Float64Array(n);
    const heardAt = new Float64Array(n);
    const createHttp = new LatencyRecorder();
    const toAssigned = new LatencyRecorder();
    const toNotified = new LatencyRecorder();
    const toCompleted = new LatencyRecorder();
    const assignedSeen = new Uint8Array(n);
    let assigned = 0;
    let created = 0;
    let measuring = true;
    // The workers run in a process of their own, as the peers' do (lib/workers.ts startChildWorkers).
    const workers = await startChildWorkers({
      mode: o.notify,
      natsUrl: env.nats.url,
      apiUrl: d.apiUrl,
      onAssigned: (i, receivedAt, assignedAt) => {
        if (i < 0 || i >= n || assignedSeen[i] || !measuring) return;
        assignedSeen[i] = 1;
        assigned++;
        toNotified.add(receivedAt - sentAt[i]!);
        if (assignedAt >= 0) toAssigned.add(assignedAt - sentAt[i]!);
        heardAt[i] = receivedAt;
        decidedAt[i] = assignedAt;
      },
      onCompleted: (i, at) => {
        if (i >= 0 && i < n && measuring) toCompleted.add(at - sentAt[i]!);
      },
    });
    const http = new Pool(d.apiUrl, { connections: 64, pipelining: 1 });
    /** POST /api/v1/tasks for bench task `k` (context.bench_i = k); resolves with the status. */
    const create = async (k: number): Promise<number> => {
      const res = await http.request({
        method: 'POST',
        path: '/api/v1/tasks',
        headers: { 'x-agent-id': `bench-producer-${Math.abs(k) % 16}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `bench ${k}`, capabilities: ['bench'], context: { bench_i: k } }),
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      await res.body.dump();
      return res.statusCode;
    };
    // The same warm-up as the peers' (lib/open-loop.ts warmUp): bench_i < 0, never recorded.
    await warmUp(rate, o.warmupMs, create);
    // Every warm-up task done before the window: the window's completions are its own.
    await waitFor(() => workers.completed >= Math.round((rate * o.warmupMs) / 1000), 10_000);
    const warmedUp = workers.completed;
    await sleep(SETTLE_MS);
    const c0 = await xactCommits(pg.adminUrl, DB);
    await resetStatements(pg.adminUrl);
    const m0 = await scrape(`${d.opsUrl}/metrics`);
    const sampler = new ProcSampler(d.pid);
    sampler.start();
    const box = boxGroups(pg, d.pid, env, workers);
    box?.start();
    const t0 = performance.now();
    const r = await openLoop({
      rate,
      durationMs: o.windowMs,
      send: async (k) => {
        sentAt[k] = wallMs();
        const status = await create(k);
        if (status !== 201) throw new Error(`create → ${status}`);
        answeredAt[k] = wallMs();
        createHttp.add(answeredAt[k]! - sentAt[k]!);
        created++;
      },
    });
    await waitFor(() => workers.completed - warmedUp >= created && assigned >= created, Math.max(10_000, o.windowMs));
    const tDone = performance.now();
    measuring = false;
    const usage = sampler.stop();
    const boxSeconds = box?.stop();
    if (TAIL > 0) for (const line of tailLines(TAIL, sentAt, decidedAt, answeredAt, heardAt)) (o.log ?? console.error)(line);
    const m1 = await scrape(`${d.opsUrl}/metrics`);
    (o.log ?? console.error)(`[dispatch] ${rate}/s sync match: ${counterDeltas(m0, m1, 'dispatch_sync_matches_total', 'outcome')}; ${gcSummary(m0, m1)}`);
    let censored = 0;
    const tCut = wallMs();
    for (let k = 0; k < r.sent; k++) {
      if (!assignedSeen[k]) {
        censored++;
        toAssigned.add(tCut - sentAt[k]!);
        toNotified.add(tCut - sentAt[k]!);
      }
    }
    const completed = workers.completed - warmedUp;
    await workers.close();
    await http.close();
    const c1 = await stopAndCount(pg, d);
    await printStatements(pg.adminUrl, DB, completed, o.log ?? console.error);
    return {
      rate,
      sent: r.sent,
      created,
      assigned,
      completed,
      censored,
      createHttp: createHttp.summary(),
      toAssigned: toAssigned.summary(),
      toNotified: toNotified.summary(),
      toCompleted: toCompleted.summary(),
      throughput: completed / ((tDone - t0) / 1000),
      tick: histogramDelta(m0, m1, TICK),
      cpuPct: usage.cpuPct,
      peakRssMb: usage.peakRssMb,
      commitsPerTask: (c1 - c0) / Math.max(1, completed),
      ...(boxSeconds ? { box: boxCpu(boxSeconds, completed) } : {}),
      producerMaxLagMs: r.maxLagMs,
      errors: [...r.errors, ...[...workers.refusals].map(([s, c]) => `complete → ${s} ×${c}`)],
    };
  } finally {
    await env.stop();
  }
}

async function burnDownRun(pg: BenchPostgres, o: DispatchBenchOptions): Promise<DispatchBurnDown> {
  const env = await freshEnv(pg);
  try {
    const sql = connect(env.url, { max: 2 });
    await insertPending(sql, o.burnDown);
    await sql.end();
    await sleep(1500);
    await resetStatements(pg.adminUrl);
    const c0 = await xactCommits(pg.adminUrl, DB);
    // The clock starts at the first assignment the workers hear of, so Dispatch's own start-up
    // (tsx, migrations check) is not counted, as the peers' is not.
    let first = 0;
    let lastCompletedAt = 0;
    // Workers subscribe before Dispatch starts, so they hear of the very first assignments.
    const port = await freePort();
    // In a process of their own, as the peers' workers are (lib/workers.ts startChildWorkers); times are wall clock.
    const workers = await startChildWorkers({
      mode: o.notify,
      natsUrl: env.nats.url,
      apiUrl: `http://127.0.0.1:${port}`,
      onAssigned: (_i, receivedAt) => {
        if (!first) first = receivedAt;
      },
      onCompleted: (_i, at) => {
        lastCompletedAt = Math.max(lastCompletedAt, at);
      },
    });
    const tStart = wallMs();
    const d = await startDispatch({ databaseUrl: env.url, natsUrl: env.nats.url, agents: o.agents, maxConcurrent: o.maxConcurrent, tickMs: o.tickMs, port });
    const sampler = new ProcSampler(d.pid);
    sampler.start();
    const box = boxGroups(pg, d.pid, env, workers);
    box?.start();
    const m0 = await scrape(`${d.opsUrl}/metrics`);
    const finished = await waitFor(() => workers.completed >= o.burnDown, o.burnDownMaxMs, 50);
    const t1 = finished && lastCompletedAt ? lastCompletedAt : wallMs();
    const t0 = first || tStart;
    const usage = sampler.stop();
    const boxSeconds = box?.stop();
    const m1 = await scrape(`${d.opsUrl}/metrics`);
    const done = workers.completed;
    await workers.close();
    const c1 = await stopAndCount(pg, d);
    await printStatements(pg.adminUrl, DB, done, o.log ?? console.error, 'time');
    // What the lifecycles left on disk (the seeded tasks have no `created` event: they were inserted, not created).
    const bsql = connect(env.url, { max: 1 });
    const bytes = await lifecycleBytes(bsql, done);
    const liveBytes = await lifecycleBytes(bsql, done, { live: true });
    await bsql.end();
    (o.log ?? console.error)(`[dispatch] burn-down: ${formatBytes(bytes)}; ${formatBytes(liveBytes)}`);
    return {
      bytes,
      liveBytes,
      jobs: o.burnDown,
      done,
      seconds: (t1 - t0) / 1000,
      jobsPerS: done / ((t1 - t0) / 1000),
      capped: !finished,
      cpuPct: usage.cpuPct,
      peakRssMb: usage.peakRssMb,
      commitsPerTask: (c1 - c0) / Math.max(1, done),
      ...(boxSeconds ? { box: boxCpu(boxSeconds, done) } : {}),
      tick: histogramDelta(m0, m1, TICK),
    };
  } finally {
    await env.stop();
  }
}

async function closedRun(pg: BenchPostgres, o: DispatchBenchOptions): Promise<DispatchClosedLoop> {
  const env = await freshEnv(pg);
  try {
    const d = await startDispatch({ databaseUrl: env.url, natsUrl: env.nats.url, agents: o.agents, maxConcurrent: o.maxConcurrent, tickMs: o.tickMs });
    const workers = await startWorkers({ mode: o.notify, natsUrl: env.nats.url, apiUrl: d.apiUrl, onAssigned: () => {} });
    const http = new Pool(d.apiUrl, { connections: o.closed, pipelining: 1 });
    const createMs = new LatencyRecorder();
    await sleep(SETTLE_MS);
    const c0 = await xactCommits(pg.adminUrl, DB);
    const sampler = new ProcSampler(d.pid);
    sampler.start();
    const done0 = workers.completed;
    const t0 = performance.now();
    const tEnd = t0 + o.closedWindowMs;
    let created = 0;
    await Promise.all(
      Array.from({ length: o.closed }, async (_, c) => {
        while (performance.now() < tEnd) {
          const s0 = performance.now();
          const res = await http.request({
            method: 'POST',
            path: '/api/v1/tasks',
            headers: { 'x-agent-id': `bench-creator-${c}`, 'content-type': 'application/json' },
            body: JSON.stringify({ title: `closed ${c}`, capabilities: ['bench'], context: { bench_i: -1 } }),
          });
          await res.body.dump();
          if (res.statusCode !== 201) throw new Error(`create → ${res.statusCode}`);
          createMs.add(performance.now() - s0);
          created++;
        }
      }),
    );
    const t1 = performance.now();
    const doneInWindow = workers.completed - done0;
    const usage = sampler.stop();
    await waitFor(() => workers.completed - done0 >= created, 30_000, 50);
    await http.close();
    await workers.close();
    const c1 = await stopAndCount(pg, d);
    const q = createMs.summary();
    return {
      creators: o.closed,
      seconds: (t1 - t0) / 1000,
      created,
      lifecyclesPerS: doneInWindow / ((t1 - t0) / 1000),
      createP50: q.p50,
      createP99: q.p99,
      cpuPct: usage.cpuPct,
      peakRssMb: usage.peakRssMb,
      commitsPerTask: (c1 - c0) / Math.max(1, workers.completed - done0),
    };
  } finally {
    await env.stop();
  }
}

async function scaleRun(
  pg: BenchPostgres,
  o: DispatchBenchOptions,
  pending: number,
  fair?: { fairness: 'fifo' | 'requester'; requesters: number },
): Promise<ScaleResult> {
  const env = await freshEnv(pg);
  try {
    const sql = connect(env.url, { max: 2 });
    // Every agent at its limit, so the backlog stays pending and every tick has to look at it.
    await insertBusy(sql, o.scaleAgents, o.maxConcurrent);
    await insertPending(sql, pending, 0, 'bench', fair?.requesters ?? 0);
    // A backlog that grew through the API has planner statistics (autovacuum analyzes as it grows);
    // one bulk-loaded a second ago has none, and the planner would take 100k rows for a tiny table.
    await sql`analyze tasks`;
    const readMs = fair ? await timeFirstPage(sql, fair.fairness) : undefined;
    await sql.end();
    const d = await startDispatch({
      databaseUrl: env.url,
      natsUrl: env.nats.url,
      agents: o.scaleAgents,
      maxConcurrent: o.maxConcurrent,
      tickMs: o.tickMs,
      ...(fair ? { extra: { assignment: { fairness: fair.fairness } } } : {}),
    });
    try {
      const sampler = new ProcSampler(d.pid);
      sampler.start();
      await sleep(Math.min(5000, o.scaleWindowMs / 2)); // the first passes announce `unmatched` once per task
      const m0 = await scrape(`${d.opsUrl}/metrics`);
      await sleep(o.scaleWindowMs);
      const m1 = await scrape(`${d.opsUrl}/metrics`);
      const usage = sampler.stop();
      return {
        pending,
        ...(fair ? { fairness: fair.fairness, requesters: fair.requesters, readMs } : {}),
        agents: o.scaleAgents,
        tick: histogramDelta(m0, m1, TICK),
        rssMb: memoryKb(d.pid).rss / 1024,
        peakRssMb: usage.peakRssMb,
        cpuPct: usage.cpuPct,
      };
    } finally {
      await d.stop();
    }
  } finally {
    await env.stop();
  }
}

/** Mean ms of 20 first-page reads (batch_size 200) in one fairness mode: the statement each tick starts with. */
async function timeFirstPage(sql: ReturnType<typeof connect>, fairness: 'fifo' | 'requester'): Promise<number> {
  const now = new Date();
  const read = () => (fairness === 'requester' ? fairBand(sql, now, 200, undefined) : duePending(sql, now, 200));
  await read(); // warm: plan cache, buffers
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) await read();
  return (performance.now() - t0) / 20;
}

export async function runDispatchBench(pg: BenchPostgres, o: DispatchBenchOptions): Promise<DispatchResults> {
  const log = o.log ?? ((m: string) => console.error(m));
  const out: DispatchResults = { rates: [], scale: [] };
  if (o.retentionOnly) {
    out.retention = await runRetention(pg, o);
    return out;
  }
  const heartbeat = () => runHeartbeatBench(pg, { tasks: o.heartbeatTasks, windowMs: o.heartbeatWindowMs, ...(o.log ? { log: o.log } : {}) });
  if (o.heartbeatOnly) {
    out.heartbeat = await heartbeat();
    return out;
  }
  if (o.scheduleOnly) {
    out.schedule = await runScheduleBench(pg, { schedules: o.schedules, windowMs: o.scheduleWindowMs, ...(o.log ? { log: o.log } : {}) });
    return out;
  }
  if (o.workflowOnly) {
    out.workflow = await runWorkflow(pg, o);
    return out;
  }
  for (const rate of o.rates) {
    log(`[dispatch] open loop at ${rate} tasks/s for ${o.windowMs / 1000} s (${o.agents} agents × ${o.maxConcurrent})`);
    out.rates.push(await rateRun(pg, o, rate));
  }
  if (o.burnDown > 0) {
    log(`[dispatch] burn-down of ${o.burnDown} tasks (at most ${o.burnDownMaxMs / 1000} s)`);
    out.burnDown = await burnDownRun(pg, o);
  }
  if (o.closed > 0) {
    log(`[dispatch] closed loop: ${o.closed} HTTP creators for ${o.closedWindowMs / 1000} s`);
    out.closed = await closedRun(pg, o);
  }
  for (const pending of o.scale) {
    log(`[dispatch] scale: ${pending} pending, ${o.scaleAgents} busy agents, ${o.scaleWindowMs / 1000} s`);
    out.scale.push(await scaleRun(pg, o, pending));
  }
  for (const pending of o.fairnessScale) {
    out.fairness ??= [];
    for (const fairness of ['fifo', 'requester'] as const) {
      log(`[dispatch] fairness scale: ${pending} pending from ${o.fairnessRequesters} requesters, fairness ${fairness}, ${o.scaleAgents} busy agents`);
      out.fairness.push(await scaleRun(pg, o, pending, { fairness, requesters: o.fairnessRequesters }));
    }
  }
  if (o.workflowRate > 0 && o.workflowWindowMs > 0) out.workflow = await runWorkflow(pg, o);
  if (o.schedules > 0) out.schedule = await runScheduleBench(pg, { schedules: o.schedules, windowMs: o.scheduleWindowMs, ...(o.log ? { log: o.log } : {}) });
  if (o.retentionTasks > 0) out.retention = await runRetention(pg, o);
  if (o.heartbeatTasks > 0) out.heartbeat = await heartbeat();
  return out;
}

function runRetention(pg: BenchPostgres, o: DispatchBenchOptions): Promise<RetentionBenchResult> {
  return runRetentionBench(pg, {
    tasks: o.retentionTasks,
    windowMs: o.retentionWindowMs,
    maxPurgeMs: o.retentionMaxMs,
    ...(o.retentionBusy !== undefined ? { busyFraction: o.retentionBusy } : {}),
    agents: o.agents,
    maxConcurrent: o.maxConcurrent,
    tickMs: o.tickMs,
    ...(o.log ? { log: o.log } : {}),
  });
}

function runWorkflow(pg: BenchPostgres, o: DispatchBenchOptions): Promise<WorkflowResult> {
  return runWorkflowBench(pg, {
    runRate: o.workflowRate,
    windowMs: o.workflowWindowMs,
    plainWindowMs: o.workflowPlainMs,
    agents: o.agents,
    maxConcurrent: o.maxConcurrent,
    tickMs: o.tickMs,
    ...(o.log ? { log: o.log } : {}),
  });
}

export function dispatchOptionsFromArgs(args: Map<string, string>): DispatchBenchOptions {
  return {
    rates: numList(args.get('rates'), [50, 200, 1000]),
    windowMs: num(args.get('window-s'), 10) * 1000,
    warmupMs: num(args.get('warmup-s'), 2) * 1000,
    agents: num(args.get('agents'), 50),
    maxConcurrent: num(args.get('max-concurrent'), 3),
    burnDown: num(args.get('burndown'), 20_000),
    closed: num(args.get('closed'), 64),
    closedWindowMs: num(args.get('closed-s'), 10) * 1000,
    burnDownMaxMs: num(args.get('burndown-max-s'), 60) * 1000,
    scale: args.get('scale') === '0' ? [] : numList(args.get('scale'), [1000, 10_000, 100_000]),
    scaleAgents: num(args.get('scale-agents'), 500),
    scaleWindowMs: num(args.get('scale-window-s'), 10) * 1000,
    fairnessScale: args.has('fairness-scale') ? numList(args.get('fairness-scale'), [100_000]) : [],
    fairnessRequesters: num(args.get('fairness-requesters'), 100),
    tickMs: num(args.get('tick-ms'), 1000),
    notify: args.get('notify') === 'poll' ? 'poll' : 'nats',
    workflowRate: args.has('skip-workflow') ? 0 : num(args.get('workflow-rate'), 20),
    workflowWindowMs: num(args.get('workflow-s'), 30) * 1000,
    workflowPlainMs: num(args.get('workflow-plain-s'), 10) * 1000,
    workflowOnly: args.has('workflow-only'),
    schedules: args.has('skip-schedule') ? 0 : num(args.get('schedules'), 1000),
    scheduleWindowMs: num(args.get('schedule-s'), 30) * 1000,
    scheduleOnly: args.has('schedule-only'),
    retentionTasks: num(args.get('retention-tasks'), 0),
    retentionWindowMs: num(args.get('retention-window-s'), 20) * 1000,
    retentionMaxMs: num(args.get('retention-max-s'), 1800) * 1000,
    ...(args.get('retention-busy') ? { retentionBusy: Number(args.get('retention-busy')) } : {}),
    retentionOnly: args.has('retention-only'),
    heartbeatTasks: num(args.get('heartbeat-tasks'), args.has('heartbeat-only') ? 1000 : 0),
    heartbeatWindowMs: num(args.get('heartbeat-s'), 20) * 1000,
    heartbeatOnly: args.has('heartbeat-only'),
  };
}

export const DISPATCH_USAGE = `npm run bench:dispatch -- [options]   (Dispatch's side only; npm run bench: both sides)
  --rates 50,200,1000      open-loop task rates (tasks/s)        --window-s 10      window per rate
  --warmup-s 2             the same open loop before each window, not measured (peers too)
  --agents 50              roster agents                          --max-concurrent 3 per agent
  --burndown 20000         burn-down tasks (0: skip)              --burndown-max-s 60
  --closed 64              closed-loop HTTP creators (0: skip)    --closed-s 10      its window
  --scale 1000,10000,100000  pending backlogs (0: skip)           --scale-agents 500 --scale-window-s 10
  --tick-ms 1000           scheduler tick                         --notify nats|poll
  --fairness-scale 100000  backlogs of the fairness step (fifo vs requester; default: skip)  --fairness-requesters 100
  --workflow-rate 20       diamond runs/s (workflow scenario)     --workflow-s 30    its window
  --workflow-plain-s 10    plain-task comparison window (0: skip) --skip-workflow    no workflow scenario
  --workflow-only          only the workflow scenario (~1.5 min)  --json FILE        raw results
  --schedules 1000         schedules every second (schedule scenario, 0 or --skip-schedule: skip)
  --schedule-s 30          its window                             --schedule-only    only that (~1 min)
  --retention-tasks N      retention scenario: N finished tasks seeded, purged under the 200/s open loop (0: skip)
  --retention-window-s 20  its windows (bytes, baseline)          --retention-max-s 1800 purge cap
  --retention-busy F       the purge's retention.busy_fraction (default: Dispatch's, 0.25)
  --retention-only         only that (with --retention-tasks)
  --heartbeat-tasks 1000   running tasks beating every second (heartbeat scenario; default 0: skip)
  --heartbeat-s 20         its windows (idle, then beating)       --heartbeat-only   only that (~1.5 min)
Environment: DISPATCH_BENCH_STATEMENTS=1 (pg_stat_statements: statement costs), DISPATCH_BENCH_LOG=1,
  DISPATCH_BENCH_PG_DURABLE=1, DISPATCH_BENCH_DATABASE_URL, DISPATCH_BENCH_NODE_ARGS.`;

export function dispatchTable(r: DispatchResults): string {
  const rows: Array<Array<string | number>> = [];
  for (const x of r.rates) {
    const lb = x.censored > 0 ? '≥' : '';
    rows.push([
      `open loop ${x.rate}/s`,
      `${x.completed}/${x.sent}`,
      `${lb}${fmt(x.toAssigned.p50)} / ${lb}${fmt(x.toAssigned.p99)} / ${lb}${fmt(x.toAssigned.max)}`,
      `${lb}${fmt(x.toNotified.p50)} / ${lb}${fmt(x.toNotified.p99)} / ${lb}${fmt(x.toNotified.max)}`,
      fmt(x.throughput),
      `${fmt(x.tick.meanMs)} (${x.tick.count})`,
      fmt(x.cpuPct, 0),
      fmt(x.peakRssMb, 0),
      fmt(x.commitsPerTask, 2),
    ]);
  }
  const b = r.burnDown;
  if (b)
    rows.push([
      `burn-down ${b.jobs}${b.capped ? ' (capped)' : ''}`,
      `${b.done}/${b.jobs}`,
      '',
      '',
      fmt(b.jobsPerS),
      `${fmt(b.tick.meanMs)} (${b.tick.count})`,
      fmt(b.cpuPct, 0),
      fmt(b.peakRssMb, 0),
      fmt(b.commitsPerTask, 2),
    ]);
  const cl = r.closed;
  if (cl)
    rows.push([
      `closed loop ${cl.creators} creators`,
      `${cl.created} created`,
      `create answered ${fmt(cl.createP50)} / ${fmt(cl.createP99)}`,
      '',
      fmt(cl.lifecyclesPerS),
      '',
      fmt(cl.cpuPct, 0),
      fmt(cl.peakRssMb, 0),
      fmt(cl.commitsPerTask, 2),
    ]);
  const main = markdownTable(
    [
      'run',
      'completed/sent',
      'create→assigned p50/p99/max ms',
      'create→notified p50/p99/max ms',
      'lifecycles/s',
      'tick mean ms (n)',
      'CPU %',
      'peak RSS MB',
      'commits/task',
    ],
    rows,
  );
  const bytes = b?.bytes && b.liveBytes ? `\n\nburn-down bytes per lifecycle: ${formatBytes(b.bytes)}; ${formatBytes(b.liveBytes)}` : '';
  const boxes = [...r.rates.map((x) => [`open loop ${x.rate}/s`, x.box] as const), ['burn-down', b?.box] as const].filter(([, x]) => x);
  const box = boxes.length ? `\n\nCPU per lifecycle, whole box: ${boxes.map(([run, x]) => `${run} ${formatBoxCpu(x!)}`).join('; ')}` : '';
  if (!r.scale.length) return main + bytes + box;
  const scale = markdownTable(
    ['pending', 'agents (all busy)', 'ticks', 'tick mean ms', 'tick p50 ≤ ms', 'tick p99 ≤ ms', 'RSS MB', 'peak RSS MB', 'CPU %'],
    r.scale.map((s) => [
      s.pending,
      s.agents,
      s.tick.count,
      fmt(s.tick.meanMs),
      fmt(s.tick.p50Ms),
      fmt(s.tick.p99Ms),
      fmt(s.rssMb, 0),
      fmt(s.peakRssMb, 0),
      fmt(s.cpuPct, 0),
    ]),
  );
  return `${main}${bytes}${box}\n\n${scale}`;
}

function fairnessTable(rows: ScaleResult[]): string {
  return markdownTable(
    [
      'fairness',
      'pending',
      'requesters',
      'agents (all busy)',
      'first-page read ms',
      'ticks',
      'tick mean ms',
      'tick p50 ≤ ms',
      'tick p99 ≤ ms',
      'peak RSS MB',
      'CPU %',
    ],
    rows.map((s) => [
      s.fairness ?? 'fifo',
      s.pending,
      s.requesters ?? 1,
      s.agents,
      s.readMs === undefined ? '' : fmt(s.readMs),
      s.tick.count,
      fmt(s.tick.meanMs),
      fmt(s.tick.p50Ms),
      fmt(s.tick.p99Ms),
      fmt(s.peakRssMb, 0),
      fmt(s.cpuPct, 0),
    ]),
  );
}

/** The tables of the runs that happened (the workflow scenario's after the others). */
export function dispatchTables(r: DispatchResults): string {
  const parts: string[] = [];
  if (r.rates.length || r.burnDown || r.scale.length) parts.push(dispatchTable(r));
  if (r.fairness?.length) parts.push(fairnessTable(r.fairness));
  if (r.workflow) parts.push(workflowTable(r.workflow));
  if (r.schedule) parts.push(scheduleTable(r.schedule));
  if (r.retention) parts.push(retentionTable(r.retention));
  if (r.heartbeat) parts.push(heartbeatTable(r.heartbeat));
  return parts.join('\n\n');
}

runBenchScript(import.meta.url, dispatchOptionsFromArgs, runDispatchBench, dispatchTables, DISPATCH_USAGE);
