// A query in flight when the server ends its session (pg_terminate_backend, a failover's kill, a
// restart) must fail (57P01 or CONNECTION_CLOSED), and the connection's next query must run on a
// new session as if nothing had happened (scripts/patch-deps.mjs, patch 5). The driver as
// published got both wrong: the next startup replayed the old query's error onto the next query
// (single host), and with several hosts a connection's first query was neither failed nor retried
// (here it never settles). A lost LISTEN was one result: the re-LISTEN after a
// reconnect failed that way, silently, and the channel was never listened to again.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect, type Sql } from '../src/store/db.js';
import { freePort } from '../src/store/embedded.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { waitFor } from './helpers/wait.js';

let db: TestDatabase;
let admin: postgres.Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  admin = postgres(inject('pgAdminUrl'), { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await admin.end();
  await db.drop();
});

/** Start `select pg_sleep(30)` on `sql` under `app`, wait until the server runs it, then end that session. */
async function terminateInFlight(sql: Sql, app: string): Promise<unknown> {
  const sleeping = sql`select pg_sleep(30)`.then(
    () => 'resolved',
    (e: unknown) => e,
  );
  const [row] = await waitFor(async () => {
    const rows = await admin<{ pid: number }[]>`
        select pid from pg_stat_activity where application_name = ${app} and query like 'select pg_sleep%' and state = 'active'`;
    return rows.length ? rows : undefined;
  }, `the sleep to run under ${app}`);
  await admin`select pg_terminate_backend(${row!.pid})`;
  return sleeping;
}

describe('the postgres driver when the server ends a session under a running query', () => {
  it('fails that query, and the next query on the pool runs (one host)', async () => {
    const sql = connect(db.url, { max: 1, applicationName: 'terminated-one-host' });
    try {
      await sql`select 1`; // the session is open before the query that will be cut
      const err = await terminateInFlight(sql, 'terminated-one-host');
      expect(['57P01', 'CONNECTION_CLOSED']).toContain((err as { code?: string }).code);
      // Not the old session's error replayed onto a query that never ran.
      const [row] = await sql<{ n: number }[]>`select 2 as n`;
      expect(row!.n).toBe(2);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  it("fails a new connection's first query too, and the next query runs (several hosts)", async () => {
    const u = new URL(db.url);
    const url = `postgres://${u.username}:${u.password}@127.0.0.1:${await freePort()},${u.host}${u.pathname}`;
    const sql = connect(url, { max: 1, applicationName: 'terminated-two-hosts' });
    try {
      // The sleep is the connection's first query: it is still "connecting" while it runs.
      const err = await terminateInFlight(sql, 'terminated-two-hosts');
      expect(['57P01', 'CONNECTION_CLOSED']).toContain((err as { code?: string }).code);
      const [row] = await sql<{ n: number }[]>`select 3 as n`;
      expect(row!.n).toBe(3);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
