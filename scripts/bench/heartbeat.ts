// Heartbeat scenario (Dispatch only, §16.1): `--heartbeat-tasks` (default 0: off) running tasks
// whose workers each POST /heartbeat every second for `--heartbeat-s` (20) s, on one Dispatch
// process, against an idle window of the same length with the same tasks held and no beats.
// What the beats cost:
//   - database writes: pg_stat_database xact_commit and tup_updated deltas of the benchmark's
//     database per second, heartbeat window minus idle window (counters flush ≤ 1 s: read 1.5 s
//     after each window);
//   - what they cost Postgres: WAL bytes per second (pg_stat_wal, the whole server: nothing else
//     writes during the bench), the share of row updates that were HOT (pg_stat_user_tables, the
//     benchmark's database: a HOT update adds no index entry), and the server's CPU (/proc);
//   - Dispatch CPU (/proc/<pid>/stat) % of one core, both windows;
//   - the beats actually sent per second (a loaded box may send fewer than asked).
import postgres from 'postgres';
import { Agent, request } from 'undici';
import { connect, migrate } from '../../src/store/db.js';
import { sleep } from './lib/child.js';
import { startDispatch } from './lib/dispatch-proc.js';
import type { BenchPostgres } from './lib/postgres.js';
import { CpuGroups, ProcSampler } from './lib/proc.js';
import { fmt, markdownTable } from './lib/table.js';

const DB = 'bench_heartbeat';
const PER_AGENT = 50;

export interface HeartbeatBenchOptions {
  tasks: number;
  windowMs: number;
  log?: (m: string) => void;
}

interface Window {
  commitsPerS: number;
  updatesPerS: number;
  cpuPct: number;
  /** WAL bytes written per second (the whole server). */
  walPerS: number;
  /** HOT updates among the database's row updates in the window, 0..1 (NaN: none). */
  hotShare: number;
  /** The Postgres server's CPU, % of one core (NaN: its processes are not on this machine). */
  pgCpuPct: number;
}

export interface HeartbeatResult {
  tasks: number;
  windowS: number;
  beatsPerS: number;
  refused: number;
  idle: Window;
  beating: Window;
}

async function dbCounters(adminUrl: string, url: string): Promise<{ commits: number; updates: number; wal: number; upd: number; hot: number }> {
  const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const d = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await a`select pg_stat_clear_snapshot()`;
    const [r] = await a<{ c: string; u: string; w: string }[]>`
      select xact_commit::text as c, tup_updated::text as u, (select wal_bytes::text from pg_stat_wal) as w
      from pg_stat_database where datname = ${DB}`;
    const [t] = await d<{ upd: string; hot: string }[]>`
      select coalesce(sum(n_tup_upd), 0)::text as upd, coalesce(sum(n_tup_hot_upd), 0)::text as hot from pg_stat_user_tables`;
    return { commits: Number(r?.c ?? NaN), updates: Number(r?.u ?? NaN), wal: Number(r?.w ?? NaN), upd: Number(t?.upd ?? NaN), hot: Number(t?.hot ?? NaN) };
  } finally {
    await a.end();
    await d.end();
  }
}

export async function runHeartbeatBench(pg: BenchPostgres, o: HeartbeatBenchOptions): Promise<HeartbeatResult> {
  const log = o.log ?? ((m: string) => console.error(m));
  log(`[dispatch] heartbeats: ${o.tasks} running tasks beating every second for ${o.windowMs / 1000} s`);
  const url = await pg.createDatabase(DB);
  const mig = connect(url, { max: 1 });
  await migrate(mig);
  await mig.end();
  const agents = Math.ceil(o.tasks / PER_AGENT);
  const d = await startDispatch({ databaseUrl: url, agents, maxConcurrent: PER_AGENT, tickMs: 1000, wakeTimeoutMs: 3_600_000 });
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  const http = new Agent({ connections: 32, pipelining: 1 });
  const call = async (method: 'POST', path: string, agent: string, body?: unknown) => {
    const res = await request(`${d.apiUrl}${path}`, {
      method,
      dispatcher: http,
      headers: { 'x-agent-id': agent, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    await res.body.dump();
    return res.statusCode;
  };
  try {
    for (let i = 0; i < o.tasks; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, o.tasks - i) }, async (_, k) => {
          const s = await call('POST', '/api/v1/tasks', 'bench', { title: `hb ${i + k}`, timeout_ms: 3_600_000, heartbeat_timeout_ms: 60_000 });
          if (s !== 201) throw new Error(`create → ${s}`);
        }),
      );
    }
    let held: { id: string; assignee: string }[] = [];
    for (const until = Date.now() + 60_000; Date.now() < until; await sleep(500)) {
      held = await sql<{ id: string; assignee: string }[]>`select id, assignee from tasks where status in ('assigned','running')`;
      if (held.length >= o.tasks) break;
    }
    if (held.length < o.tasks) log(`[dispatch] heartbeats: only ${held.length} of ${o.tasks} tasks assigned`);
    // First progress: the tasks are running, as a worker's would be.
    for (let i = 0; i < held.length; i += 50)
      await Promise.all(held.slice(i, i + 50).map((t) => call('POST', `/api/v1/tasks/${t.id}/progress`, t.assignee, {})));
    await sleep(1500);

    const measure = async (beat: boolean): Promise<{ window: Window; beats: number; refused: number }> => {
      const c0 = await dbCounters(pg.adminUrl, url);
      const cpu = new ProcSampler(d.pid);
      cpu.start();
      const serverPids = pg.serverPids?.bind(pg);
      const pgCpu = serverPids ? new CpuGroups({ Postgres: serverPids }) : undefined;
      pgCpu?.start();
      const t0 = performance.now();
      let beats = 0;
      let refused = 0;
      for (let sec = 0; sec < o.windowMs / 1000; sec++) {
        const tick = t0 + (sec + 1) * 1000;
        if (beat) {
          for (let i = 0; i < held.length; i += 100) {
            const codes = await Promise.all(held.slice(i, i + 100).map((t) => call('POST', `/api/v1/tasks/${t.id}/heartbeat`, t.assignee)));
            beats += codes.filter((s) => s === 204).length;
            refused += codes.filter((s) => s !== 204).length;
          }
        }
        await sleep(Math.max(0, tick - performance.now()));
      }
      const wallS = (performance.now() - t0) / 1000;
      const usage = cpu.stop();
      const pgSeconds = pgCpu?.stop().Postgres;
      await sleep(1500); // backends flush their counters at most once a second
      const c1 = await dbCounters(pg.adminUrl, url);
      return {
        window: {
          commitsPerS: (c1.commits - c0.commits) / wallS,
          updatesPerS: (c1.updates - c0.updates) / wallS,
          cpuPct: usage.cpuPct,
          walPerS: (c1.wal - c0.wal) / wallS,
          hotShare: c1.upd > c0.upd ? (c1.hot - c0.hot) / (c1.upd - c0.upd) : NaN,
          pgCpuPct: pgSeconds === undefined ? NaN : (100 * pgSeconds) / wallS,
        },
        beats: beats / wallS,
        refused,
      };
    };
    const idle = await measure(false);
    const beating = await measure(true);
    return {
      tasks: held.length,
      windowS: o.windowMs / 1000,
      beatsPerS: beating.beats,
      refused: beating.refused,
      idle: idle.window,
      beating: beating.window,
    };
  } finally {
    await http.close();
    await sql.end();
    await d.stop();
    await pg.dropDatabase(DB);
  }
}

export function heartbeatTable(h: HeartbeatResult): string {
  const rows: string[][] = [
    ['heartbeats sent / s (204)', `${fmt(h.beatsPerS, 0)} (refused: ${h.refused})`],
    [
      'DB commits / s: idle → beating (cost)',
      `${fmt(h.idle.commitsPerS, 1)} → ${fmt(h.beating.commitsPerS, 1)} (+${fmt(h.beating.commitsPerS - h.idle.commitsPerS, 1)})`,
    ],
    [
      'DB rows updated / s: idle → beating (cost)',
      `${fmt(h.idle.updatesPerS, 1)} → ${fmt(h.beating.updatesPerS, 1)} (+${fmt(h.beating.updatesPerS - h.idle.updatesPerS, 1)})`,
    ],
    ['HOT share of row updates: idle → beating', `${fmt(100 * h.idle.hotShare, 0)} % → ${fmt(100 * h.beating.hotShare, 0)} %`],
    [
      'WAL KB / s: idle → beating (cost)',
      `${fmt(h.idle.walPerS / 1024, 0)} → ${fmt(h.beating.walPerS / 1024, 0)} (+${fmt((h.beating.walPerS - h.idle.walPerS) / 1024, 0)})`,
    ],
    ['Postgres CPU % of one core: idle → beating', `${fmt(h.idle.pgCpuPct, 1)} → ${fmt(h.beating.pgCpuPct, 1)}`],
    ['Dispatch CPU % of one core: idle → beating', `${fmt(h.idle.cpuPct, 0)} → ${fmt(h.beating.cpuPct, 0)}`],
  ];
  return [`Heartbeats: ${h.tasks} running tasks, one beat per task per second, ${h.windowS} s windows`, '', markdownTable(['figure', 'value'], rows)].join(
    '\n',
  );
}
