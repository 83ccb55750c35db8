// CONTRACT §23 in one process, without a standby: a two-host database.url whose first host is a
// closed port and whose second is the suite's Postgres, where the test database is made read-only
// (default_transaction_read_only, which a server reports at connect, like a standby) and writable
// again. What a failover asks of every pool: no host writable → requests answer 503 `unavailable`
// at once (no hang), /health says which host is what; a host writable again → every pool (the
// API's, the background one, the LISTEN connection) uses it without a restart. The real thing
// (a primary killed, its synchronous standby promoted) is test/failover.test.ts.
import postgres from 'postgres';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDispatch, type Dispatch } from '../src/app.js';
import { isDatabaseUnavailable } from '../src/http/errors.js';
import { callTool } from '../src/doors/mcp-tools.js';
import { connect, databaseHosts, type Sql } from '../src/store/db.js';
import { freePort } from '../src/store/embedded.js';
import { callApi, testConfig } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { waitFor } from './helpers/wait.js';

let db: TestDatabase;
let admin: postgres.Sql;
let name: string;
let url: string;

/**
 * Make the test database read-only for new sessions (or writable again) and end the sessions that
 * began before the change. A few rounds: a session still authenticating when the first round ran
 * is not yet listed under the database, and it keeps the setting it started with.
 */
async function setReadOnly(on: boolean): Promise<void> {
  await admin.unsafe(`alter database ${name} set default_transaction_read_only = ${on ? 'on' : 'off'}`);
  const [now] = await admin<{ t: Date }[]>`select clock_timestamp() as t`;
  const t = now!.t;
  for (let round = 0; round < 5; round++) {
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid() and backend_start <= ${t}`;
    await new Promise((r) => setTimeout(r, 30));
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  name = new URL(db.url).pathname.slice(1);
  admin = postgres(inject('pgAdminUrl'), { max: 1, onnotice: () => {} });
  const u = new URL(db.url);
  // A closed port first, then the real server; no target_session_attrs: connect() adds read-write.
  url = `postgres://${u.username}:${u.password}@127.0.0.1:${await freePort()},${u.host}${u.pathname}`;
});

afterAll(async () => {
  await admin.unsafe(`alter database ${name} reset default_transaction_read_only`).catch(() => {});
  await admin.end();
  await db.drop();
});

describe('a database URL with several hosts', () => {
  it('reads the hosts of a multi-host URL', () => {
    expect(databaseHosts('postgres://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write')).toEqual(['h1:5432', 'h2:5433']);
    expect(databaseHosts('postgres://h1/db')).toEqual(['h1']);
  });

  it('answers 503 while no host takes writes, says why on /health, and every pool finds the writable host again without a restart', async () => {
    const sql: Sql = connect(url, { max: 3 });
    const backgroundSql: Sql = connect(url, { max: 2 });
    const listenSql: Sql = connect(url, { max: 1 });
    let dispatch: Dispatch | undefined;
    try {
      dispatch = await createDispatch({ config: testConfig(), sql, backgroundSql, logger: pino({ level: 'silent' }) });
      const { apiUrl, opsUrl } = await dispatch.start();
      const created = await callApi(apiUrl, 'POST', '/api/v1/tasks', { body: { title: 'before' } });
      expect(created.status).toBe(201);
      // A LISTEN on a pool of the same URL, heard before the outage.
      const heard: string[] = [];
      await listenSql.listen('failover_probe', (p) => heard.push(p));
      await db.sql`select pg_notify('failover_probe', 'before')`;
      await waitFor(() => heard.includes('before'), 'the notification before the outage');

      await setReadOnly(true);
      // No host takes writes: a query fails (it does not hang) with an error answered 503.
      const err = await sql`select 1`.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isDatabaseUnavailable(err), String(err)).toBe(true);
      const during = await callApi(apiUrl, 'POST', '/api/v1/tasks', { body: { title: 'during' } });
      expect(during.status).toBe(503);
      expect(during.body).toEqual({ error: expect.any(String), code: 'unavailable' });
      // The MCP door says the same (a tool error with the contract's code, not `internal`).
      const tool = await callTool(dispatch.context, { agentId: 'tester', isAdmin: false }, 'get_task', { id: created.body.id });
      expect(tool).toMatchObject({ isError: true, structuredContent: { code: 'unavailable' } });
      const down = await request(`${opsUrl}/health`);
      expect(down.statusCode).toBe(503);
      const body = (await down.body.json()) as { status: string; waiting_for?: { database?: string } };
      expect(body.status).toBe('down');
      expect(body.waiting_for?.database).toMatch(/unreachable \(ECONNREFUSED\).*is read-only/);

      await setReadOnly(false);
      await waitFor(async () => (await request(`${opsUrl}/health`)).statusCode === 200, 'health ok again', 15_000, 100);
      const after = await callApi(apiUrl, 'POST', '/api/v1/tasks', { body: { title: 'after' } });
      expect(after.status).toBe(201);
      // The background pool too (the relay's): the create's events leave the outbox (no hermes.url: settled).
      await waitFor(
        async () => (await db.sql<{ n: number }[]>`select count(*)::int as n from task_events_unpublished`)[0]!.n === 0,
        'the relay to settle the outbox on the background pool',
        15_000,
        100,
      );
      // The LISTEN connection came back by itself: a notification sent now is heard.
      await waitFor(
        async () => {
          await db.sql`select pg_notify('failover_probe', 'after')`;
          return heard.includes('after');
        },
        'the LISTEN connection to come back',
        15_000,
        200,
      );
    } finally {
      await dispatch?.stop();
      await Promise.all([sql, backgroundSql, listenSql].map((s) => s.end({ timeout: 1 })));
    }
  }, 60_000);
});
