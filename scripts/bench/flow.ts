// Flow control scenario (issue #26, docs/flow-control.md): does a backlog of held flow keys cost
// the scheduler anything? One process, as scripts/profile-tick.ts: an embedded Postgres (temp dir,
// synchronous_commit off), a whole Dispatch (HTTP API, scheduler loop; no NATS), a roster of
// --agents × --max-concurrent slots. For --held 0 and then --held N (default 100,000 tasks under
// --keys 100 keys, inserted with SQL: half the keys paused for an hour, half out of tokens with a
// bucket refilling one per day), it measures
//   0. the two statements the held backlog could slow: the keys' read (flowRead) and the first
//      pending page (duePending with the keys' reads), each run 200 times alone (p50/p90 ms);
//   1. the idle tick: runOnce() --idle-ticks times with only the held backlog pending (mean/p50/max ms);
//   2. unkeyed tasks beside them: POST /api/v1/tasks in an open loop at --rate for --window-s,
//      every assignment completed at once as its assignee: create→assigned p50/p99, lifecycles/s,
//      and the loop's tick phases;
//   3. a burn-down of --burndown unkeyed tasks inserted with SQL: lifecycles/s.
// Each held run also checks that the held tasks stayed pending (none was assigned).
//   npx tsx scripts/bench/flow.ts [--held 0,100000] [--keys 100] [--rate 100] [--window-s 5] [--burndown 3000]
//       [--idle-ticks 50] [--agents 50] [--max-concurrent 3] [--tick-ms 1000]
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createAtRate } from './lib/in-process-creates.js';
import { Pool } from 'undici';
import { createDispatch, type Dispatch } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Scheduler, TickPhases, TickResult } from '../../src/assignment/scheduler.js';
import { connect, migrate, type Sql } from '../../src/store/db.js';
import { startEmbeddedPostgres } from '../../src/store/embedded.js';
import { duePending } from '../../src/store/assignments.js';
import { flowRead } from '../../src/store/flow.js';
import { flowView } from '../../src/assignment/flow.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
if (process.argv.includes('--help')) {
  console.log(
    'npx tsx scripts/bench/flow.ts [--held 0,100000] [--keys 100] [--rate 100] [--window-s 5] [--burndown 3000] [--idle-ticks 50] [--agents 50] [--max-concurrent 3] [--tick-ms 1000]',
  );
  process.exit(0);
}
const HELD = arg('held', '0,100000').split(',').filter(Boolean).map(Number);
const KEYS = Number(arg('keys', '100'));
const RATE = Number(arg('rate', '100'));
const WINDOW_S = Number(arg('window-s', '5'));
const BURNDOWN = Number(arg('burndown', '3000'));
const IDLE_TICKS = Number(arg('idle-ticks', '50'));
const AGENTS = Number(arg('agents', '50'));
const MAX = Number(arg('max-concurrent', '3'));
const TICK_MS = Number(arg('tick-ms', '1000'));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const f = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(2)) : '-');

interface Run {
  dispatch: Dispatch;
  scheduler: Scheduler;
  sql: Sql;
  api: Pool;
  ticks: TickResult[];
  completed: number;
  complete(taskId: string, agent: string): void;
  stop(): Promise<void>;
}

async function startRun(url: string): Promise<Run> {
  const sql = connect(url, { max: 10 });
  const config = loadConfig({
    file: null,
    env: {},
    overrides: {
      server: { port: 0, metrics_port: 0, host: '127.0.0.1', admin_token: 'x', rate_limit_per_second: 1_000_000, rate_limit_burst: 1_000_000 },
      logging: { level: 'silent' },
      assignment: { tick_interval_ms: TICK_MS, max_concurrent_per_agent: MAX },
      flow: { limits: [{ key: 'model:rated:*', rate: 1, per_ms: 86_400_000, burst: 1 }] },
      agents: Array.from({ length: AGENTS }, (_, i) => ({ id: `agent-${i}`, name: `agent ${i}`, capabilities: ['bench'], state: 'ready' })),
    } as never,
  });
  const backgroundSql = connect(url, { max: 4 });
  const dispatch = await createDispatch({ config, sql, backgroundSql, logger: pino({ level: 'silent' }) });
  const scheduler = dispatch.components.find((c) => c.name === 'scheduler') as Scheduler;
  const ticks: TickResult[] = [];
  const run: Run = {
    dispatch,
    scheduler,
    sql,
    api: undefined as never,
    ticks,
    completed: 0,
    complete: () => {},
    async stop() {
      await run.api.close();
      await dispatch.stop();
      await sql.end();
      await backgroundSql.end();
    },
  };
  run.complete = (taskId, agent) =>
    void run.api
      .request({ method: 'POST', path: `/api/v1/tasks/${taskId}/complete`, headers: { 'x-agent-id': agent, 'content-type': 'application/json' }, body: '{}' })
      .then(async (res) => {
        await res.body.text();
        if (res.statusCode === 200) run.completed++;
      });
  // Every tick the loop runs, as it reports it (the loop shell emits each run's result).
  scheduler.loop.on('run', (r: TickResult) => {
    ticks.push(r);
    for (const a of r.assigned) run.complete(a.taskId, a.agent);
  });
  const { apiUrl } = await dispatch.start();
  run.api = new Pool(apiUrl, { connections: 64, pipelining: 1 });
  return run;
}

/** `n` pending tasks spread over `keys` keys (half paused, half out of tokens), older than anything the run creates. */
async function seedHeld(sql: Sql, n: number, keys: number): Promise<void> {
  await sql`truncate tasks, task_events, agents, idempotency_keys, task_stat_deltas, flow_keys, flow_limits cascade`;
  if (n === 0) return;
  const now = new Date();
  const old = new Date(now.getTime() - 3_600_000);
  const key = (i: number) => (i % 2 === 0 ? `model:paused:${i}` : `model:rated:${i}`);
  await sql`
    insert into flow_keys (key, tokens, refilled_at, paused_until, updated_at)
    select k, case when k like 'model:rated:%' then 0 end, ${now}, case when k like 'model:paused:%' then ${new Date(now.getTime() + 3_600_000)}::timestamptz end, ${now}
    from unnest(${sql.array(Array.from({ length: keys }, (_, i) => key(i)))}::text[]) k`;
  await sql`
    insert into tasks (id, title, requester, capabilities, required_tags, priority, timeout_ms, max_retries, queued_at, created_at, updated_at, flow_key)
    select gen_random_uuid(), 'held ' || g, 'req', '{bench}', '{bench}', 9, 300000, 3, ${old}, ${old}::timestamptz + g * interval '1 microsecond', ${old},
      case when (g % ${keys}) % 2 = 0 then 'model:paused:' else 'model:rated:' end || (g % ${keys})
    from generate_series(1, ${n}) g`;
  await sql`vacuum analyze tasks`;
}

function phases(ticks: TickResult[]): string {
  const keys: (keyof TickPhases)[] = ['sweep', 'read', 'snapshot', 'plan', 'write', 'unmatched'];
  const total = ticks.map((t) => Object.values(t.phases).reduce((a, b) => a + b, 0));
  return `${ticks.length} ticks, tick ms mean/max ${f(mean(total))}/${f(Math.max(0, ...total))}; ${keys.map((k) => `${k} ${f(mean(ticks.map((t) => t.phases[k])))}`).join(', ')}`;
}

async function scenario(url: string, held: number): Promise<string[]> {
  const admin = connect(url, { max: 2 });
  await seedHeld(admin, held, KEYS);
  const run = await startRun(url);
  const out: string[] = [];
  try {
    await run.scheduler.stopLoop();
    // 0. The tick's two reads alone, with 100 unkeyed tasks pending beside the held ones (the page has work to read).
    const now0 = new Date();
    await admin`
      insert into tasks (id, title, requester, capabilities, required_tags, timeout_ms, max_retries, queued_at, created_at, updated_at)
      select gen_random_uuid(), 'p' || g, 'req', '{nobody}', '{nobody}', 300000, 3, ${now0}, ${now0}::timestamptz + g * interval '1 microsecond', ${now0}
      from generate_series(1, 100) g`;
    const keysMs: number[] = [];
    const pageMs: number[] = [];
    let pageLen = 0;
    for (let i = 0; i < 200; i++) {
      let t = performance.now();
      const read = await flowRead(admin);
      keysMs.push(performance.now() - t);
      const view = flowView(read, [{ key: 'model:rated:*', rate: 1, per_ms: 86_400_000, burst: 1, source: 'config' }], now0.getTime(), 200);
      t = performance.now();
      pageLen = (await duePending(admin, now0, 200, undefined, view.reads)).length;
      pageMs.push(performance.now() - t);
    }
    await admin`delete from tasks where title like 'p%' and flow_key is null`;
    out.push(`| ${held} | keys read (flowRead) ms p50 / p90 | ${f(pct(keysMs, 50))} / ${f(pct(keysMs, 90))} |`);
    out.push(`| ${held} | first page (duePending, ${pageLen} rows) ms p50 / p90 | ${f(pct(pageMs, 50))} / ${f(pct(pageMs, 90))} |`);
    // 1. The idle tick: only the held backlog is pending.
    const idle: number[] = [];
    for (let i = 0; i < IDLE_TICKS; i++) {
      const t0 = performance.now();
      const r = await run.scheduler.runOnce();
      idle.push(performance.now() - t0);
      if (r.assigned.length > 0) throw new Error(`a held task was assigned: ${JSON.stringify(r.assigned[0])}`);
    }
    out.push(`| ${held} | idle tick (runOnce × ${IDLE_TICKS}) ms mean / p50 / max | ${f(mean(idle))} / ${f(pct(idle, 50))} / ${f(Math.max(...idle))} |`);
    run.scheduler.loop.start();
    await sleep(300);

    // 2. Unkeyed tasks in an open loop beside the held ones.
    run.ticks.length = 0;
    run.completed = 0;
    const n = Math.round(RATE * WINDOW_S);
    const { sent, seconds } = await createAtRate(run, RATE, n);
    const rows = await run.sql<{ id: string; assigned_at: Date | null }[]>`select id, assigned_at from tasks where flow_key is null`;
    const lat = rows.filter((r) => r.assigned_at && sent.has(r.id)).map((r) => r.assigned_at!.getTime() - sent.get(r.id)!);
    out.push(`| ${held} | open loop ${RATE}/s × ${WINDOW_S} s: create→assigned p50 / p99 ms | ${f(pct(lat, 50))} / ${f(pct(lat, 99))} |`);
    out.push(`| ${held} | open loop: lifecycles/s (completed ${run.completed}/${n}) | ${f(run.completed / seconds)} |`);
    out.push(`| ${held} | open loop: ticks | ${phases(run.ticks)} |`);

    // 3. A burn-down of unkeyed tasks beside the held ones.
    if (BURNDOWN > 0) {
      run.ticks.length = 0;
      run.completed = 0;
      const now = new Date();
      await run.sql`
        insert into tasks (id, title, requester, capabilities, required_tags, timeout_ms, max_retries, queued_at, created_at, updated_at)
        select gen_random_uuid(), 'b' || g, 'req', '{bench}', '{bench}', 300000, 3, ${now}, ${now}::timestamptz + g * interval '1 microsecond', ${now}
        from generate_series(1, ${BURNDOWN}) g`;
      const b0 = performance.now();
      run.dispatch.context.signals.emit('assign-needed');
      const until = b0 + 60_000;
      while (run.completed < BURNDOWN && performance.now() < until) await sleep(20);
      const s = (performance.now() - b0) / 1000;
      out.push(`| ${held} | burn-down ${BURNDOWN}: lifecycles/s | ${f(run.completed / s)} |`);
      out.push(`| ${held} | burn-down: ticks | ${phases(run.ticks)} |`);
    }
    const [h] = await run.sql<{ n: number }[]>`select count(*)::int as n from tasks where flow_key is not null and status <> 'pending'`;
    if (h!.n !== 0) throw new Error(`${h!.n} held tasks were assigned`);
  } finally {
    await run.stop();
    await admin.end();
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-flow-bench-'));
  chmodSync(dir, 0o777); // initdb may run as another user when we are root
  const pg = await startEmbeddedPostgres(dir);
  try {
    const admin = connect(pg.url, { max: 1 });
    await admin`alter system set synchronous_commit = off`;
    await admin`select pg_reload_conf()`;
    await migrate(admin);
    await admin.end();
    const lines = ['| held tasks | measure | value |', '|---|---|---|'];
    for (const held of HELD) {
      lines.push(...(await scenario(pg.url, held)));
      console.error(`held ${held}: done`);
    }
    console.log(lines.join('\n'));
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
