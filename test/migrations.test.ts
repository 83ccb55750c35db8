import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TASK_STATUSES } from '../src/core/task.js';
import {
  connect,
  migrate,
  MigrationChecksumError,
  migrationChecksum,
  MigrationOrderError,
  MIGRATION_TWINS,
  MIGRATION_VARIANTS,
  MIGRATIONS_DIR,
  readMigrations,
} from '../src/store/db.js';
import { checkManifest, MANIFEST_FILE } from '../scripts/migrations-manifest.js';
import { renderSchema } from '../scripts/schema.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const dbs: TestDatabase[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function database(opts: { template?: string | null } = {}): Promise<TestDatabase> {
  const db = await createTestDatabase(opts);
  dbs.push(db);
  return db;
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-migrations-'));
  dirs.push(dir);
  return dir;
}

/** A copy of migrations/ to change without touching the real one. */
function migrationsCopy(): string {
  const dir = tempDir();
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function recorded(db: TestDatabase): Promise<Record<string, string | null>> {
  const rows = await db.sql<{ name: string; checksum: string | null }[]>`select name, checksum from schema_migrations order by version`;
  return Object.fromEntries(rows.map((r) => [r.name, r.checksum]));
}

const fileChecksums = (dir = MIGRATIONS_DIR) => Object.fromEntries(readMigrations(dir).map((m) => [m.name, m.checksum]));

async function tableExists(db: TestDatabase, name: string): Promise<boolean> {
  const [row] = await db.sql<{ t: string | null }[]>`select to_regclass(${name})::text as t`;
  return row?.t != null;
}

async function migrateError(p: Promise<unknown>): Promise<MigrationChecksumError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MigrationChecksumError);
  return err as MigrationChecksumError;
}

describe('migrations are frozen once they land', () => {
  it(`every landed migration matches its entry in migrations/${MANIFEST_FILE}, and every migration has one`, () => {
    const check = checkManifest();
    expect(check.problems, 'landed migrations changed; migrations are frozen once they land: restore the file and add a new migration').toEqual([]);
    expect(
      check.unlisted.map((m) => m.name),
      `migrations without an entry in migrations/${MANIFEST_FILE}: run \`npm run migrations:manifest\` and commit the result`,
    ).toEqual([]);
    expect(check.entries.length).toBeGreaterThan(0);
  });

  it('the manifest check catches an edited, a removed and an unlisted migration', () => {
    const dir = migrationsCopy();
    const [first, second] = readMigrations(dir);
    writeFileSync(path.join(dir, first!.name), `${first!.sql}\n-- edited\n`);
    unlinkSync(path.join(dir, second!.name));
    writeFileSync(path.join(dir, '9999_new.sql'), 'select 1;\n');
    const check = checkManifest(dir);
    expect(check.problems).toHaveLength(2);
    expect(check.problems[0]).toContain(first!.name);
    expect(check.problems[1]).toContain(`${second!.name} (sha256 ${second!.checksum}) has landed but the file no longer exists`);
    expect(check.unlisted.map((m) => m.name)).toEqual(['9999_new.sql']);
  });

  it('the checksum ignores line endings and is the sha256 of the text', () => {
    expect(migrationChecksum('a\r\nb\rc\n')).toBe(migrationChecksum('a\nb\nc\n'));
    expect(migrationChecksum('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('records each applied migration with its checksum', async () => {
    const db = await database({ template: null });
    await migrate(db.sql);
    expect(await recorded(db)).toEqual(fileChecksums());
  });

  it('the twins (0018–0023 landed again as 0031–0036): a database with either set recorded upgrades to the same schema, every file recorded', async () => {
    const fresh = await database({ template: null });
    const ran = await migrate(fresh.sql);
    // A fresh database runs one of each pair and records the other.
    expect(ran.some((n) => n.startsWith('0018_'))).toBe(true);
    expect(ran.some((n) => n.startsWith('0031_'))).toBe(false);
    expect(await recorded(fresh)).toEqual(fileChecksums());
    const schema = await renderSchema(fresh.sql);
    // Stop 31 landed 0031–0036 only, and its own text of 0030 (MIGRATION_VARIANTS); stops 30 and 32 landed 0018–0023 only.
    for (const [gone, ran, stop31] of [
      [/^00(1[89]|2[0-3])_/, '0031_', true],
      [/^003[1-6]_/, '0018_', false],
    ] as const) {
      const dir = migrationsCopy();
      for (const f of readdirSync(dir)) if (gone.test(f)) unlinkSync(path.join(dir, f));
      if (stop31) cpSync(new URL('./fixtures/migrations/0030_input_required.stop31.sql', import.meta.url), path.join(dir, '0030_input_required.sql'));
      const db = await database({ template: null });
      expect((await migrate(db.sql, undefined, dir)).some((n) => n.startsWith(ran))).toBe(true);
      // Today's set on top: the missing twins are recorded, not run (running them again would fail).
      const applied = await migrate(db.sql);
      expect(applied.filter((n) => /^00(1[89]|2[0-3]|3[1-6])_/.test(n))).toEqual([]);
      expect(await recorded(db)).toEqual(
        stop31 ? { ...fileChecksums(), '0030_input_required.sql': MIGRATION_VARIANTS.get('0030_input_required.sql')![0] } : fileChecksums(),
      );
      expect(await renderSchema(db.sql)).toBe(schema);
    }
  });

  it('a migration file edited after it was applied stops migrate() with both checksums, applying nothing', async () => {
    const db = await database();
    const dir = migrationsCopy();
    const last = readMigrations(dir).at(-1)!;
    const edited = `${last.sql}\n-- a later edit\n`;
    writeFileSync(path.join(dir, last.name), edited);
    writeFileSync(path.join(dir, '9999_later.sql'), 'create table later_one (id int);\n');
    const err = await migrateError(migrate(db.sql, undefined, dir));
    expect(err.problems).toEqual([{ name: last.name, recorded: last.checksum, actual: migrationChecksum(edited) }]);
    expect(err.message).toContain(`${last.name}: applied with sha256 ${last.checksum}, but the file now has sha256 ${migrationChecksum(edited)}`);
    expect(err.message).toContain('migrations are frozen once they land: restore the file and add a new migration');
    expect(await tableExists(db, 'later_one')).toBe(false);
    expect(await recorded(db)).toEqual(fileChecksums());
  });

  it('a migration numbered below an applied one is refused, naming both, and nothing is applied', async () => {
    const db = await database();
    const dir = migrationsCopy();
    const latest = readMigrations(dir).at(-1)!;
    // 0002 and 0003 were never used: a late branch's file there comes before everything applied.
    writeFileSync(path.join(dir, '0002_late_branch.sql'), 'create table late_one (id int);\n');
    writeFileSync(path.join(dir, '9999_later.sql'), 'create table later_one (id int);\n');
    const err = await migrate(db.sql, undefined, dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MigrationOrderError);
    expect((err as MigrationOrderError).pending).toEqual(['0002_late_branch.sql']);
    expect((err as Error).message).toContain(`renumber it after ${latest.name}`);
    expect(await tableExists(db, 'late_one')).toBe(false);
    expect(await tableExists(db, 'later_one')).toBe(false);
    // Renumbered after the latest, it applies.
    unlinkSync(path.join(dir, '0002_late_branch.sql'));
    writeFileSync(path.join(dir, '9998_late_branch.sql'), 'create table late_one (id int);\n');
    expect(await migrate(db.sql, undefined, dir)).toEqual(['9998_late_branch.sql', '9999_later.sql']);
  });

  it('a tampered recorded checksum stops migrate() and applies nothing, not even the backfill', async () => {
    const db = await database();
    const dir = migrationsCopy();
    writeFileSync(path.join(dir, '9999_later.sql'), 'create table later_one (id int);\n');
    const [first, , last] = readMigrations();
    await db.sql`update schema_migrations set checksum = ${'0'.repeat(64)} where name = ${last!.name}`;
    await db.sql`update schema_migrations set checksum = null where name = ${first!.name}`;
    const err = await migrateError(migrate(db.sql, undefined, dir));
    expect(err.problems).toEqual([{ name: last!.name, recorded: '0'.repeat(64), actual: last!.checksum }]);
    expect(await tableExists(db, 'later_one')).toBe(false);
    const after = await recorded(db);
    expect(after[first!.name]).toBeNull(); // the backfill rolled back with the rest
    expect(after[last!.name]).toBe('0'.repeat(64));
    expect(Object.keys(after)).not.toContain('9999_later.sql');
  });

  it('refuses a database that applied a migration whose file is gone, or was renamed', async () => {
    const db = await database();
    const dir = migrationsCopy();
    const [first, second] = readMigrations(dir);
    unlinkSync(path.join(dir, first!.name));
    const renamed = `${second!.name.slice(0, 5)}renamed.sql`;
    cpSync(path.join(dir, second!.name), path.join(dir, renamed));
    unlinkSync(path.join(dir, second!.name));
    const err = await migrateError(migrate(db.sql, undefined, dir));
    expect(err.problems).toEqual([
      { name: first!.name, recorded: first!.checksum, actual: null },
      { name: second!.name, recorded: second!.checksum, actual: second!.checksum, renamedTo: renamed },
    ]);
    expect(err.message).toContain(`${first!.name}: applied with sha256 ${first!.checksum}, but the file no longer exists`);
  });

  it('a schema_migrations table from before checksums gets the column and the current checksums', async () => {
    const db = await database();
    await db.sql`alter table schema_migrations drop column checksum`;
    expect(await migrate(db.sql)).toEqual([]);
    expect(await recorded(db)).toEqual(fileChecksums());
    // From then on an edit is caught.
    const dir = migrationsCopy();
    const last = readMigrations(dir).at(-1)!;
    writeFileSync(path.join(dir, last.name), `${last.sql}\n-- edited\n`);
    await migrateError(migrate(db.sql, undefined, dir));
  });

  it('a line-ending change alone is not an edit', async () => {
    const db = await database();
    const dir = migrationsCopy();
    for (const m of readMigrations(dir)) writeFileSync(path.join(dir, m.name), m.sql.replace(/\n/g, '\r\n'));
    expect(readFileSync(path.join(dir, readMigrations(dir)[0]!.name), 'utf8')).toContain('\r\n');
    expect(await migrate(db.sql, undefined, dir)).toEqual([]);
  });

  it('the service refuses to start on a changed migration: a message on stderr, exit 2, no stack', async () => {
    const db = await database();
    const last = readMigrations().at(-1)!;
    await db.sql`update schema_migrations set checksum = ${'f'.repeat(64)} where name = ${last.name}`;
    const cfg = path.join(tempDir(), 'config.yaml');
    writeFileSync(cfg, 'agents:\n  - { id: scout, capabilities: [research] }\n');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, DISPATCH_CONFIG: cfg, DISPATCH_DATABASE_URL: db.url, DISPATCH_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(2);
    expect(stderr).toContain(`dispatch: applied migrations do not match migrations/`);
    expect(stderr).toContain(`${last.name}: applied with sha256 ${'f'.repeat(64)}, but the file now has sha256 ${last.checksum}`);
    expect(stderr).toContain('restore the file and add a new migration');
    expect(stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});

describe('migrations', () => {
  it('two processes migrating one empty database at once apply each migration exactly once', async () => {
    const db = await database({ template: null });
    const a = connect(db.url, { max: 1 });
    const b = connect(db.url, { max: 1 });
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
    await Promise.all([a.end(), b.end()]);
    const all = readMigrations().map((m) => m.name);
    // Run: every migration but the later twin of each pair (recorded without running).
    const run = readMigrations()
      .filter((m) => !((MIGRATION_TWINS.get(m.version) ?? Infinity) < m.version))
      .map((m) => m.name);
    expect([...ra, ...rb].sort()).toEqual(run.sort());
    const rows = await db.sql<{ name: string; n: number }[]>`select name, count(*)::int as n from schema_migrations group by name`;
    expect(rows.map((r) => r.name).sort()).toEqual(all.sort());
    expect(rows.every((r) => r.n === 1)).toBe(true);
    expect(await recorded(db)).toEqual(fileChecksums());
    // A later start applies nothing.
    expect(await migrate(db.sql)).toEqual([]);
  });

  it("the status column's CHECK (its domain's, migration 0068) allows exactly the TypeScript statuses", async () => {
    const db = await database();
    const [row] = await db.sql<{ def: string }[]>`
      select pg_get_constraintdef(c.oid) as def from pg_constraint c join pg_attribute a on a.atttypid = c.contypid
      where a.attrelid = 'tasks'::regclass and a.attname = 'status' and c.contype = 'c' and c.convalidated`;
    const inDb = [...row!.def.matchAll(/'([a-z_]+)'::text/g)].map((m) => m[1]).sort();
    expect(inDb).toEqual([...TASK_STATUSES].sort());
  });

  it('the one-column guards as domains (0068) still refuse a bad value, written as a row or set as a column, and change nothing', async () => {
    const db = await database();
    const id = '00000000-0000-4000-8000-000000000068';
    await db.sql`insert into tasks (id, title, requester, timeout_ms, max_retries, queued_at, created_at, updated_at) values (${id}, 'guarded', 'r', 1000, 3, now(), now(), now())`;
    const refused = async (q: Promise<unknown>) =>
      expect(
        await q.then(
          () => 'written',
          (e: { code?: string }) => e.code,
        ),
      ).toBe('23514');
    // As the store writes rows: the task's JSON populated into a tasks record (here over the stored row, with a new id).
    for (const bad of [{ priority: 11 }, { status: 'lost' }, { title: '' }, { max_retries: 21 }, { timeout_ms: 0 }, { heartbeat_timeout_ms: 999 }])
      await refused(
        db.sql`insert into tasks select * from jsonb_populate_record((select t from tasks t where t.id = ${id}), ${db.sql.json({ id: crypto.randomUUID(), ...bad })}::jsonb)`,
      );
    await refused(db.sql`update tasks set priority = 11 where id = ${id}`);
    await refused(db.sql`update tasks set status = 'lost' where id = ${id}`);
    await refused(db.sql`update tasks set duration_ms = 999 where id = ${id}`);
    await refused(db.sql`update tasks set input_timeout_ms = 0 where id = ${id}`);
    const [t] = await db.sql<{ n: number; priority: number; status: string }[]>`
      select (select count(*)::int from tasks) as n, priority, status from tasks where id = ${id}`;
    expect(t).toEqual({ n: 1, priority: 5, status: 'pending' });
  });
});
