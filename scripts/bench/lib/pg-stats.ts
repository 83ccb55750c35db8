// Postgres commits per task: the xact_commit delta of the benchmark's database in
// pg_stat_database. Backends flush their counters at most once a second and on exit, so callers
// read the end value after the system under test closed its connections (or waited > 1 s).
import postgres from 'postgres';

export async function xactCommits(adminUrl: string, db: string): Promise<number> {
  const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await a`select pg_stat_clear_snapshot()`;
    const rows = await a<{ n: string }[]>`select xact_commit::text as n from pg_stat_database where datname = ${db}`;
    return Number(rows[0]?.n ?? NaN);
  } finally {
    await a.end();
  }
}

/** DISPATCH_BENCH_STATEMENTS=1: the benchmark Postgres loads pg_stat_statements (postgres.ts). */
export const STATEMENTS = process.env.DISPATCH_BENCH_STATEMENTS === '1';

/** Forget the statement statistics so far (no-op unless STATEMENTS). */
export async function resetStatements(url: string): Promise<void> {
  if (!STATEMENTS) return;
  const a = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await a`create extension if not exists pg_stat_statements`;
    await a`select pg_stat_statements_reset()`;
  } finally {
    await a.end();
  }
}

/**
 * The statements of `db` since the reset, top 30 by calls (or by total time), with calls per task
 * (no-op unless STATEMENTS).
 */
export async function printStatements(url: string, db: string, tasks: number, log: (m: string) => void, by: 'calls' | 'time' = 'calls'): Promise<void> {
  if (!STATEMENTS) return;
  const a = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await a<{ calls: string; plans: string; rows: string; ms: number; mean: number; max: number; plan: number; query: string }[]>`
      select s.calls::text, s.plans::text, s.rows::text, s.total_exec_time as ms, s.mean_exec_time as mean, s.max_exec_time as max,
             case when s.plans > 0 then s.total_plan_time / s.plans else 0 end as plan,
             regexp_replace(s.query, '\\s+', ' ', 'g') as query
      from pg_stat_statements s join pg_database d on d.oid = s.dbid
      where d.datname = ${db} order by ${by === 'time' ? a`s.total_exec_time` : a`s.calls`} desc limit 30`;
    const total = rows.reduce((n, r) => n + Number(r.calls), 0);
    log(`  statements: ${(total / Math.max(1, tasks)).toFixed(2)} per task (top 30 by ${by})`);
    for (const r of rows)
      log(
        `  ${(Number(r.calls) / Math.max(1, tasks)).toFixed(2).padStart(6)}/task ${r.ms.toFixed(0).padStart(6)} ms (rows ${(Number(r.rows) / Math.max(1, Number(r.calls))).toFixed(1)}, mean ${r.mean.toFixed(2)}, max ${r.max.toFixed(1)}${r.plan > 0 ? `, planning ${r.plan.toFixed(2)} × ${(Number(r.plans) / Math.max(1, Number(r.calls))).toFixed(2)}` : ''})  ${r.query.slice(0, 140)}`,
      );
  } finally {
    await a.end();
  }
}
