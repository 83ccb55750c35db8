// `npm run chaos`: Dispatch under a steady load of a few hundred tasks while something breaks,
// then the invariant checker (checker.ts) on the database and the NATS stream. Two replicas on
// one database, simulated workers completing what they are assigned.
//   npm run chaos -- [--scenarios kill-replica,pg-terminate,pg-restart,nats-restart,late-report]
//       [--rate 40] [--duration-s 15] [--notify nats|poll] [--json out.json]
import { writeFileSync } from 'node:fs';
import { connect, migrate, type Sql } from '../../src/store/db.js';
import { freePort } from '../../src/store/embedded.js';
import { startNatsServer, type NatsServer } from '../../test/helpers/nats-server.js';
import { num, parseArgs } from '../bench/lib/args.js';
import { sleep, waitFor } from '../bench/lib/child.js';
import { healthStatus, startDispatch, type DispatchProc } from '../bench/lib/dispatch-proc.js';
import { MultiHttp } from '../bench/lib/multi-http.js';
import { openLoop } from '../bench/lib/open-loop.js';
import { startBenchPostgres, type BenchPostgres } from '../bench/lib/postgres.js';
import { markdownTable } from '../bench/lib/table.js';
import { startWorkers, type AssignedEvent } from '../bench/lib/workers.js';
import { checkInvariants, sampleBreaches, type Verdict } from './checker.js';

const DB = 'chaos';
const AGENTS = 10;
const LIMIT = 2;

interface Replica {
  port: number;
  metricsPort: number;
  proc?: DispatchProc;
}

interface Run {
  pg: BenchPostgres;
  url: string;
  nats: NatsServer;
  replicas: Replica[];
  startReplica(k: number): Promise<void>;
  /** Extra facts for the table (health transitions, late reports). */
  extra: string[];
  /** Late reports from a former assignee that were accepted (must be 0). */
  lateAccepted?: number;
  log(m: string): void;
}

interface Scenario {
  name: string;
  description: string;
  wakeTimeoutMs?: number;
  /** Which assignments the workers leave alone (default: complete all). */
  shouldComplete?: (e: AssignedEvent) => boolean;
  /** Runs alongside the load; `durationMs` is the load's length. */
  disrupt(run: Run, durationMs: number): Promise<void>;
  /** After the drain, before the check. */
  after?(run: Run, http: MultiHttp): Promise<void>;
}

const heldByFormer: AssignedEvent[] = [];

const SCENARIOS: Scenario[] = [
  {
    name: 'kill-replica',
    description: 'kill -9 one of two replicas every 4 s (alternating), restart it 1 s later',
    async disrupt(run, durationMs) {
      for (let k = 0, t = 3000; t < durationMs - 1000; k++, t += 4000) {
        await sleep(k === 0 ? 3000 : 3000);
        const r = run.replicas[k % 2]!;
        run.log(`  kill -9 replica ${k % 2} (pid ${r.proc?.pid})`);
        await r.proc?.kill();
        await sleep(1000);
        await run.startReplica(k % 2);
      }
    },
  },
  {
    name: 'pg-terminate',
    description: 'pg_terminate_backend on every Dispatch connection every 3 s',
    async disrupt(run, durationMs) {
      const admin = connect(run.pg.adminUrl, { max: 1, applicationName: 'chaos-admin' });
      try {
        for (let t = 2000; t < durationMs - 1000; t += 3000) {
          await sleep(t === 2000 ? 2000 : 3000);
          const rows = await admin<{ n: number }[]>`
            select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
            where datname = ${DB} and application_name = 'dispatch'`;
          run.log(`  terminated ${rows[0]?.n ?? 0} Dispatch connections`);
        }
      } finally {
        await admin.end();
      }
    },
  },
  {
    name: 'pg-restart',
    description: 'Postgres stopped for ~3 s and started again mid-run; /health must say down, then ok',
    async disrupt(run) {
      if (!run.pg.restart) {
        run.extra.push('skipped: external Postgres');
        return;
      }
      const seen: string[] = [];
      let watching = true;
      const watch = (async () => {
        while (watching) {
          const s = (await healthStatus(run.replicas[0]!.proc!.opsUrl, 1500)) ?? 'no answer';
          if (seen[seen.length - 1] !== s) seen.push(s);
          await sleep(200);
        }
      })();
      await sleep(4000);
      run.log('  stopping Postgres');
      await run.pg.restart!(3000);
      run.log('  Postgres started again');
      await waitFor(async () => (await healthStatus(run.replicas[0]!.proc!.opsUrl)) === 'ok', 30_000, 200);
      await sleep(500);
      watching = false;
      await watch;
      run.extra.push(`/health: ${seen.join(' → ')}`);
    },
  },
  {
    name: 'nats-restart',
    description: 'nats-server killed (SIGKILL) for 5 s and restarted on the same port and store',
    async disrupt(run) {
      await sleep(3000);
      run.log('  kill -9 nats-server');
      await run.nats.kill();
      await sleep(5000);
      await run.nats.restart();
      run.log('  nats-server restarted');
    },
  },
  {
    name: 'late-report',
    description: 'agent-0 never reports in time (wake timeout 1.5 s); its late completes must be refused',
    wakeTimeoutMs: 1500,
    shouldComplete: (e) => {
      if (e.agent !== 'agent-0') return true;
      heldByFormer.push(e);
      return false;
    },
    async disrupt() {},
    async after(run, http) {
      // Only a task that has since gone to someone else (or finished) makes agent-0 a former
      // assignee; one still assigned to agent-0 is not a late report.
      let late = 0;
      let accepted = 0;
      const statuses = new Map<number, number>();
      const done = new Set<string>();
      for (const e of heldByFormer) {
        if (done.has(e.taskId)) continue;
        done.add(e.taskId);
        const cur = await http.request('GET', `/api/v1/tasks/${e.taskId}`, { 'x-agent-id': 'chaos-checker' });
        if (cur.status !== 200 || cur.body?.assignee === 'agent-0') continue;
        late++;
        const res = await http.request('POST', `/api/v1/tasks/${e.taskId}/complete`, { 'x-agent-id': 'agent-0', 'content-type': 'application/json' }, '{}');
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) accepted++;
      }
      run.extra.push(`late reports from agent-0: ${late}, accepted ${accepted} (${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')})`);
      run.lateAccepted = accepted;
    },
  },
];

type Row = Verdict & { extra: string[]; lateAccepted: number };

async function runScenario(pg: BenchPostgres, sc: Scenario, o: { rate: number; durationMs: number; notify: 'nats' | 'poll' }): Promise<Row> {
  const log = (m: string) => console.error(m);
  const url = await pg.createDatabase(DB);
  const m = connect(url, { max: 1 });
  await migrate(m);
  await m.end();
  const nats = await startNatsServer();
  const replicas: Replica[] = [];
  for (let k = 0; k < 2; k++) replicas.push({ port: await freePort(), metricsPort: await freePort() });
  const run: Run = {
    pg,
    url,
    nats,
    replicas,
    extra: [],
    log,
    async startReplica(k) {
      const r = replicas[k]!;
      r.proc = await startDispatch({
        databaseUrl: url, natsUrl: nats.url, agents: AGENTS, maxConcurrent: LIMIT, tickMs: 200,
        wakeTimeoutMs: sc.wakeTimeoutMs ?? 120_000, port: r.port, metricsPort: r.metricsPort,
      });
    },
  };
  heldByFormer.length = 0;
  let checkSql: Sql | undefined;
  const http = new MultiHttp(replicas.map((r) => `http://127.0.0.1:${r.port}`));
  try {
    await run.startReplica(0);
    await run.startReplica(1);
    const workers = await startWorkers({
      mode: o.notify,
      natsUrl: nats.url,
      apiUrl: replicas.map((r) => `http://127.0.0.1:${r.port}`),
      ...(sc.shouldComplete ? { shouldComplete: sc.shouldComplete } : {}),
    });
    checkSql = connect(url, { max: 1, applicationName: 'chaos-checker' });
    const acknowledged = new Set<string>();
    let liveBreaches = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        liveBreaches += await sampleBreaches(checkSql!, LIMIT).catch(() => 0);
        await sleep(200);
      }
    })();
    log(`[${sc.name}] ${sc.description}; ${o.rate} tasks/s for ${o.durationMs / 1000} s`);
    const [load] = await Promise.all([
      openLoop({
        rate: o.rate,
        durationMs: o.durationMs,
        send: async (i) => {
          const res = await http.request('POST', '/api/v1/tasks', { 'x-agent-id': `chaos-producer-${i % 4}`, 'content-type': 'application/json' }, JSON.stringify({ title: `chaos ${i}`, capabilities: ['bench'], max_retries: 5 }));
          if (res.status === 201) acknowledged.add(res.body.id);
          else throw new Error(`create → ${res.status}`);
        },
      }),
      sc.disrupt(run, o.durationMs),
    ]);
    // Heal: every replica up, then drain.
    for (let k = 0; k < replicas.length; k++) if (!replicas[k]!.proc || replicas[k]!.proc!.exited()) await run.startReplica(k);
    const finished = async () => {
      const rows = await checkSql!<{ n: number }[]>`select count(*)::int as n from tasks where status not in ('completed', 'failed', 'timed_out', 'cancelled')`.catch(() => [{ n: -1 }]);
      return rows[0]?.n === 0;
    };
    await waitFor(finished, 90_000, 250);
    await waitFor(async () => {
      const rows = await checkSql!<{ n: number }[]>`select count(*)::int as n from task_events where published_at is null`.catch(() => [{ n: -1 }]);
      return rows[0]?.n === 0;
    }, 30_000, 250);
    sampling = false;
    await sampler;
    await sc.after?.(run, http);
    await workers.close();
    const verdict = await checkInvariants(checkSql, { acknowledged, limit: LIMIT, liveBreaches, natsUrl: nats.url });
    if (load.failed) run.extra.push(`creates not acknowledged: ${load.failed} (${load.errors.slice(0, 2).join('; ')})`);
    return { ...verdict, lateAccepted: run.lateAccepted ?? 0, extra: run.extra };
  } finally {
    await checkSql?.end({ timeout: 1 }).catch(() => {});
    await http.close();
    for (const r of replicas) await r.proc?.stop().catch(() => {});
    await nats.stop();
    await pg.dropDatabase(DB).catch(() => {});
  }
}

function table(rows: Array<{ name: string; v: Row }>): string {
  const n = (x: number | null) => (x === null ? 'n/a' : String(x));
  return markdownTable(
    ['scenario', 'tasks', 'lost', 'duplicated', 'limit breaches', 'events missing/dup (DB)', 'events missing/dup (NATS)', 'unfinished', 'late reports accepted', 'notes'],
    rows.map(({ name, v }) => [name, v.tasks, v.lost, v.duplicated, v.breaches, `${v.eventsMissing}/${v.eventsDuplicated}`, `${n(v.natsMissing)}/${n(v.natsDuplicated)}`, v.unfinished, v.lateAccepted, [...v.extra, ...v.notes].join('; ')]),
  );
}

async function main() {
  const args = parseArgs();
  const names = (args.get('scenarios') ?? SCENARIOS.map((s) => s.name).join(',')).split(',');
  const o = { rate: num(args.get('rate'), 40), durationMs: num(args.get('duration-s'), 15) * 1000, notify: (args.get('notify') === 'poll' ? 'poll' : 'nats') as 'nats' | 'poll' };
  const pg = await startBenchPostgres();
  const rows: Array<{ name: string; v: Row }> = [];
  try {
    for (const sc of SCENARIOS.filter((s) => names.includes(s.name))) {
      try {
        rows.push({ name: sc.name, v: await runScenario(pg, sc, o) });
      } catch (err) {
        console.error(`[${sc.name}] failed to run:`, err);
        rows.push({ name: sc.name, v: { tasks: 0, lost: NaN, duplicated: NaN, breaches: NaN, eventsMissing: NaN, eventsDuplicated: NaN, natsMissing: null, natsDuplicated: null, unfinished: NaN, notes: [`did not run: ${(err as Error).message}`], extra: [], lateAccepted: NaN } });
      }
    }
  } finally {
    await pg.stop();
  }
  console.log(table(rows));
  const json = args.get('json');
  if (json) writeFileSync(json, JSON.stringify(rows, null, 2));
  const bad = rows.some(({ v }) => !(v.lost === 0 && v.duplicated === 0 && v.breaches === 0 && v.eventsMissing === 0 && v.eventsDuplicated === 0 && (v.natsMissing ?? 0) === 0 && (v.natsDuplicated ?? 0) === 0 && v.unfinished === 0 && v.lateAccepted === 0));
  process.exit(bad ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
