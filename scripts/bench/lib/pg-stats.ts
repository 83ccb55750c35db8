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
