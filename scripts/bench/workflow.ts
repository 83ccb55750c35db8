// Workflow scenario (Dispatch only: no peer has workflows). A 4-step diamond
// (a → b, a → c, {b, c} → d), every step on scope `bench` (which the roster's agents hold), runs
// started open loop with POST /api/v1/workflows/bench-diamond/runs at `--workflow-rate` runs/s for
// `--workflow-s` s; the simulated workers complete every assignment at once (lib/workers.ts).
//   - latency: run created (the POST's 201 returned) → d assigned (the worker heard it on NATS);
//     per release: a completed → b / c assigned (fan-out), the later of b, c completed → d
//     assigned (join); "completed" is when the worker's complete returned 200.
//   - cost of a release (DISPATCH_BENCH_STATEMENTS=1): the statements of the completion path from
//     pg_stat_statements (services/tasks.ts writeReport + services/dependencies.ts settle), per
//     completion with dependents (a, b, c), per completion in a run without dependents (d), and,
//     in a second phase on a fresh database, per completion of a plain task (no run, no
//     dependents: the one-statement path) at the same task rate (4 × run rate) for
//     `--workflow-plain-s` s; commits per run (xact_commit delta / runs).
import { Pool } from 'undici';
import postgres from 'postgres';
import { connect as natsConnect } from '@nats-io/transport-node';
import { connect, migrate } from '../../src/store/db.js';
import { startNatsServer, type NatsServer } from '../../test/helpers/nats-server.js';
import { sleep, waitFor } from './lib/child.js';
import { startDispatch, type DispatchProc } from './lib/dispatch-proc.js';
import { LatencyRecorder, wallMs, type LatencySummary } from './lib/latency.js';
import { openLoop } from './lib/open-loop.js';
import { printStatements, resetStatements, STATEMENTS, xactCommits } from './lib/pg-stats.js';
import type { BenchPostgres } from './lib/postgres.js';
import { ProcSampler } from './lib/proc.js';
import { histogramDelta, scrape, type HistogramDelta } from './lib/prom.js';
import { fmt, markdownTable } from './lib/table.js';
import { startWorkers } from './lib/workers.js';

const DB = 'bench_workflow';
const KEY = 'bench-diamond';
const TICK = 'dispatch_tick_duration_seconds';
const STEPS = ['a', 'b', 'c', 'd'] as const;
type Step = (typeof STEPS)[number];

export const DIAMOND = {
  description: 'benchmark diamond: a → b, a → c, {b, c} → d',
  steps: [
    { id: 'a', task: { title: 'bench a', scope: 'bench' } },
    { id: 'b', task: { title: 'bench b', scope: 'bench' }, depends_on: ['a'] },
    { id: 'c', task: { title: 'bench c', scope: 'bench' }, depends_on: ['a'] },
    { id: 'd', task: { title: 'bench d', scope: 'bench' }, depends_on: ['b', 'c'] },
  ],
};

export interface WorkflowBenchOptions {
  runRate: number;
  windowMs: number;
  /** Plain-task comparison phase (0: skip). */
  plainWindowMs: number;
  agents: number;
  maxConcurrent: number;
  tickMs: number;
  log?: (m: string) => void;
}

/** One statement of the completion path as pg_stat_statements saw it over the phase. */
export interface PathStatement {
  name: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  /** Calls made by something else than completions (the run create's read and its `created` event), subtracted. */
  otherCalls: number;
  query: string;
}

/** What one completion of a kind costs: statements sent and their summed execution time. */
export interface CompletionCost {
  kind: string;
  completions: number;
  statementsPerCompletion: number;
  pgMsPerCompletion: number;
  parts: Array<{ name: string; perCompletion: number; ms: number }>;
}

export interface WorkflowResult {
  runRate: number;
  windowS: number;
  sent: number;
  created: number;
  /** Runs whose `swarm.run.<id>.completed` the harness heard. */
  runsCompleted: number;
  /** Runs whose d was not assigned when the wait ended: their created→d counts as (end − created), a lower bound. */
  censored: number;
  tasksCompleted: number;
  createHttp: LatencySummary;
  toFirstAssigned: LatencySummary;
  toLastAssigned: LatencySummary;
  /** The same from the POST's 201 returned (the run's created_at is taken before its transaction). */
  toLastAssignedFromReturn: LatencySummary;
  toRunCompleted: LatencySummary;
  fanOut: LatencySummary;
  join: LatencySummary;
  /** Later of b, c completed → d's `unblocked` event heard on NATS (the relay's share of the join). */
  joinToUnblockedHeard: LatencySummary;
  completeHttpWithDependents: LatencySummary;
  /** a's complete (releases b and c; nothing else locks them) and b's/c's (both lock d and the run). */
  completeHttpA: LatencySummary;
  completeHttpBC: LatencySummary;
  completeHttpInRun: LatencySummary;
  cpuPct: number;
  peakRssMb: number;
  tick: HistogramDelta;
  commitsPerRun: number;
  /** Postgres execution time of every statement of the database over the window / runs completed. */
  pgMsPerRunAll?: number;
  statements?: PathStatement[];
  withDependents?: CompletionCost;
  inRunNoDependents?: CompletionCost;
  plain?: PlainResult;
  /** End state from the database: runs and tasks by status, `unblocked` events per released task. */
  checks: {
    runs: Record<string, number>;
    tasks: Record<string, number>;
    unblockedPerTask: Record<string, number>;
    runCompletedSubjects: Record<string, number>;
  };
  /** pg_stat_activity sampled every 100 ms over the window: backends waiting on a lock, by statement. */
  lockWaitSamples: Record<string, number>;
  activitySamples: number;
  /** The dependents lock run alone after the window (EXPLAIN ANALYZE, 50 a-tasks): execution ms. */
  dependentsLockUncontended?: { meanMs: number; maxMs: number; plan: string };
  producerMaxLagMs: number;
  errors: string[];
}

export interface PlainResult {
  rate: number;
  windowS: number;
  sent: number;
  completed: number;
  toAssigned: LatencySummary;
  completeHttp: LatencySummary;
  commitsPerTask: number;
  cost?: CompletionCost;
  statements?: PathStatement[];
}

interface Env {
  url: string;
  nats: NatsServer;
  stop(): Promise<void>;
}

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

async function stopAndCount(pg: BenchPostgres, d: DispatchProc): Promise<number> {
  await d.stop();
  await sleep(1500); // backends flush their statistics on exit
  return xactCommits(pg.adminUrl, DB);
}

// --------------------------------------------------------------------------------------------
// pg_stat_statements: the statements of the completion path, recognised by their text
// (src/store/tasks.ts, dependencies.ts, workflows.ts, events.ts).

interface StatementRow {
  calls: number;
  ms: number;
  query: string;
}

const PATH: Array<{ name: string; match: (q: string) => boolean }> = [
  { name: 'read row + version', match: (q) => /select \*, xmin::text as version from tasks where id = \$1/.test(q) },
  { name: 'CAS update (complete) + events', match: (q) => /jsonb_populate_recordset/.test(q) && /"result" = r\."result"/.test(q) },
  { name: 'begin', match: (q) => /^\s*begin\s*;?\s*$/i.test(q) },
  { name: 'commit', match: (q) => /^\s*commit\s*;?\s*$/i.test(q) },
  { name: 'dependents lock', match: (q) => /from task_deps where depends_on_id = any/.test(q) && /for update of t/.test(q) && !/with recursive/.test(q) },
  { name: 'states read', match: (q) => /^\s*select id, status, result, step_id, workflow_run_id, cancelled_by from tasks where id = any/.test(q) },
  {
    name: 'release apply + events',
    match: (q) => /jsonb_populate_recordset/.test(q) && /"queued_at" = r\."queued_at"/.test(q) && !/"result" = r\."result"/.test(q),
  },
  { name: 'run lock', match: (q) => /from workflow_runs where id = any/.test(q) && /for update/.test(q) },
  { name: 'run task statuses', match: (q) => /select workflow_run_id, id, status from tasks where workflow_run_id = any/.test(q) },
  { name: 'run status update', match: (q) => /update workflow_runs set status/.test(q) },
  { name: 'run event insert', match: (q) => /insert into task_events \(id, task_id, type, envelope, created_at, kind\)/.test(q) },
];

async function readStatements(adminUrl: string): Promise<StatementRow[]> {
  const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await a<{ calls: string; ms: number; query: string }[]>`
      select s.calls::text, s.total_exec_time as ms, regexp_replace(s.query, '\\s+', ' ', 'g') as query
      from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = ${DB}`;
    return rows.map((r) => ({ calls: Number(r.calls), ms: Number(r.ms), query: r.query }));
  } finally {
    await a.end();
  }
}

function pathStatements(rows: StatementRow[], other: Partial<Record<string, number>> = {}): PathStatement[] {
  return PATH.map((p) => {
    const hits = rows.filter((r) => p.match(r.query));
    const calls = hits.reduce((n, r) => n + r.calls, 0);
    const totalMs = hits.reduce((n, r) => n + r.ms, 0);
    return { name: p.name, calls, totalMs, meanMs: calls ? totalMs / calls : NaN, otherCalls: other[p.name] ?? 0, query: hits[0]?.query.slice(0, 200) ?? '' };
  });
}

/**
 * The cost of one completion of a kind. `share` gives, per statement, how many calls one
 * completion of this kind makes: a number (known from the code: begin/commit of its transaction)
 * or 'split' (the statement's completion calls divided among the `sharing` completions).
 */
function costOf(kind: string, completions: number, stmts: PathStatement[], share: Record<string, number | { of: number }>): CompletionCost {
  const parts = stmts.flatMap((s) => {
    const how = share[s.name];
    if (how === undefined) return [];
    const perCompletion = typeof how === 'number' ? how : Math.max(0, s.calls - s.otherCalls) / Math.max(1, how.of);
    const ms = perCompletion * (Number.isFinite(s.meanMs) ? s.meanMs : 0);
    return [{ name: s.name, perCompletion, ms }];
  });
  return {
    kind,
    completions,
    statementsPerCompletion: parts.reduce((n, p) => n + p.perCompletion, 0),
    pgMsPerCompletion: parts.reduce((n, p) => n + p.ms, 0),
    parts,
  };
}

// --------------------------------------------------------------------------------------------

async function countBy(url: string, q: string): Promise<Record<string, number>> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql.unsafe<{ k: string; n: string }[]>(q);
    return Object.fromEntries(rows.map((r) => [String(r.k), Number(r.n)]));
  } finally {
    await sql.end();
  }
}

async function putDiamond(apiUrl: string): Promise<void> {
  const http = new Pool(apiUrl, { connections: 1 });
  try {
    const res = await http.request({
      method: 'PUT',
      path: `/api/v1/workflows/${KEY}`,
      headers: { 'x-agent-id': 'bench-producer-0', 'content-type': 'application/json' },
      body: JSON.stringify(DIAMOND),
    });
    const text = await res.body.text();
    if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(`PUT workflow → ${res.statusCode} ${text}`);
  } finally {
    await http.close();
  }
}

/** Every 100 ms while `on()`: the benchmark database's backends waiting on a lock, by statement name. */
async function sampleLockWaits(adminUrl: string, on: () => boolean): Promise<{ samples: number; byStatement: Record<string, number> }> {
  const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const byStatement: Record<string, number> = {};
  let samples = 0;
  try {
    while (on()) {
      const rows = await a<{ query: string; w: string; blocker: string | null }[]>`
        select regexp_replace(a.query, '\\s+', ' ', 'g') as query, a.wait_event_type || ':' || a.wait_event as w,
               (select coalesce(regexp_replace(b.query, '\\s+', ' ', 'g'), '') || ' [' || b.state || ']' from pg_stat_activity b
                where b.pid = any(pg_blocking_pids(a.pid)) limit 1) as blocker
        from pg_stat_activity a where a.datname = ${DB} and a.wait_event_type = 'Lock'`;
      samples++;
      for (const r of rows) {
        const named = (q: string) => PATH.find((p) => p.match(q))?.name ?? q.slice(0, 60);
        const blocker = r.blocker ? `${named(r.blocker.replace(/ \[[^\]]*\]$/, ''))} ${/\[[^\]]*\]$/.exec(r.blocker)?.[0] ?? ''}` : '?';
        const name = `${named(r.query)} (${r.w}) blocked by a transaction whose last statement is ${blocker}`;
        byStatement[name] = (byStatement[name] ?? 0) + 1;
      }
      await sleep(100);
    }
  } finally {
    await a.end();
  }
  return { samples, byStatement };
}

class Rollback extends Error {}

/** The dependents lock of 50 a-tasks, alone (rolled back): EXPLAIN ANALYZE execution time and plan. */
async function explainDependentsLock(url: string): Promise<{ meanMs: number; maxMs: number; plan: string } | undefined> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const ids = (await sql<{ id: string }[]>`select id from tasks where step_id = 'a' limit 50`).map((r) => r.id);
    if (!ids.length) return undefined;
    const times: number[] = [];
    let plan = '';
    for (const id of ids) {
      await sql
        .begin(async (tx) => {
          const [row] = await tx.unsafe<{ 'QUERY PLAN': any }[]>(
            `explain (analyze, format json) select t.* from tasks t
             where t.id in (select task_id from task_deps where depends_on_id = any($1::uuid[])) and t.status = 'waiting'
             order by t.id for update of t`,
            [[id] as never],
          );
          const p = row!['QUERY PLAN'][0];
          times.push(Number(p['Execution Time']));
          if (!plan) plan = nodeTypes(p.Plan);
          throw new Rollback();
        })
        .catch((e: unknown) => {
          if (!(e instanceof Rollback)) throw e;
        });
    }
    return { meanMs: times.reduce((x, y) => x + y, 0) / times.length, maxMs: Math.max(...times), plan };
  } finally {
    await sql.end();
  }
}

function nodeTypes(p: any): string {
  const name = `${p['Node Type']}${p['Relation Name'] ? ` on ${p['Relation Name']}` : ''}${p['Index Name'] ? ` using ${p['Index Name']}` : ''}`;
  const kids = (p.Plans ?? []).map(nodeTypes);
  return kids.length ? `${name} (${kids.join(', ')})` : name;
}

async function workflowPhase(pg: BenchPostgres, o: WorkflowBenchOptions): Promise<WorkflowResult> {
  const log = o.log ?? ((m: string) => console.error(m));
  const env = await freshEnv(pg);
  try {
    const d = await startDispatch({ databaseUrl: env.url, natsUrl: env.nats.url, agents: o.agents, maxConcurrent: o.maxConcurrent, tickMs: o.tickMs });
    await putDiamond(d.apiUrl);
    const n = Math.max(1, Math.round((o.runRate * o.windowMs) / 1000));
    const nan = () => new Float64Array(n).fill(NaN);
    const sentAt = nan();
    const createdAt = nan();
    const assignedAt = Object.fromEntries(STEPS.map((s) => [s, nan()])) as Record<Step, Float64Array>;
    const completedAt = Object.fromEntries(STEPS.map((s) => [s, nan()])) as Record<Step, Float64Array>;
    const unblockedD = nan();
    const runDone = nan();
    const runIndex = new Map<string, number>();
    const completeWithDeps = new LatencyRecorder();
    const completeA = new LatencyRecorder();
    const completeBC = new LatencyRecorder();
    const createdAtServer = nan();
    const runCompletedSubjects: Record<string, number> = {};
    const completeInRun = new LatencyRecorder();
    let created = 0;
    let runsCompleted = 0;
    let dAssigned = 0;
    let measuring = true;
    const stepOf = (t: Record<string, any>): { k: number; s: Step } | undefined => {
      const k = t.context?.bench_run;
      const s = t.step_id as Step;
      if (typeof k !== 'number' || k < 0 || k >= n || !STEPS.includes(s)) return undefined;
      return { k, s };
    };
    const workers = await startWorkers({
      natsUrl: env.nats.url,
      apiUrl: d.apiUrl,
      onAssigned: (e) => {
        const at = stepOf(e.task);
        if (!at || !measuring || !Number.isNaN(assignedAt[at.s][at.k]!)) return;
        assignedAt[at.s][at.k] = e.receivedAt;
        if (at.s === 'd') dAssigned++;
      },
      onCompleted: (e, when) => {
        const at = stepOf(e.task);
        if (!at || !measuring) return;
        completedAt[at.s][at.k] = when;
        (at.s === 'd' ? completeInRun : completeWithDeps).add(when - e.receivedAt);
        if (at.s !== 'd') (at.s === 'a' ? completeA : completeBC).add(when - e.receivedAt);
      },
    });
    // The harness's own ear: d's `unblocked` and the runs' `completed`.
    const nc = await natsConnect({ servers: env.nats.url });
    nc.subscribe('swarm.task.*.unblocked', {
      callback: (err, msg) => {
        if (err || !measuring) return;
        const t = (msg.json() as any)?.data?.task;
        const at = t && stepOf(t);
        if (at && at.s === 'd' && Number.isNaN(unblockedD[at.k]!)) unblockedD[at.k] = wallMs();
      },
    });
    // Run events belong on swarm.run.<id>.<type>; at 38f0dd7 the relay publishes every outbox row on
    // swarm.task.<id>.<type> (fixed on main by a71a57a), so listen on both and count where they came.
    const onRunCompleted = (err: unknown, msg: { json(): unknown; subject: string }) => {
      if (err || !measuring) return;
      const run = (msg.json() as any)?.data?.run;
      const k = run?.context?.bench_run;
      if (typeof k === 'number' && k >= 0 && k < n && Number.isNaN(runDone[k]!)) {
        runDone[k] = wallMs();
        runsCompleted++;
        const where = msg.subject.startsWith('swarm.run.') ? 'swarm.run.*.completed' : 'swarm.task.*.completed';
        runCompletedSubjects[where] = (runCompletedSubjects[where] ?? 0) + 1;
      }
    };
    nc.subscribe('swarm.run.*.completed', { callback: onRunCompleted });
    nc.subscribe('swarm.task.*.completed', { callback: onRunCompleted });
    await nc.flush();
    const http = new Pool(d.apiUrl, { connections: 64, pipelining: 1 });
    await sleep(1000);
    const c0 = await xactCommits(pg.adminUrl, DB);
    await resetStatements(pg.adminUrl);
    const m0 = await scrape(`${d.opsUrl}/metrics`);
    const sampler = new ProcSampler(d.pid);
    sampler.start();
    const activity = sampleLockWaits(pg.adminUrl, () => measuring);
    const r = await openLoop({
      rate: o.runRate,
      durationMs: o.windowMs,
      send: async (k) => {
        sentAt[k] = wallMs();
        const res = await http.request({
          method: 'POST',
          path: `/api/v1/workflows/${KEY}/runs`,
          headers: { 'x-agent-id': `bench-producer-${k % 16}`, 'content-type': 'application/json' },
          body: JSON.stringify({ context: { bench_run: k } }),
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        const body = (await res.body.json()) as { id?: string; created_at?: string };
        if (res.statusCode !== 201) throw new Error(`start run → ${res.statusCode}`);
        createdAt[k] = wallMs();
        if (body.created_at) createdAtServer[k] = Date.parse(body.created_at);
        if (body.id) runIndex.set(body.id, k);
        created++;
      },
    });
    await waitFor(() => runsCompleted >= created && dAssigned >= created, Math.max(20_000, o.windowMs));
    measuring = false;
    const waits = await activity;
    const usage = sampler.stop();
    const m1 = await scrape(`${d.opsUrl}/metrics`);
    const tCut = wallMs();
    const rec = () => new LatencyRecorder();
    const [createHttp, toFirst, toLast, toLastRet, toRun, fanOut, join, joinHeard] = [rec(), rec(), rec(), rec(), rec(), rec(), rec(), rec()];
    let censored = 0;
    for (let k = 0; k < r.sent; k++) {
      const ret = createdAt[k]!;
      if (Number.isNaN(ret)) continue; // the POST failed (counted in errors)
      // "Run created": the run's created_at (Dispatch's clock, same machine), else the 201's return.
      const c = Number.isNaN(createdAtServer[k]!) ? ret : createdAtServer[k]!;
      createHttp.add(ret - sentAt[k]!);
      if (!Number.isNaN(assignedAt.a[k]!)) toFirst.add(assignedAt.a[k]! - c);
      if (Number.isNaN(assignedAt.d[k]!)) {
        censored++;
        toLast.add(tCut - c);
        toLastRet.add(tCut - ret);
      } else {
        toLast.add(assignedAt.d[k]! - c);
        toLastRet.add(assignedAt.d[k]! - ret);
      }
      if (!Number.isNaN(runDone[k]!)) toRun.add(runDone[k]! - c);
      for (const s of ['b', 'c'] as const)
        if (!Number.isNaN(assignedAt[s][k]!) && !Number.isNaN(completedAt.a[k]!)) fanOut.add(assignedAt[s][k]! - completedAt.a[k]!);
      const lastDep = Math.max(completedAt.b[k]!, completedAt.c[k]!);
      if (!Number.isNaN(lastDep) && !Number.isNaN(assignedAt.d[k]!)) join.add(assignedAt.d[k]! - lastDep);
      if (!Number.isNaN(lastDep) && !Number.isNaN(unblockedD[k]!)) joinHeard.add(unblockedD[k]! - lastDep);
    }
    const tasksCompleted = workers.completed;
    await nc.close();
    await workers.close();
    await http.close();
    const c1 = await stopAndCount(pg, d);
    const checks = {
      runs: await countBy(env.url, `select status as k, count(*)::text as n from workflow_runs group by status`),
      tasks: await countBy(env.url, `select status as k, count(*)::text as n from tasks group by status`),
      // How many `unblocked` events each released task got (should be 1 → all of b, c, d).
      unblockedPerTask: await countBy(
        env.url,
        `
        select coalesce(e.n, 0)::text || ' event(s)' as k, count(*)::text as n from tasks t
        left join (select task_id, count(*) as n from task_events where type = 'unblocked' group by task_id) e on e.task_id = t.id
        where t.step_id in ('b','c','d') group by 1`,
      ),
      runCompletedSubjects,
    };
    // Read the statements first: the EXPLAIN below would add to the dependents lock's calls.
    const rows = STATEMENTS ? await readStatements(pg.adminUrl) : [];
    const uncontended = await explainDependentsLock(env.url);
    const out: WorkflowResult = {
      runRate: o.runRate,
      windowS: o.windowMs / 1000,
      sent: r.sent,
      created,
      runsCompleted,
      censored,
      tasksCompleted,
      createHttp: createHttp.summary(),
      toFirstAssigned: toFirst.summary(),
      toLastAssigned: toLast.summary(),
      toLastAssignedFromReturn: toLastRet.summary(),
      toRunCompleted: toRun.summary(),
      fanOut: fanOut.summary(),
      join: join.summary(),
      joinToUnblockedHeard: joinHeard.summary(),
      completeHttpWithDependents: completeWithDeps.summary(),
      completeHttpA: completeA.summary(),
      completeHttpBC: completeBC.summary(),
      lockWaitSamples: waits.byStatement,
      activitySamples: waits.samples,
      completeHttpInRun: completeInRun.summary(),
      cpuPct: usage.cpuPct,
      peakRssMb: usage.peakRssMb,
      tick: histogramDelta(m0, m1, TICK),
      commitsPerRun: (c1 - c0) / Math.max(1, runsCompleted),
      checks,
      producerMaxLagMs: r.maxLagMs,
      errors: [...r.errors, ...[...workers.refusals].map(([s, c]) => `complete → ${s} ×${c}`)],
      ...(uncontended ? { dependentsLockUncontended: uncontended } : {}),
    };
    if (STATEMENTS) {
      // The run create also reads its tasks' statuses (its answer) and inserts the `created` run event.
      const stmts = pathStatements(rows, { 'run task statuses': created, 'run event insert': created });
      const calls = (name: string) => stmts.find((s) => s.name === name)?.calls ?? 0;
      const nDep = calls('dependents lock'); // one per completion of a task with dependents (a, b, c)
      const nRun = calls('run lock'); // one per completion of a task in a run (a, b, c, d)
      const nD = Math.max(0, nRun - nDep);
      const nAll = calls('CAS update (complete) + events');
      const all = { of: nAll };
      const inRun = { of: nRun };
      out.statements = stmts;
      out.withDependents = costOf('with dependents (a, b, c)', nDep, stmts, {
        'read row + version': all,
        'CAS update (complete) + events': all,
        begin: 1,
        commit: 1,
        'dependents lock': { of: nDep },
        'states read': { of: nDep },
        'release apply + events': { of: nDep },
        'run lock': inRun,
        'run task statuses': inRun,
      });
      out.inRunNoDependents = costOf('in a run, no dependents (d)', nD, stmts, {
        'read row + version': all,
        'CAS update (complete) + events': all,
        begin: 1,
        commit: 1,
        'run lock': inRun,
        'run task statuses': inRun,
        'run status update': { of: nD },
        'run event insert': { of: nD },
      });
      out.pgMsPerRunAll = rows.reduce((n, x) => n + x.ms, 0) / Math.max(1, runsCompleted);
      await printStatements(pg.adminUrl, DB, tasksCompleted, log);
    }
    return out;
  } finally {
    await env.stop();
  }
}

/** Plain tasks (no run, no dependents) at the workflow's task rate: the one-statement completion. */
async function plainPhase(pg: BenchPostgres, o: WorkflowBenchOptions): Promise<PlainResult> {
  const log = o.log ?? ((m: string) => console.error(m));
  const env = await freshEnv(pg);
  try {
    const d = await startDispatch({ databaseUrl: env.url, natsUrl: env.nats.url, agents: o.agents, maxConcurrent: o.maxConcurrent, tickMs: o.tickMs });
    const rate = o.runRate * STEPS.length;
    const n = Math.max(1, Math.round((rate * o.plainWindowMs) / 1000));
    const sentAt = new Float64Array(n).fill(NaN);
    const seen = new Uint8Array(n);
    const toAssigned = new LatencyRecorder();
    const completeHttp = new LatencyRecorder();
    let created = 0;
    let assigned = 0;
    let measuring = true;
    const idx = (t: Record<string, any>) => {
      const i = t.context?.bench_i;
      return typeof i === 'number' && i >= 0 && i < n ? i : -1;
    };
    const workers = await startWorkers({
      natsUrl: env.nats.url,
      apiUrl: d.apiUrl,
      onAssigned: (e) => {
        const i = idx(e.task);
        if (i < 0 || seen[i] || !measuring) return;
        seen[i] = 1;
        assigned++;
        toAssigned.add(e.receivedAt - sentAt[i]!);
      },
      onCompleted: (e, when) => {
        if (idx(e.task) >= 0 && measuring) completeHttp.add(when - e.receivedAt);
      },
    });
    const http = new Pool(d.apiUrl, { connections: 64, pipelining: 1 });
    await sleep(1000);
    const c0 = await xactCommits(pg.adminUrl, DB);
    await resetStatements(pg.adminUrl);
    const r = await openLoop({
      rate,
      durationMs: o.plainWindowMs,
      send: async (k) => {
        sentAt[k] = wallMs();
        const res = await http.request({
          method: 'POST',
          path: '/api/v1/tasks',
          headers: { 'x-agent-id': `bench-producer-${k % 16}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: `bench ${k}`, scope: 'bench', context: { bench_i: k } }),
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        await res.body.dump();
        if (res.statusCode !== 201) throw new Error(`create → ${res.statusCode}`);
        created++;
      },
    });
    await waitFor(() => workers.completed >= created && assigned >= created, Math.max(10_000, o.plainWindowMs));
    measuring = false;
    const completed = workers.completed;
    await workers.close();
    await http.close();
    const c1 = await stopAndCount(pg, d);
    const out: PlainResult = {
      rate,
      windowS: o.plainWindowMs / 1000,
      sent: r.sent,
      completed,
      toAssigned: toAssigned.summary(),
      completeHttp: completeHttp.summary(),
      commitsPerTask: (c1 - c0) / Math.max(1, completed),
    };
    if (STATEMENTS) {
      const stmts = pathStatements(await readStatements(pg.adminUrl));
      const nAll = stmts.find((s) => s.name === 'CAS update (complete) + events')?.calls ?? 0;
      out.statements = stmts;
      out.cost = costOf('plain task (no run, no dependents)', nAll, stmts, {
        'read row + version': { of: nAll },
        'CAS update (complete) + events': { of: nAll },
      });
      await printStatements(pg.adminUrl, DB, completed, log);
    }
    return out;
  } finally {
    await env.stop();
  }
}

export async function runWorkflowBench(pg: BenchPostgres, o: WorkflowBenchOptions): Promise<WorkflowResult> {
  const log = o.log ?? ((m: string) => console.error(m));
  if (!STATEMENTS) log('[dispatch] workflow: DISPATCH_BENCH_STATEMENTS is not 1, so no statement costs (latency and commits only)');
  log(`[dispatch] workflow: diamond runs at ${o.runRate} runs/s for ${o.windowMs / 1000} s (${o.agents} agents × ${o.maxConcurrent})`);
  const w = await workflowPhase(pg, o);
  if (o.plainWindowMs > 0) {
    log(`[dispatch] workflow: plain tasks at ${o.runRate * STEPS.length} tasks/s for ${o.plainWindowMs / 1000} s (completion without run or dependents)`);
    w.plain = await plainPhase(pg, o);
  }
  return w;
}

const lat = (s: LatencySummary, lb = '') => `${lb}${fmt(s.p50)} / ${lb}${fmt(s.p99)} / ${lb}${fmt(s.max)}`;

export function workflowTable(w: WorkflowResult): string {
  const lb = w.censored > 0 ? '≥' : '';
  const head =
    `Workflow: diamond a → {b, c} → d at ${w.runRate} runs/s for ${w.windowS} s; runs completed ${w.runsCompleted}/${w.sent}` +
    ` (created ${w.created}, d not assigned at the end ${w.censored}), tasks completed ${w.tasksCompleted}; CPU ${fmt(w.cpuPct, 0)} %, peak RSS ${fmt(w.peakRssMb, 0)} MB,` +
    ` tick mean ${fmt(w.tick.meanMs)} ms (${w.tick.count}); commits/run ${fmt(w.commitsPerRun, 2)}` +
    (w.plain ? ` (plain tasks: ${fmt(w.plain.commitsPerTask, 2)}/task)` : '') +
    (w.pgMsPerRunAll !== undefined ? `; Postgres exec ms/run, all statements: ${fmt(w.pgMsPerRunAll, 2)}` : '');
  const rows: Array<Array<string>> = [
    ['start run (POST → 201)', lat(w.createHttp), String(w.createHttp.count)],
    ['run created → a assigned', lat(w.toFirstAssigned), String(w.toFirstAssigned.count)],
    ['a completed → b, c assigned (fan-out release)', lat(w.fanOut), String(w.fanOut.count)],
    ['later of b, c completed → d unblocked heard', lat(w.joinToUnblockedHeard), String(w.joinToUnblockedHeard.count)],
    ['later of b, c completed → d assigned (join release)', lat(w.join), String(w.join.count)],
    ['run created (created_at) → d assigned', lat(w.toLastAssigned, lb), String(w.toLastAssigned.count)],
    ['POST returned 201 → d assigned', lat(w.toLastAssignedFromReturn, lb), String(w.toLastAssignedFromReturn.count)],
    ['run created → run completed heard', lat(w.toRunCompleted), String(w.toRunCompleted.count)],
    ['complete a/b/c (with dependents) HTTP', lat(w.completeHttpWithDependents), String(w.completeHttpWithDependents.count)],
    ['  of which a (releases b, c)', lat(w.completeHttpA), String(w.completeHttpA.count)],
    ['  of which b, c (both lock d, then the run)', lat(w.completeHttpBC), String(w.completeHttpBC.count)],
    ['complete d (in run, no dependents) HTTP', lat(w.completeHttpInRun), String(w.completeHttpInRun.count)],
  ];
  if (w.plain) {
    rows.push([`plain task create → assigned heard (${w.plain.rate}/s, ${w.plain.windowS} s)`, lat(w.plain.toAssigned), String(w.plain.toAssigned.count)]);
    rows.push(['complete plain task HTTP', lat(w.plain.completeHttp), String(w.plain.completeHttp.count)]);
  }
  const parts = [head, '', markdownTable(['figure', 'p50 / p99 / max ms', 'n'], rows)];
  const costs = [w.withDependents, w.inRunNoDependents, w.plain?.cost].filter((c): c is CompletionCost => c !== undefined);
  if (costs.length) {
    parts.push(
      '',
      markdownTable(
        ['completion', 'n', 'statements / completion', 'Postgres exec ms / completion', 'of which (calls × mean ms)'],
        costs.map((c) => [
          c.kind,
          String(c.completions),
          fmt(c.statementsPerCompletion, 2),
          fmt(c.pgMsPerCompletion, 3),
          c.parts.map((p) => `${p.name} ${fmt(p.perCompletion, 2)}×=${fmt(p.ms, 3)}`).join('; '),
        ]),
      ),
    );
    const stmtRows = [
      ...(w.statements ?? []).map((s) => ['workflow', s]),
      ...(w.plain?.statements ?? []).filter((s) => s.calls > 0).map((s) => ['plain', s]),
    ] as Array<[string, PathStatement]>;
    parts.push(
      '',
      markdownTable(
        ['phase', 'statement', 'calls', 'calls − other', 'total ms', 'mean ms'],
        stmtRows.map(([ph, s]) => [ph, s.name, String(s.calls), String(s.calls - s.otherCalls), fmt(s.totalMs), fmt(s.meanMs, 3)]),
      ),
    );
  }
  const waits = Object.entries(w.lockWaitSamples).sort((x, y) => y[1] - x[1]);
  parts.push(
    '',
    `Lock waits (pg_stat_activity every 100 ms, ${w.activitySamples} samples): ` + (waits.length ? waits.map(([k, v]) => `${k} ${v}`).join('; ') : 'none seen'),
  );
  if (w.dependentsLockUncontended) {
    const u = w.dependentsLockUncontended;
    parts.push(`Dependents lock alone after the window (EXPLAIN ANALYZE, 50 a-tasks): mean ${fmt(u.meanMs, 3)} ms, max ${fmt(u.maxMs, 3)} ms; plan ${u.plan}`);
  }
  parts.push(`Run completed events heard on: ${JSON.stringify(w.checks.runCompletedSubjects)}`);
  parts.push(
    '',
    `Checks (database at the end): runs ${JSON.stringify(w.checks.runs)}; tasks ${JSON.stringify(w.checks.tasks)}; unblocked events per b/c/d task ${JSON.stringify(w.checks.unblockedPerTask)}` +
      `; producer max lag ${fmt(w.producerMaxLagMs)} ms${w.errors.length ? `; errors: ${w.errors.join('; ')}` : ''}`,
  );
  return parts.join('\n');
}
