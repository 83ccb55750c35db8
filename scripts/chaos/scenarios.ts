// The chaos scenarios and their runner: two Dispatch replicas on one database, simulated workers
// completing what they are assigned, a steady open-loop load of creates while one scenario breaks
// something, a drain, then the invariant checker (checker.ts). Used by `npm run chaos` (index.ts)
// and, short, by `npm test` (test/chaos-fast.test.ts).
import { connect, migrate, type Sql } from '../../src/store/db.js';
import { freePort } from '../../src/store/embedded.js';
import type { FailureMode } from '../../test/fakes/base.js';
import { startFakes, type Fakes } from '../../test/fakes/neighbours.js';
import { startNatsServer, type NatsServer } from '../../test/helpers/nats-server.js';
import { sleep, waitFor } from '../bench/lib/child.js';
import { agentIds, health, healthStatus, startDispatch, type DispatchProc } from '../bench/lib/dispatch-proc.js';
import { MultiHttp } from '../bench/lib/multi-http.js';
import { openLoop } from '../bench/lib/open-loop.js';
import type { BenchPostgres } from '../bench/lib/postgres.js';
import { markdownTable } from '../bench/lib/table.js';
import { startWorkers, type AssignedEvent } from '../bench/lib/workers.js';
import { checkInvariants, sampleBreaches, type Verdict } from './checker.js';

const AGENTS = 10;
const LIMIT = 2;
/** The owner of half the tasks in `neighbour-faults`: Alexandria names every agent as its device. */
const OWNER = 'chaos-owner';

interface Replica {
  port: number;
  metricsPort: number;
  proc?: DispatchProc;
}

interface Run {
  pg: BenchPostgres;
  /** The run's database (name and URL) and the checker's connection to it. */
  db: string;
  url: string;
  sql: Sql;
  nats: NatsServer;
  /** The neighbour fakes, for a scenario with `neighbours`. */
  fakes?: Fakes;
  replicas: Replica[];
  startReplica(k: number): Promise<void>;
  /** Assignments a scenario's workers left alone (late-report). */
  held: AssignedEvent[];
  /** Extra facts for the table (health transitions, late reports, what each phase saw). */
  extra: string[];
  /** The same as numbers, for tests (e.g. `neighbour calls during 500s`). */
  facts: Record<string, number>;
  /** Late reports from a former assignee that were accepted (must be 0). */
  lateAccepted?: number;
  /** neighbour-faults: the counts when the fakes were healed. */
  healedAt?: Observation;
  log(m: string): void;
}

export interface Scenario {
  name: string;
  description: string;
  wakeTimeoutMs?: number;
  /** The replicas use the neighbour fakes (PromptForge, Warren, Alexandria) instead of the roster. */
  neighbours?: boolean;
  /** Fields added to the body of create `i`. */
  taskFields?: (i: number) => Record<string, unknown>;
  /** Which assignments the workers leave alone (default: complete all). */
  shouldComplete?: (e: AssignedEvent, run: Run) => boolean;
  /** Runs alongside the load; `durationMs` is the load's length. */
  disrupt(run: Run, durationMs: number): Promise<void>;
  /** After the drain, before the check. */
  after?(run: Run, http: MultiHttp): Promise<void>;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'kill-replica',
    description: 'kill -9 one of two replicas every 4 s (alternating), restart it 1 s later',
    async disrupt(run, durationMs) {
      // Kills are due on the clock (3 s, 7 s, …), not 3 s after a restart, which may take seconds.
      const t0 = performance.now();
      for (let k = 0, t = 3000; t < durationMs - 1000; k++, t += 4000) {
        await sleep(t - (performance.now() - t0));
        const r = run.replicas[k % 2]!;
        run.log(`  kill -9 replica ${k % 2} (pid ${r.proc?.pid})`);
        await r.proc?.kill();
        run.facts.kills = (run.facts.kills ?? 0) + 1;
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
            where datname = ${run.db} and application_name = 'dispatch'`;
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
    shouldComplete: (e, run) => {
      if (e.agent !== 'agent-0') return true;
      run.held.push(e);
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
      for (const e of run.held) {
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
  {
    name: 'neighbour-faults',
    description:
      'replicas on the PromptForge/Warren/Alexandria fakes (half the tasks owned); after 3 s all three answer 500, ' +
      'then hold every request 10 s, then answer garbage (HTML, truncated JSON, wrong types), a third of the rest each; then healed',
    neighbours: true,
    taskFields: (i) => (i % 2 === 0 ? { owner: OWNER } : {}),
    async disrupt(run, durationMs) {
      const fakes = run.fakes!;
      const phaseMs = Math.max(1500, (durationMs - 5000) / 3);
      const garbage: FailureMode[] = [{ kind: 'html' }, { kind: 'truncated' }, { kind: 'wrong_types' }];
      const all = [fakes.warren, fakes.promptforge, fakes.alexandria];
      const phases: Array<{ name: string; start(): Promise<void> }> = [
        { name: '500s', start: async () => fakes.failAll({ kind: 'status', status: 500 }) },
        { name: '10 s hangs', start: async () => fakes.failAll({ kind: 'slow', ms: 10_000 }) },
        {
          // Each fake its own kind of garbage, rotated three times, so every kind reaches every client.
          name: 'garbage',
          start: async () => {
            for (let j = 0; j < 3; j++) {
              all.forEach((f, k) => f.fail(garbage[(j + k) % 3]!));
              await sleep(phaseMs / 3);
            }
          },
        },
      ];
      await sleep(3000);
      for (const p of phases) {
        run.log(`  neighbours: ${p.name} for ${(phaseMs / 1000).toFixed(1)} s`);
        const before = await observe(run);
        const ended = sleep(phaseMs);
        await p.start();
        await ended;
        const after = await observe(run);
        run.facts[`neighbour calls during ${p.name}`] = after.calls - before.calls;
        run.extra.push(`${p.name} ${(phaseMs / 1000).toFixed(1)} s: ${describePhase(before, after)}`);
      }
      fakes.healAll();
      run.log('  neighbours healed');
      run.healedAt = await observe(run);
    },
    async after(run) {
      const end = await observe(run);
      const at = run.healedAt!;
      run.facts['completed after healing'] = end.completed - at.completed;
      run.extra.push(`after healing: ${end.assigned - at.assigned} assigned, ${end.completed - at.completed} completed`);
    },
  },
];

interface Observation {
  assigned: number;
  completed: number;
  calls: number;
  /** /health of replica 0: status and the three neighbours' checks. */
  health: string;
  /** Pending tasks by unmatched reason. */
  waiting: string;
}

async function observe(run: Run): Promise<Observation> {
  const [counts] = await run.sql<{ assigned: number; completed: number }[]>`
    select count(*) filter (where type = 'assigned')::int as assigned, count(*) filter (where type = 'completed')::int as completed
    from task_events`;
  const waiting = await run.sql<{ reason: string; n: number }[]>`
    select coalesce(unmatched_reason, 'none yet') as reason, count(*)::int as n from tasks where status = 'pending' group by 1 order by 2 desc`;
  const h = await health(run.replicas[0]!.proc!.opsUrl, 1500);
  const c = h?.checks ?? {};
  const fakes = run.fakes!;
  return {
    assigned: counts?.assigned ?? 0,
    completed: counts?.completed ?? 0,
    calls: fakes.warren.calls.length + fakes.promptforge.calls.length + fakes.alexandria.calls.length,
    health: h ? `${h.status} (warren ${c.warren}, promptforge ${c.promptforge}, alexandria ${c.alexandria})` : 'no answer',
    waiting: waiting.map((w) => `${w.n} ${w.reason}`).join(', ') || 'none',
  };
}

function describePhase(a: Observation, b: Observation): string {
  return `${b.assigned - a.assigned} assigned, ${b.calls - a.calls} neighbour calls, /health ${b.health}, pending at the end: ${b.waiting}`;
}

export interface ChaosOptions {
  /** Creates per second and for how long. */
  rate: number;
  durationMs: number;
  /** How the simulated workers hear of their assignments. */
  notify: 'nats' | 'poll';
  /** The database to create (and drop afterwards) on `pg`; default `chaos`. */
  db?: string;
  /** How long to wait for every task to finish after the load (default 90 s). */
  drainMs?: number;
  log?: (m: string) => void;
}

export type ChaosRow = Verdict & { extra: string[]; facts: Record<string, number>; lateAccepted: number };

export function scenariosNamed(names: string[]): Scenario[] {
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return SCENARIOS.filter((s) => names.includes(s.name));
}

/** Every invariant held: nothing lost, duplicated, over the limit, missing, unfinished or accepted late. */
export function isClean(v: ChaosRow): boolean {
  return (
    v.lost === 0 &&
    v.duplicated === 0 &&
    v.breaches === 0 &&
    v.eventsMissing === 0 &&
    v.eventsDuplicated === 0 &&
    (v.natsMissing ?? 0) === 0 &&
    (v.natsDuplicated ?? 0) === 0 &&
    v.unfinished === 0 &&
    v.lateAccepted === 0
  );
}

export async function runScenario(pg: BenchPostgres, sc: Scenario, o: ChaosOptions): Promise<ChaosRow> {
  const log = o.log ?? ((m: string) => console.error(m));
  const db = o.db ?? 'chaos';
  const url = await pg.createDatabase(db);
  const m = connect(url, { max: 1 });
  await migrate(m);
  await m.end();
  const sql = connect(url, { max: 1, applicationName: 'chaos-checker' });
  const nats = await startNatsServer();
  const fakes = sc.neighbours ? await startFakes() : undefined;
  for (const [k, id] of agentIds(AGENTS).entries()) {
    fakes?.addAgent(id, ['bench'], 'ready');
    fakes?.alexandria.addDevice(OWNER, id, k % 2 ? 'identifier' : 'name');
  }
  const replicas: Replica[] = [];
  for (let k = 0; k < 2; k++) replicas.push({ port: await freePort(), metricsPort: await freePort() });
  const run: Run = {
    pg,
    db,
    url,
    sql,
    nats,
    replicas,
    log,
    ...(fakes ? { fakes } : {}),
    held: [],
    extra: [],
    facts: {},
    async startReplica(k) {
      const r = replicas[k]!;
      r.proc = await startDispatch({
        databaseUrl: url,
        natsUrl: nats.url,
        agents: AGENTS,
        maxConcurrent: LIMIT,
        tickMs: 200,
        wakeTimeoutMs: sc.wakeTimeoutMs ?? 120_000,
        port: r.port,
        metricsPort: r.metricsPort,
        // Short caches, so that the faults reach every client during the run.
        ...(fakes ? { neighbours: fakes.config, extra: { promptforge: { refresh_interval_ms: 1000 }, alexandria: { cache_ttl_ms: 1000 } } } : {}),
      });
    },
  };
  const apiUrls = replicas.map((r) => `http://127.0.0.1:${r.port}`);
  const http = new MultiHttp(apiUrls);
  try {
    await Promise.all([run.startReplica(0), run.startReplica(1)]);
    const workers = await startWorkers({
      mode: o.notify,
      natsUrl: nats.url,
      apiUrl: apiUrls,
      ...(sc.shouldComplete ? { shouldComplete: (e: AssignedEvent) => sc.shouldComplete!(e, run) } : {}),
    });
    const acknowledged = new Set<string>();
    let liveBreaches = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        liveBreaches += await sampleBreaches(sql, LIMIT).catch(() => 0);
        await sleep(200);
      }
    })();
    log(`[${sc.name}] ${sc.description}; ${o.rate} tasks/s for ${o.durationMs / 1000} s`);
    const [load] = await Promise.all([
      openLoop({
        rate: o.rate,
        durationMs: o.durationMs,
        send: async (i) => {
          const body = { title: `chaos ${i}`, capabilities: ['bench'], max_retries: 5, ...sc.taskFields?.(i) };
          const res = await http.request(
            'POST',
            '/api/v1/tasks',
            { 'x-agent-id': `chaos-producer-${i % 4}`, 'content-type': 'application/json' },
            JSON.stringify(body),
          );
          if (res.status === 201) acknowledged.add(res.body.id);
          else throw new Error(`create → ${res.status}`);
        },
      }),
      sc.disrupt(run, o.durationMs),
    ]);
    // Heal: every replica up, then drain.
    for (let k = 0; k < replicas.length; k++) if (!replicas[k]!.proc || replicas[k]!.proc!.exited()) await run.startReplica(k);
    const count = async (q: Promise<{ n: number }[]>) => (await q.catch(() => [{ n: -1 }]))[0]?.n;
    const drainMs = o.drainMs ?? 90_000;
    await waitFor(
      async () => (await count(sql`select count(*)::int as n from tasks where status not in ('completed', 'failed', 'timed_out', 'cancelled')`)) === 0,
      drainMs,
      250,
    );
    await waitFor(async () => (await count(sql`select count(*)::int as n from task_events_unpublished`)) === 0, Math.min(drainMs, 30_000), 250);
    sampling = false;
    await sampler;
    await sc.after?.(run, http);
    await workers.close();
    const verdict = await checkInvariants(sql, { acknowledged, limit: LIMIT, liveBreaches, natsUrl: nats.url });
    if (load.failed) run.extra.push(`creates not acknowledged: ${load.failed} (${load.errors.slice(0, 2).join('; ')})`);
    return { ...verdict, lateAccepted: run.lateAccepted ?? 0, extra: run.extra, facts: run.facts };
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
    await http.close();
    for (const r of replicas) await r.proc?.stop().catch(() => {});
    await nats.stop();
    // A fake that got a call it was not built for says so here (and in the row's notes).
    await fakes?.close().catch((err: Error) => run.extra.push(err.message));
    await pg.dropDatabase(db).catch(() => {});
  }
}

export function chaosTable(rows: Array<{ name: string; v: ChaosRow }>): string {
  const n = (x: number | null) => (x === null ? 'n/a' : String(x));
  return markdownTable(
    [
      'scenario',
      'tasks',
      'lost',
      'duplicated',
      'limit breaches',
      'events missing/dup (DB)',
      'events missing/dup (NATS)',
      'unfinished',
      'late reports accepted',
      'notes',
    ],
    rows.map(({ name, v }) => [
      name,
      v.tasks,
      v.lost,
      v.duplicated,
      v.breaches,
      `${v.eventsMissing}/${v.eventsDuplicated}`,
      `${n(v.natsMissing)}/${n(v.natsDuplicated)}`,
      v.unfinished,
      v.lateAccepted,
      [...v.extra, ...v.notes].join('; '),
    ]),
  );
}
