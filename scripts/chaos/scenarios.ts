// The chaos scenarios and their runner: two Dispatch replicas on one database, simulated workers
// completing what they are assigned, a steady open-loop load of creates while one scenario breaks
// something, a drain, then the invariant checker (checker.ts). Used by `npm run chaos` (index.ts)
// and, short, by `npm test` (test/chaos-fast.test.ts).
import { connect, migrate, type Sql } from '../../src/store/db.js';
import { freePort } from '../../src/store/embedded.js';
import type { FailureMode } from '../../test/fakes/base.js';
import { startFakes, type Fakes } from '../../test/fakes/neighbours.js';
import { startNatsServer, type NatsServer } from '../../test/helpers/nats-server.js';
import { startNatsCluster, type NatsCluster } from '../../test/helpers/nats-cluster.js';
import { startPgPair, type PgPair } from '../../test/helpers/pg-pair.js';
import { natsServers } from '../../src/events/nats.js';
import { DEFAULT_STREAM } from '../../src/events/stream.js';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
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
  /** The shared Postgres (a scenario with `postgres: 'pair'` runs on its own pair instead). */
  pg: BenchPostgres;
  /** `postgres: 'pair'`: the primary and its synchronous standby the run's database lives on. */
  pair?: PgPair;
  /** The run's database (name and URL) and the checker's connection to it. */
  db: string;
  url: string;
  sql: Sql;
  /** The NATS the replicas publish to: one server, or a cluster (`url` lists them all). */
  nats: { url: string };
  /** The single server (absent with `nats: 'cluster'`). */
  natsServer?: NatsServer;
  natsCluster?: NatsCluster;
  /** Requests to the replicas (either one). */
  http: MultiHttp;
  /** The neighbour fakes, for a scenario with `neighbours`. */
  fakes?: Fakes;
  replicas: Replica[];
  startReplica(k: number): Promise<void>;
  /** Assignments a scenario's workers left alone (late-report). */
  held: AssignedEvent[];
  /** Statuses the creates were answered with (0: no answer). */
  createStatuses: Map<number, number>;
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
  /** `cluster`: a three-node JetStream cluster, streams created with 3 replicas (default: one server). */
  nats?: 'single' | 'cluster';
  /** `pair`: the run's own Postgres, a primary with a synchronous standby, reached by a two-host URL. */
  postgres?: 'shared' | 'pair';
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
      await run.natsServer!.kill();
      await sleep(5000);
      await run.natsServer!.restart();
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
  {
    name: 'nats-leader-kill',
    description:
      'a three-node JetStream cluster (hermes.url lists all three), streams with 3 replicas; the leader of the event stream killed (SIGKILL) mid-run and left down',
    nats: 'cluster',
    async disrupt(run) {
      const cluster = run.natsCluster!;
      await sleep(3000);
      const leader = await cluster.streamLeader(DEFAULT_STREAM);
      run.facts['stream replicas'] = await cluster.streamReplicas(DEFAULT_STREAM);
      const before = await streamMessages(run, DEFAULT_STREAM);
      run.log(`  kill -9 ${leader}, the leader of ${DEFAULT_STREAM} (${before} messages)`);
      const t0 = performance.now();
      await cluster.kill(leader);
      run.facts.killed = 1;
      let next: string | undefined;
      await waitFor(async () => {
        // Polled with a 1 s timeout (a poll during the election gets no answer): the figure is good to ~1 s.
        next = await cluster.streamLeader(DEFAULT_STREAM, 1000).catch(() => undefined);
        return next !== undefined && next !== leader;
      }, 30_000);
      const elected = performance.now() - t0;
      await waitFor(async () => (await streamMessages(run, DEFAULT_STREAM, 1000).catch(() => 0)) > before, 30_000, 100);
      const growing = performance.now() - t0;
      run.facts['new leader after (ms)'] = Math.round(elected);
      run.facts['stream growing again after (ms)'] = Math.round(growing);
      run.extra.push(
        `killed ${leader}; ${next ?? 'no one'} leads after ${(elected / 1000).toFixed(1)} s; the stream grows again ${(growing / 1000).toFixed(1)} s after the kill`,
      );
    },
  },
  {
    name: 'pg-failover',
    description:
      'Postgres primary with a synchronous standby (two-host database.url); the primary killed (SIGKILL, every backend) mid-run, the standby promoted 1 s later; a schedule firing every second and three tasks whose attempt times out after the failover',
    postgres: 'pair',
    shouldComplete: (e) => !String(e.task.title ?? '').startsWith('chaos timer'),
    async disrupt(run) {
      const pair = run.pair!;
      const json = { 'content-type': 'application/json' };
      const sched = await run.http.request(
        'POST',
        '/api/v1/schedules',
        { ...json, 'x-agent-id': 'chaos-scheduler' },
        JSON.stringify({
          name: 'chaos-every-second',
          cron: '* * * * * *',
          task: { title: 'chaos scheduled', capabilities: ['bench'], max_retries: 5 },
          overlap: 'allow',
          catch_up: 'none',
        }),
      );
      if (sched.status !== 201) throw new Error(`schedule create → ${sched.status} ${JSON.stringify(sched.body)}`);
      const timers: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await run.http.request(
          'POST',
          '/api/v1/tasks',
          { ...json, 'x-agent-id': 'chaos-timers' },
          JSON.stringify({ title: `chaos timer ${i}`, capabilities: ['bench'], timeout_ms: 8000, max_retries: 0 }),
        );
        if (res.status !== 201) throw new Error(`timer task create → ${res.status}`);
        timers.push(res.body.id);
      }
      const seen: string[] = [];
      const waits = new Set<string>();
      let watching = true;
      const watch = (async () => {
        while (watching) {
          const h = (await health(run.replicas[0]!.proc!.opsUrl, 1500)) as { status?: string; waiting_for?: Record<string, string> } | undefined;
          const st = h?.status ?? 'no answer';
          if (seen[seen.length - 1] !== st) seen.push(st);
          if (h?.waiting_for?.database) waits.add(h.waiting_for.database);
          await sleep(200);
        }
      })();
      await sleep(3000);
      run.log(`  kill -9 the primary (port ${pair.primaryPort})`);
      const killedAt = performance.now();
      await pair.killPrimary();
      await sleep(1000); // what a failover manager takes to notice
      await pair.promote();
      const promotedAt = performance.now();
      const promotedWall = Date.now();
      run.log(`  standby promoted (port ${pair.standbyPort})`);
      await waitFor(async () => (await Promise.all(run.replicas.map((r) => healthStatus(r.proc!.opsUrl, 1500)))).every((st) => st === 'ok'), 60_000, 100);
      const healthy = performance.now();
      run.facts['healthy after promotion (ms)'] = Math.round(healthy - promotedAt);
      run.facts['healthy after kill (ms)'] = Math.round(healthy - killedAt);
      await sleep(500);
      watching = false;
      await watch;
      run.extra.push(
        `both replicas healthy ${((healthy - promotedAt) / 1000).toFixed(1)} s after the promotion (${((healthy - killedAt) / 1000).toFixed(1)} s after the kill)`,
        `/health: ${seen.join(' → ')}`,
        ...[...waits].slice(0, 2).map((w) => `waiting for ${w}`),
      );
      // The schedule goes on: an occurrence fired after the promotion.
      const id = sched.body.id as string;
      const firedAfter = async () => {
        const res = await run.http.request('GET', `/api/v1/schedules/${id}/runs?limit=100`, { 'x-agent-id': 'chaos-scheduler' });
        const runs = (res.body?.runs ?? []) as Array<{ fired_at: string; outcome: string }>;
        return runs.filter((r) => r.outcome === 'fired' && Date.parse(r.fired_at) > promotedWall).length;
      };
      await waitFor(async () => (await firedAfter().catch(() => 0)) >= 3, 15_000, 200);
      run.facts['schedule runs after promotion'] = await firedAfter();
      await run.http.request('DELETE', `/api/v1/schedules/${id}`, { 'x-agent-id': 'chaos-scheduler' });
      // The timers go on: the three attempts end timed_out, after the promotion.
      const timedOut = async () => {
        let n = 0;
        for (const t of timers) {
          const res = await run.http.request('GET', `/api/v1/tasks/${t}`, { 'x-agent-id': 'chaos-timers' });
          if (res.body?.status === 'timed_out' && Date.parse(res.body.completed_at) > promotedWall) n++;
        }
        return n;
      };
      await waitFor(async () => (await timedOut().catch(() => 0)) === timers.length, 30_000, 200);
      run.facts['timers fired after promotion'] = await timedOut();
      run.extra.push(
        `schedule runs after the promotion: ${run.facts['schedule runs after promotion']}; timeouts after it: ${run.facts['timers fired after promotion']}/3`,
      );
    },
  },
];

/** Messages in a stream now, read from any live server of the run's NATS. */
async function streamMessages(run: Run, stream: string, timeoutMs = 5000): Promise<number> {
  const nc = await natsConnect({ servers: natsServers(run.nats.url), timeout: 3000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
    return (await jsm.streams.info(stream)).state.messages;
  } finally {
    await nc.close();
  }
}

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
    (v.natsOutOfOrder ?? 0) === 0 &&
    (v.facts['creates answered 500'] ?? 0) === 0 &&
    (v.facts['reports answered 500'] ?? 0) === 0 &&
    v.unfinished === 0 &&
    v.lateAccepted === 0
  );
}

export async function runScenario(pg: BenchPostgres, sc: Scenario, o: ChaosOptions): Promise<ChaosRow> {
  const log = o.log ?? ((m: string) => console.error(m));
  const db = o.db ?? 'chaos';
  const pair = sc.postgres === 'pair' ? await startPgPair() : undefined;
  let url: string;
  if (pair) {
    const admin = connect(pair.nodeUrl('primary', 'postgres'), { max: 1 });
    await admin.unsafe(`create database ${db}`);
    await admin.end();
    url = pair.url(db);
  } else url = await pg.createDatabase(db);
  const m = connect(url, { max: 1 });
  await migrate(m);
  await m.end();
  const sql = connect(url, { max: 1, applicationName: 'chaos-checker' });
  const natsCluster = sc.nats === 'cluster' ? await startNatsCluster(3) : undefined;
  const natsServer = natsCluster ? undefined : await startNatsServer();
  const nats = { url: natsCluster?.url ?? natsServer!.url };
  const fakes = sc.neighbours ? await startFakes() : undefined;
  for (const [k, id] of agentIds(AGENTS).entries()) {
    fakes?.addAgent(id, ['bench'], 'ready');
    fakes?.alexandria.addDevice(OWNER, id, k % 2 ? 'identifier' : 'name');
  }
  const replicas: Replica[] = [];
  for (let k = 0; k < 2; k++) replicas.push({ port: await freePort(), metricsPort: await freePort() });
  const apiUrls = replicas.map((r) => `http://127.0.0.1:${r.port}`);
  const http = new MultiHttp(apiUrls);
  const run: Run = {
    pg,
    ...(pair ? { pair } : {}),
    db,
    url,
    sql,
    nats,
    ...(natsServer ? { natsServer } : {}),
    ...(natsCluster ? { natsCluster } : {}),
    http,
    replicas,
    log,
    ...(fakes ? { fakes } : {}),
    held: [],
    createStatuses: new Map(),
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
        ...(fakes ? { neighbours: fakes.config } : {}),
        extra: {
          // Short caches, so that the faults reach every client during the run.
          ...(fakes ? { promptforge: { refresh_interval_ms: 1000 }, alexandria: { cache_ttl_ms: 1000 } } : {}),
          ...(natsCluster ? { hermes: { stream_replicas: 3 } } : {}),
        },
      });
    },
  };
  let workers: Awaited<ReturnType<typeof startWorkers>> | undefined;
  try {
    await Promise.all([run.startReplica(0), run.startReplica(1)]);
    workers = await startWorkers({
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
    const tally = (status: number) => run.createStatuses.set(status, (run.createStatuses.get(status) ?? 0) + 1);
    const [load] = await Promise.all([
      openLoop({
        rate: o.rate,
        durationMs: o.durationMs,
        send: async (i) => {
          const body = { title: `chaos ${i}`, capabilities: ['bench'], max_retries: 5, ...sc.taskFields?.(i) };
          const res = await http
            .request('POST', '/api/v1/tasks', { 'x-agent-id': `chaos-producer-${i % 4}`, 'content-type': 'application/json' }, JSON.stringify(body))
            .catch((err: unknown) => {
              tally(0);
              throw err;
            });
          tally(res.status);
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
    const { refusals } = workers;
    workers = undefined;
    const verdict = await checkInvariants(sql, { acknowledged, limit: LIMIT, liveBreaches, natsUrl: nats.url });
    if (load.failed) run.extra.push(`creates not acknowledged: ${load.failed} (${load.errors.slice(0, 2).join('; ')})`);
    // Answers other than 201 to a create, and to the workers' reports (a 500 is a bug: an outage is a 503).
    run.facts['creates answered 500'] = run.createStatuses.get(500) ?? 0;
    run.facts['reports answered 500'] = refusals.get(500) ?? 0;
    const others = [...run.createStatuses].filter(([st]) => st !== 201);
    if (others.length > 0) run.extra.push(`creates answered ${others.map(([st, n]) => `${st === 0 ? 'nothing' : st}×${n}`).join(', ')}`);
    const refused = [...refusals].filter(([st]) => st >= 500);
    if (refused.length > 0) run.extra.push(`reports answered ${refused.map(([st, n]) => `${st}×${n}`).join(', ')}`);
    return { ...verdict, lateAccepted: run.lateAccepted ?? 0, extra: run.extra, facts: run.facts };
  } finally {
    await workers?.close().catch(() => {});
    await sql.end({ timeout: 1 }).catch(() => {});
    await http.close();
    for (const r of replicas) await r.proc?.stop().catch(() => {});
    await natsServer?.stop();
    await natsCluster?.stop();
    // A fake that got a call it was not built for says so here (and in the row's notes).
    await fakes?.close().catch((err: Error) => run.extra.push(err.message));
    if (pair) await pair.stop();
    else await pg.dropDatabase(db).catch(() => {});
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
      'events missing/dup/out of order (NATS)',
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
      `${n(v.natsMissing)}/${n(v.natsDuplicated)}/${n(v.natsOutOfOrder)}`,
      v.unfinished,
      v.lateAccepted,
      [...v.extra, ...v.notes].join('; '),
    ]),
  );
}
