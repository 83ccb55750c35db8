// One migrated database on the bench Postgres, reached through ONE connection, and the CPU its
// server backend spends (/proc/<pid>/stat): what row-cost.ts and statement-cost.ts measure
// statements by, less exposed to the box's noise than a whole run.
import { connect, migrate, type Sql } from '../../../src/store/db.js';
import { startBenchPostgres } from './postgres.js';
import { cpuSeconds } from './proc.js';

export interface Backend {
  sql: Sql;
  /** The backend's CPU µs per call of `fn`, over `calls` sequential calls. */
  cpuPerCall(calls: number, fn: (i: number) => Promise<unknown>): Promise<number>;
}

/** Runs `body` against a fresh migrated database `name`; stops the connection and Postgres after. */
export async function withBackend(name: string, body: (b: Backend) => Promise<void>): Promise<void> {
  const pg = await startBenchPostgres();
  const sql = connect(await pg.createDatabase(name), { max: 1 });
  try {
    await migrate(sql);
    const pid = (await sql<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
    await body({
      sql,
      async cpuPerCall(calls, fn) {
        const c0 = cpuSeconds(pid);
        for (let i = 0; i < calls; i++) await fn(i);
        return (1e6 * (cpuSeconds(pid) - c0)) / calls;
      },
    });
  } finally {
    await sql.end();
    await pg.stop();
  }
}
