// The floor (issue #23): what one lifecycle costs on Dispatch's own parts — fastify, postgres.js,
// NATS with JetStream, the HTTP hop to a worker process — with none of Dispatch's logic
// (floor-broker.ts), beside graphile-worker 0.17.3 and Dispatch in the same run, at one open-loop
// rate. It answers how much of Dispatch's CPU and latency the parts alone take, so a target can be
// read against what is reachable at all: the pgbench floor, one layer up.
// And a burn-down (`--burndown N`, default 20,000; 0: none): N tasks waiting, 50 agents × 3 slots,
// each completion refilling its slot in the same statement (floor-broker.ts).
//   npm run bench:floor -- [--rate 200] [--window-s 10] [--warmup-s 2] [--burndown 20000] [--skip-dispatch] [--skip-peer] [--json out.json]
import { fileURLToPath } from 'node:url';
import { Pool, request } from 'undici';
import { num } from './lib/args.js';
import { forkTs, nextMessage, sleep, stopChild, waitFor } from './lib/child.js';
import { LatencyRecorder, wallMs, type LatencySummary } from './lib/latency.js';
import { openLoop, warmUp } from './lib/open-loop.js';
import { runBenchScript, type BenchPostgres } from './lib/postgres.js';
import { boxCpu, brokerGroups, formatBoxCpu, ProcSampler, type BoxCpu, type CpuGroups } from './lib/proc.js';
import { fmt, markdownTable, ratio } from './lib/table.js';
import { runPeers } from './peers.js';
import { dispatchOptionsFromArgs, runDispatchBench } from './dispatch.js';
import { ROOT } from './lib/dispatch-proc.js';
import { serviceNodeFlags } from '../../packages/client/src/cli.js';
import { startNatsServer } from '../../test/helpers/nats-server.js';

const DB = 'bench_floor';
/** Dispatch's bench roster: 50 agents × 3 slots. */
const AGENTS = 50;
const SLOTS = 3;
const SCRIPT = fileURLToPath(new URL('./floor-broker.ts', import.meta.url));

export interface FloorOptions {
  rate: number;
  windowMs: number;
  warmupMs: number;
  burnDown: number;
  dispatch: boolean;
  peer: boolean;
  log?: (m: string) => void;
}

/** One system's figures at the rate: CPU of its service process, create → worker notified, the whole box. */
export interface FloorRow {
  system: string;
  done: number;
  sent: number;
  notified: LatencySummary;
  cpuPct: number;
  box?: BoxCpu;
}

/** A burn-down's figures: lifecycles per second from the first assignment heard to the last completion. */
export interface FloorBurnDown {
  system: string;
  jobs: number;
  done: number;
  jobsPerS: number;
  box?: BoxCpu;
}

export interface FloorResults {
  rate: number;
  rows: FloorRow[];
  burnDowns: FloorBurnDown[];
}

/** The floor's broker and worker processes on a fresh database and nats-server; `run` gets them, all is stopped after. */
async function withFloor<T>(
  pg: BenchPostgres,
  run: (f: { brokerPid: number; workerPid: number; url: string; natsPid: () => number | undefined; onSeen: (fn: (m: Seen) => void) => void }) => Promise<T>,
): Promise<T> {
  const url = await pg.createDatabase(DB);
  const nats = await startNatsServer();
  // The service's own node flags (its heap sizes: `dispatch start`, npm start), then
  // DISPATCH_BENCH_NODE_ARGS (e.g. "--cpu-prof"), as for Dispatch's process.
  const nodeArgs = [...serviceNodeFlags(ROOT), ...(process.env.DISPATCH_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const broker = forkTs(SCRIPT, ['broker', url, nats.url], {}, nodeArgs);
  let worker: ReturnType<typeof forkTs> | undefined;
  try {
    const b = await nextMessage<{ pid: number; url: string }>(broker, (m) => m.type === 'ready', 60_000);
    const listeners: ((m: Seen) => void)[] = [];
    worker = forkTs(SCRIPT, ['worker', nats.url, b.url]);
    worker.on('message', (m: Seen) => {
      if (m.type === 'seen') for (const fn of listeners) fn(m);
    });
    const w = await nextMessage<{ pid: number }>(worker, (m) => m.type === 'ready', 60_000);
    return await run({ brokerPid: b.pid, workerPid: w.pid, url: b.url, natsPid: () => nats.pid, onSeen: (fn) => listeners.push(fn) });
  } finally {
    if (worker) await stopChild(worker);
    await stopChild(broker);
    await nats.stop();
    await pg.dropDatabase(DB);
  }
}

interface Seen {
  type: string;
  /** [i, receivedAt, …] */
  a: number[];
  /** [i, completedAt, …] */
  c: number[];
  /** Completed so far. */
  n: number;
}

function floorGroups(pg: BenchPostgres, f: { brokerPid: number; workerPid: number; natsPid: () => number | undefined }): CpuGroups | undefined {
  return brokerGroups('floor', f.brokerPid, pg.serverPids, f.natsPid, f.workerPid);
}

async function post(url: string, path: string, body: unknown): Promise<void> {
  const res = await request(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    bodyTimeout: 120_000,
    headersTimeout: 120_000,
  });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`POST ${path} → ${res.statusCode}`);
}

async function floorBurnDown(pg: BenchPostgres, jobs: number): Promise<FloorBurnDown> {
  return withFloor(pg, async (f) => {
    let first = 0;
    let last = 0;
    let completed = 0;
    f.onSeen((m) => {
      if (!first && m.a.length) first = m.a[1]!;
      for (let k = 1; k < m.c.length; k += 2) last = Math.max(last, m.c[k]!);
      completed = m.n;
    });
    await post(f.url, '/seed', { n: jobs });
    await sleep(1500);
    const box = floorGroups(pg, f);
    box?.start();
    await post(f.url, '/go', { agents: AGENTS, slots: SLOTS });
    const finished = await waitFor(() => completed >= jobs, 60_000, 50);
    const seconds = box?.stop();
    const t1 = finished ? last : wallMs();
    return {
      system: 'floor (the parts alone)',
      jobs,
      done: completed,
      jobsPerS: completed / ((t1 - first) / 1000),
      ...(seconds ? { box: boxCpu(seconds, completed) } : {}),
    };
  });
}

async function floorRun(pg: BenchPostgres, o: FloorOptions): Promise<FloorRow> {
  return withFloor(pg, async (f) => {
    const n = Math.max(1, Math.round((o.rate * o.windowMs) / 1000));
    const sentAt = new Float64Array(n);
    const seen = new Uint8Array(n);
    const notified = new LatencyRecorder();
    let heard = 0;
    let completed = 0;
    let measuring = false;
    f.onSeen((m) => {
      completed = m.n;
      for (let k = 0; k + 1 < m.a.length; k += 2) {
        const i = m.a[k]!;
        if (!measuring || i < 0 || i >= n || seen[i]) continue;
        seen[i] = 1;
        heard++;
        notified.add(m.a[k + 1]! - sentAt[i]!);
      }
    });
    const http = new Pool(f.url, { connections: 64, pipelining: 1 });
    const create = async (i: number) => {
      const res = await http.request({
        method: 'POST',
        path: '/tasks',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: { i, title: `floor ${i}` } }),
      });
      await res.body.dump();
      if (res.statusCode !== 201) throw new Error(`create → ${res.statusCode}`);
    };
    await warmUp(o.rate, o.warmupMs, create);
    await waitFor(() => completed >= Math.round((o.rate * o.warmupMs) / 1000), 10_000);
    const warmed = completed;
    await sleep(1000);
    const sampler = new ProcSampler(f.brokerPid);
    const box = floorGroups(pg, f);
    measuring = true;
    sampler.start();
    box?.start();
    const r = await openLoop({
      rate: o.rate,
      durationMs: o.windowMs,
      send: (i) => {
        sentAt[i] = wallMs();
        return create(i);
      },
    });
    await waitFor(() => completed - warmed >= r.ok && heard >= r.ok, Math.max(10_000, o.windowMs));
    const usage = sampler.stop();
    const seconds = box?.stop();
    measuring = false;
    await http.close();
    const done = completed - warmed;
    return {
      system: 'floor (the parts alone)',
      done,
      sent: r.sent,
      notified: notified.summary(),
      cpuPct: usage.cpuPct,
      ...(seconds ? { box: boxCpu(seconds, done) } : {}),
    };
  });
}

export async function runFloorBench(pg: BenchPostgres, o: FloorOptions): Promise<FloorResults> {
  const log = o.log ?? ((m: string) => console.error(m));
  const rows: FloorRow[] = [];
  const burnDowns: FloorBurnDown[] = [];
  if (o.peer) {
    log(`[graphile-worker] open loop at ${o.rate} jobs/s for ${o.windowMs / 1000} s`);
    const [g] = await runPeers(pg, {
      peers: ['graphile-worker'],
      rates: [o.rate],
      windowMs: o.windowMs,
      warmupMs: o.warmupMs,
      burnDown: o.burnDown,
      burnDownMaxMs: 60_000,
      log,
    });
    const x = g!.rates[0]!;
    const bd = g!.burnDown;
    if (bd) burnDowns.push({ system: 'graphile-worker', jobs: bd.jobs, done: bd.done, jobsPerS: bd.jobsPerS, ...(bd.box ? { box: bd.box } : {}) });
    rows.push({
      system: 'graphile-worker',
      done: x.started,
      sent: x.sent,
      notified: x.latency,
      cpuPct: x.cpuPct,
      ...(x.box ? { box: x.box } : {}),
    });
  }
  log(`[floor] open loop at ${o.rate} tasks/s for ${o.windowMs / 1000} s`);
  rows.push(await floorRun(pg, o));
  if (o.burnDown > 0) {
    log(`[floor] burn-down of ${o.burnDown} tasks`);
    burnDowns.push(await floorBurnDown(pg, o.burnDown));
  }
  if (o.dispatch) {
    const args = new Map([
      ['rates', String(o.rate)],
      ['window-s', String(o.windowMs / 1000)],
      ['warmup-s', String(o.warmupMs / 1000)],
      ['burndown', String(o.burnDown)],
      ['closed', '0'],
      ['scale', '0'],
      ['skip-workflow', ''],
      ['schedules', '0'],
    ]);
    const d = await runDispatchBench(pg, { ...dispatchOptionsFromArgs(args), log });
    const x = d.rates[0]!;
    rows.push({
      system: 'Dispatch',
      done: x.completed,
      sent: x.sent,
      notified: x.toNotified,
      cpuPct: x.cpuPct,
      ...(x.box ? { box: x.box } : {}),
    });
    const bd = d.burnDown;
    if (bd) burnDowns.push({ system: 'Dispatch', jobs: bd.jobs, done: bd.done, jobsPerS: bd.jobsPerS, ...(bd.box ? { box: bd.box } : {}) });
  }
  return { rate: o.rate, rows, burnDowns };
}

export function floorTable(r: FloorResults): string {
  const peer = r.rows.find((x) => x.system === 'graphile-worker');
  const table = markdownTable(
    [
      'system',
      `${r.rate}/s done/sent`,
      'notified p50 ms',
      'p99 ms',
      'CPU % of one core (service)',
      'service ms per lifecycle',
      'whole box ms',
      'p50 / graphile',
      'CPU / graphile',
      'whole box / graphile',
    ],
    r.rows.map((x) => [
      x.system,
      `${x.done}/${x.sent}`,
      fmt(x.notified.p50),
      fmt(x.notified.p99),
      fmt(x.cpuPct, 0),
      x.box ? fmt(Object.values(x.box.parts)[0], 2) : '–',
      x.box ? fmt(x.box.msPerLifecycle, 2) : '–',
      peer ? ratio(x.notified.p50, peer.notified.p50) : '–',
      peer ? ratio(x.cpuPct, peer.cpuPct) : '–',
      peer?.box && x.box ? ratio(x.box.msPerLifecycle, peer.box.msPerLifecycle) : '–',
    ]),
  );
  const boxes = r.rows.filter((x) => x.box).map((x) => `${x.system} ${formatBoxCpu(x.box!)}`);
  const peerBd = r.burnDowns.find((x) => x.system === 'graphile-worker');
  const bdTable = r.burnDowns.length
    ? markdownTable(
        ['system', 'burn-down done/tasks', 'lifecycles/s', 'whole box ms', 'rate / graphile', 'whole box / graphile'],
        r.burnDowns.map((x) => [
          x.system,
          `${x.done}/${x.jobs}`,
          fmt(x.jobsPerS),
          x.box ? fmt(x.box.msPerLifecycle, 2) : '–',
          peerBd ? ratio(x.jobsPerS, peerBd.jobsPerS) : '–',
          peerBd?.box && x.box ? ratio(x.box.msPerLifecycle, peerBd.box.msPerLifecycle) : '–',
        ]),
      )
    : '';
  const bdBoxes = r.burnDowns.filter((x) => x.box).map((x) => `${x.system} ${formatBoxCpu(x.box!)}`);
  return [
    table,
    boxes.length ? `CPU per lifecycle, whole box, ${r.rate}/s: ${boxes.join('; ')}` : '',
    bdTable,
    bdBoxes.length ? `CPU per lifecycle, whole box, burn-down: ${bdBoxes.join('; ')}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

export function floorOptionsFromArgs(args: Map<string, string>): FloorOptions {
  return {
    rate: num(args.get('rate'), 200),
    windowMs: num(args.get('window-s'), 10) * 1000,
    warmupMs: num(args.get('warmup-s'), 2) * 1000,
    burnDown: num(args.get('burndown'), 20_000),
    dispatch: !args.has('skip-dispatch'),
    peer: !args.has('skip-peer'),
  };
}

runBenchScript(import.meta.url, floorOptionsFromArgs, runFloorBench, floorTable);
