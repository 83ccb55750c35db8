// Where a scheduler tick spends its time, reproducibly, in one process: an embedded Postgres
// (temp dir, synchronous_commit off), a whole Dispatch (HTTP API, scheduler loop; no NATS) with a
// standalone roster of N agents, and a driver that
//   1. creates tasks with POST /api/v1/tasks in an open loop at each --rates value for --window-s,
//      and completes every assignment at once as its assignee (POST /complete), recording
//      create→assigned (assigned_at − create request start) and lifecycles/s;
//   2. burn-down: --burndown pending tasks inserted with SQL, then the same completing workers;
//   3. prints each run's tick count and the mean/max milliseconds per phase of runOnce
//      (sweep, read, snapshot, plan, write, unmatched) from TickResult.phases.
//   npx tsx scripts/profile-tick.ts [--rates 50,200] [--window-s 5] [--agents 50] [--max-concurrent 3]
//       [--tick-ms 1000] [--burndown 3000]
// Run with `node --cpu-prof --import tsx scripts/profile-tick.ts` for a CPU profile.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createAtRate } from './bench/lib/in-process-creates.js';
import { Pool } from 'undici';
import { createDispatch, type Dispatch } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Scheduler, TickPhases, TickResult } from '../src/assignment/scheduler.js';
import { connect, migrate, type Sql } from '../src/store/db.js';
import { startEmbeddedPostgres } from '../src/store/embedded.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const RATES = arg('rates', '50,200').split(',').filter(Boolean).map(Number);
const WINDOW_S = Number(arg('window-s', '5'));
const AGENTS = Number(arg('agents', '50'));
const MAX = Number(arg('max-concurrent', '3'));
const TICK_MS = Number(arg('tick-ms', '1000'));
const BURNDOWN = Number(arg('burndown', '3000'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const f = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : '-');

interface Run {
  dispatch: Dispatch;
  sql: Sql;
  api: Pool;
  ticks: TickResult[];
  completed: number;
  /** Complete a task as its assignee (the simulated worker). */
  complete: (taskId: string, agent: string) => void;
  onAssigned: (fn: () => void) => void;
  stop(): Promise<void>;
}

async function startRun(url: string): Promise<Run> {
  const sql = connect(url, { max: Number(process.env.PROFILE_POOL ?? 10) });
  await sql`truncate tasks, task_events, agents, idempotency_keys, task_stat_deltas cascade`;
  const config = loadConfig({
    file: null,
    env: {},
    overrides: {
      server: { port: 0, metrics_port: 0, host: '127.0.0.1', admin_token: 'x', rate_limit_per_second: 1_000_000, rate_limit_burst: 1_000_000 },
      logging: { level: 'silent' },
      assignment: { tick_interval_ms: TICK_MS, max_concurrent_per_agent: MAX, sync_match: process.env.DISPATCH_SYNC_MATCH !== 'false' },
      agents: Array.from({ length: AGENTS }, (_, i) => ({ id: `agent-${i}`, name: `agent ${i}`, capabilities: ['bench'], state: 'ready' })),
    } as never,
  });
  // As main.ts does: the scheduler has a small pool of its own (PROFILE_SHARED_POOL=1: it shares `sql`).
  const backgroundSql = process.env.PROFILE_SHARED_POOL === '1' ? undefined : connect(url, { max: 4 });
  const dispatch = await createDispatch({ config, sql, ...(backgroundSql ? { backgroundSql } : {}), logger: pino({ level: 'silent' }) });
  const scheduler = dispatch.components.find((c) => c.name === 'scheduler') as Scheduler;
  const ticks: TickResult[] = [];
  let listener = () => {};
  const run: Run = {
    dispatch,
    sql,
    api: undefined as never,
    ticks,
    completed: 0,
    complete: () => {},
    onAssigned: (fn) => {
      listener = fn;
    },
    async stop() {
      await run.api.close();
      await dispatch.stop();
      await sql.end();
      await backgroundSql?.end();
    },
  };
  // Workers: complete every assignment at once as its assignee (full lifecycle over HTTP), whether
  // a tick made it or the create itself (sync match: the create answers assigned).
  const complete = (taskId: string, agent: string) =>
    void run.api
      .request({
        method: 'POST',
        path: `/api/v1/tasks/${taskId}/complete`,
        headers: { 'x-agent-id': agent, 'content-type': 'application/json' },
        body: '{}',
      })
      .then(async (res) => {
        await res.body.text();
        if (res.statusCode === 200) run.completed++;
        listener();
      });
  run.complete = complete;
  // Every tick the loop runs, as it reports it (the loop shell emits each run's result).
  scheduler.loop.on('run', (r: TickResult) => {
    ticks.push(r);
    for (const a of r.assigned) complete(a.taskId, a.agent);
  });
  const { apiUrl } = await dispatch.start();
  run.api = new Pool(apiUrl, { connections: 64, pipelining: 1 });
  return run;
}

function phaseTable(ticks: TickResult[]): string {
  const keys: (keyof TickPhases)[] = ['sweep', 'read', 'snapshot', 'plan', 'write', 'unmatched'];
  const busy = ticks.filter((t) => t.considered > 0);
  const cols = keys.map((k) => {
    const xs = ticks.map((t) => t.phases[k]);
    return `${k} ${f(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length))}/${f(Math.max(0, ...xs))}`;
  });
  const total = ticks.map((t) => Object.values(t.phases).reduce((a, b) => a + b, 0));
  return (
    `ticks ${ticks.length} (${busy.length} with tasks, ${ticks.reduce((a, t) => a + t.assigned.length, 0)} assigned); ` +
    `tick ms mean/max ${f(total.reduce((a, b) => a + b, 0) / Math.max(1, total.length))}/${f(Math.max(0, ...total))}; phases mean/max ms: ${cols.join(', ')}`
  );
}

async function openLoop(url: string, rate: number): Promise<void> {
  const run = await startRun(url);
  await sleep(500);
  run.ticks.length = 0;
  const n = Math.round(rate * WINDOW_S);
  const { sent, seconds } = await createAtRate(run, rate, n);
  const rows = await run.sql<{ id: string; assigned_at: Date | null }[]>`select id, assigned_at from tasks`;
  const lat = rows.filter((r) => r.assigned_at && sent.has(r.id)).map((r) => r.assigned_at!.getTime() - sent.get(r.id)!);
  console.log(
    `open loop ${rate}/s × ${WINDOW_S} s: created ${sent.size}/${n}, completed ${run.completed}; create→assigned ms p50 ${f(pct(lat, 50))} p99 ${f(pct(lat, 99))} max ${f(Math.max(...lat))}; lifecycles/s ${f(run.completed / seconds)}`,
  );
  console.log(`  ${phaseTable(run.ticks)}`);
  await run.stop();
}

async function burnDown(url: string): Promise<void> {
  const run = await startRun(url);
  await sleep(300);
  const now = new Date();
  await run.sql`
    insert into tasks (id, title, requester, capabilities, required_tags, timeout_ms, max_retries, queued_at, created_at, updated_at)
    select gen_random_uuid(), 'b' || g, 'req', '{bench}', '{bench}', 300000, 3, ${now}, ${now}::timestamptz + g * interval '1 microsecond', ${now}
    from generate_series(1, ${BURNDOWN}) g`;
  run.ticks.length = 0;
  const t0 = performance.now();
  run.dispatch.context.signals.emit('assign-needed');
  const deadline = t0 + 60_000;
  while (run.completed < BURNDOWN && performance.now() < deadline) await sleep(20);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`burn-down ${BURNDOWN}: completed ${run.completed} in ${f(seconds)} s = ${f(run.completed / seconds)} lifecycles/s`);
  console.log(`  ${phaseTable(run.ticks)}`);
  await run.stop();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-profile-'));
  chmodSync(dir, 0o777); // initdb may run as another user when we are root
  const pg = await startEmbeddedPostgres(dir);
  try {
    const admin = connect(pg.url, { max: 1 });
    await admin`alter system set synchronous_commit = off`;
    await admin`select pg_reload_conf()`;
    await migrate(admin);
    await admin.end();
    for (const rate of RATES) await openLoop(pg.url, rate);
    if (BURNDOWN > 0) await burnDown(pg.url);
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
