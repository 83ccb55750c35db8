import { afterAll, describe, expect, it } from 'vitest';
import { TASK_STATUSES } from '../src/core/task.js';
import { connect, migrate, readMigrations } from '../src/store/db.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

describe('migrations', () => {
  it('two processes migrating one empty database at once apply each migration exactly once', async () => {
    const db = await createTestDatabase({ template: null });
    dbs.push(db);
    const a = connect(db.url, { max: 1 });
    const b = connect(db.url, { max: 1 });
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
    await Promise.all([a.end(), b.end()]);
    const all = readMigrations().map((m) => m.name);
    expect([...ra, ...rb].sort()).toEqual(all.sort());
    const rows = await db.sql<{ name: string; n: number }[]>`select name, count(*)::int as n from schema_migrations group by name`;
    expect(rows.map((r) => r.name).sort()).toEqual(all.sort());
    expect(rows.every((r) => r.n === 1)).toBe(true);
    // A later start applies nothing.
    expect(await migrate(db.sql)).toEqual([]);
  });

  it('the status CHECK constraint allows exactly the TypeScript statuses', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const [row] = await db.sql<{ def: string }[]>`
      select pg_get_constraintdef(c.oid) as def from pg_constraint c
      where c.conrelid = 'tasks'::regclass and c.contype = 'c' and pg_get_constraintdef(c.oid) like '%status%ANY%'`;
    const inDb = [...row!.def.matchAll(/'([a-z_]+)'::text/g)].map((m) => m[1]).sort();
    expect(inDb).toEqual([...TASK_STATUSES].sort());
  });
});
