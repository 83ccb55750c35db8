// Schedule scenario (Dispatch only): `--schedules` (1000) schedules firing every second
// (`* * * * * *`, overlap allow, catch_up all) for `--schedule-s` (30) s, on one Dispatch
// process with no agents (the tasks stay pending: only firing is measured).
//   - lag: occurrence → task created, i.e. the task's created_at minus its scheduled_for (both
//     written by Dispatch in the firing transaction's clock reading), p50/p99/max;
//   - exactly once: tasks per (schedule_id, scheduled_for) at the end (must all be 1);
//   - cost (DISPATCH_BENCH_STATEMENTS=1): pg_stat_statements over the window, all statements of
//     the database and those of the firing path, per occurrence; Dispatch CPU over the window.
import postgres from 'postgres';
import { request } from 'undici';
import { connect, migrate } from '../../src/store/db.js';
import { sleep } from './lib/child.js';
import { startDispatch } from './lib/dispatch-proc.js';
import { LatencyRecorder, type LatencySummary } from './lib/latency.js';
import { resetStatements, STATEMENTS } from './lib/pg-stats.js';
import type { BenchPostgres } from './lib/postgres.js';
import { ProcSampler } from './lib/proc.js';
import { fmt, markdownTable } from './lib/table.js';

const DB = 'bench_schedule';

export interface ScheduleBenchOptions {
  schedules: number;
  windowMs: number;
  log?: (m: string) => void;
}

export interface ScheduleResult {
  schedules: number;
  windowS: number;
  expected: number;
  tasks: number;
  duplicates: number;
  lag: LatencySummary;
  cpuPct: number;
  cpuSPerOccurrence: number;
  peakRssMb: number;
  statements?: {
    perOccurrence: number;
    pgMsPerOccurrence: number;
    firingPerOccurrence: number;
    firingPgMsPerOccurrence: number;
    top: { calls: number; ms: number; query: string }[];
  };
}

export async function runScheduleBench(pg: BenchPostgres, o: ScheduleBenchOptions): Promise<ScheduleResult> {
  const log = o.log ?? ((m: string) => console.error(m));
  log(`[dispatch] schedules: ${o.schedules} schedules every second for ${o.windowMs / 1000} s`);
  const url = await pg.createDatabase(DB);
  const mig = connect(url, { max: 1 });
  await migrate(mig);
  await mig.end();
  const d = await startDispatch({ databaseUrl: url, agents: 0, tickMs: 5000 });
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  try {
    // Occurrences start at a whole second after every schedule exists; the window holds windowS occurrences each.
    const startAt = Math.ceil((Date.now() + 5000 + o.schedules * 5) / 1000) * 1000;
    const endAt = startAt + o.windowMs - 1000;
    const body = (i: number) =>
      JSON.stringify({
        name: `bench-${i}`,
        cron: '* * * * * *',
        overlap: 'allow',
        catch_up: 'all',
        start_at: new Date(startAt).toISOString(),
        end_at: new Date(endAt).toISOString(),
        task: { title: `tick ${i}`, scope: 'bench' },
      });
    for (let i = 0; i < o.schedules; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, o.schedules - i) }, async (_, k) => {
          const res = await request(`${d.apiUrl}/api/v1/schedules`, {
            method: 'POST',
            headers: { 'x-agent-id': 'bench', 'content-type': 'application/json' },
            body: body(i + k),
          });
          await res.body.dump();
          if (res.statusCode !== 201) throw new Error(`create schedule → ${res.statusCode}`);
        }),
      );
    }
    if (Date.now() > startAt - 1000) log('[dispatch] schedules: creating them took longer than planned; the first occurrences may be late');
    await sleep(Math.max(0, startAt - 500 - Date.now()));
    await resetStatements(pg.adminUrl);
    const cpu = new ProcSampler(d.pid);
    cpu.start();
    const expected = o.schedules * (o.windowMs / 1000);
    const deadline = endAt + 30_000;
    let tasks = 0;
    while (Date.now() < deadline) {
      await sleep(500);
      tasks = (await sql<{ n: number }[]>`select count(*)::int as n from tasks`)[0]!.n;
      if (Date.now() > endAt && tasks >= expected) break;
    }
    const usage = cpu.stop();
    let statements: ScheduleResult['statements'];
    if (STATEMENTS) {
      const a = postgres(pg.adminUrl, { max: 1, onnotice: () => {} });
      try {
        const rows = await a<{ calls: string; ms: number; query: string }[]>`
          select s.calls::text, s.total_exec_time as ms, regexp_replace(s.query, '\\s+', ' ', 'g') as query
          from pg_stat_statements s join pg_database db on db.oid = s.dbid where db.datname = ${DB} order by s.calls desc`;
        const all = rows.map((r) => ({ calls: Number(r.calls), ms: r.ms, query: r.query }));
        const firing = all.filter(
          (r) => /schedule|insert into tasks|jsonb_populate_recordset\(null::tasks/.test(r.query) && !/pg_stat_statements/.test(r.query),
        );
        const sum = (xs: typeof all, k: 'calls' | 'ms') => xs.reduce((n, r) => n + r[k], 0);
        statements = {
          perOccurrence: sum(all, 'calls') / Math.max(1, tasks),
          pgMsPerOccurrence: sum(all, 'ms') / Math.max(1, tasks),
          firingPerOccurrence: sum(firing, 'calls') / Math.max(1, tasks),
          firingPgMsPerOccurrence: sum(firing, 'ms') / Math.max(1, tasks),
          top: all.slice(0, 12).map((r) => ({ ...r, query: r.query.slice(0, 140) })),
        };
      } finally {
        await a.end();
      }
    }
    const lagRows = await sql<
      { ms: number }[]
    >`select (extract(epoch from created_at - scheduled_for) * 1000)::float8 as ms from tasks where schedule_id is not null`;
    const lag = new LatencyRecorder();
    for (const r of lagRows) lag.add(r.ms);
    const [dup] = await sql<
      { n: number }[]
    >`select (count(*) - count(distinct (schedule_id, scheduled_for)))::int as n from tasks where schedule_id is not null`;
    return {
      schedules: o.schedules,
      windowS: o.windowMs / 1000,
      expected,
      tasks: lagRows.length,
      duplicates: dup!.n,
      lag: lag.summary(),
      cpuPct: usage.cpuPct,
      cpuSPerOccurrence: usage.cpuS / Math.max(1, lagRows.length),
      peakRssMb: usage.peakRssMb,
      ...(statements ? { statements } : {}),
    };
  } finally {
    await sql.end();
    await d.stop();
    await pg.dropDatabase(DB);
  }
}

export function scheduleTable(s: ScheduleResult): string {
  const rows: string[][] = [
    ['tasks created / expected', `${s.tasks} / ${s.expected}`],
    ['duplicates (tasks per occurrence > 1)', String(s.duplicates)],
    ['occurrence → task created p50 / p99 / max ms', `${fmt(s.lag.p50)} / ${fmt(s.lag.p99)} / ${fmt(s.lag.max)}`],
    ['Dispatch CPU % of one core (window)', fmt(s.cpuPct, 0)],
    ['Dispatch CPU ms per occurrence', fmt(s.cpuSPerOccurrence * 1000, 3)],
    ['peak RSS MB', fmt(s.peakRssMb, 0)],
  ];
  if (s.statements) {
    rows.push(['statements per occurrence (all / firing path)', `${fmt(s.statements.perOccurrence, 3)} / ${fmt(s.statements.firingPerOccurrence, 3)}`]);
    rows.push([
      'Postgres exec ms per occurrence (all / firing path)',
      `${fmt(s.statements.pgMsPerOccurrence, 3)} / ${fmt(s.statements.firingPgMsPerOccurrence, 3)}`,
    ]);
  }
  const parts = [`Schedules: ${s.schedules} × \`* * * * * *\` for ${s.windowS} s`, '', markdownTable(['figure', 'value'], rows)];
  if (s.statements) {
    parts.push(
      '',
      markdownTable(
        ['calls', 'total ms', 'statement'],
        s.statements.top.map((r) => [String(r.calls), fmt(r.ms), r.query]),
      ),
    );
  }
  return parts.join('\n');
}
