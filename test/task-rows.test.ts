// store/tasks.ts taskRowOf: the hot reads rebuild the driver's row as one object literal (V8 keeps
// the driver's rows as dictionaries, ~10× slower to copy). It must keep every column, with its
// value: a column a migration adds and the rebuild leaves out would silently vanish from every
// decision made on such a row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertTask } from './helpers/factories.js';
import { getTaskRow, getVersionedTaskRow, taskRowOf, versionedRowOf } from '../src/store/tasks.js';
import type { TaskRow, VersionedRow } from '../src/store/tasks.js';

describe('task rows as the hot reads hand them out', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('keep every column of the table, with the same values, and the version', async () => {
    const t = await insertTask(db.sql, { capabilities: ['x'], context: { a: 1 }, status: 'running', assignee: 'w1' });
    const [raw] = await db.sql<VersionedRow[]>`select *, xmin::text as version from tasks where id = ${t.id}`;
    const columns = (
      await db.sql<{ name: string }[]>`
      select attname as name from pg_attribute where attrelid = 'tasks'::regclass and attnum > 0 and not attisdropped`
    ).map((c) => c.name);
    expect(Object.keys(taskRowOf(raw!)).sort()).toEqual([...columns].sort());
    expect(versionedRowOf(raw!)).toEqual(raw);
    expect(await getVersionedTaskRow(db.sql, t.id)).toEqual(raw);
    const { version: _v, ...plain } = raw!;
    expect(await getTaskRow(db.sql, t.id)).toEqual(plain as TaskRow);
  });
});
