// Connections and migrations. The only other place SQL lives is store/*.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from 'pino';

export type Sql = postgres.Sql<Record<string, never>>;
export type Tx = postgres.TransactionSql<Record<string, never>>;
/** Either a pool or a transaction: store functions accept both. */
export type Db = Sql | Tx;

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const MIGRATION_LOCK = 0x64697370; // 'disp'

/**
 * Backoff (seconds) before a pool's connection tries again after a failed connect: 50 ms doubling
 * to 1 s, with jitter. postgres.js' own grows to 20 s (3^n / 100), so after a failover of ~10 s a
 * pool would wait up to ~7 s more before it even tried the new primary.
 */
export function reconnectBackoff(retries: number): number {
  return Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2);
}

/** The hosts of a Postgres URL (`postgres://u:p@h1:5432,h2:5433/db`): several mean failover. */
export function databaseHosts(url: string): string[] {
  const m = /^[a-z]+:\/\/(?:[^@/]*@)?([^/?]*)/i.exec(url);
  return (m?.[1] ?? '').split(',').filter((h) => h !== '');
}

export function connect(url: string, opts: { max?: number; applicationName?: string } = {}): Sql {
  // Several hosts: the primary is whichever accepts writes (CONTRACT §23). postgres.js makes one
  // pass over them per connection attempt (scripts/patch-deps.mjs), skipping a standby when
  // target_session_attrs=read-write, which is the default here unless the URL says otherwise.
  const multiHost = databaseHosts(url).length > 1 && !/[?&]target_session_attrs=/.test(url);
  return postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    idle_timeout: 30,
    connect_timeout: 10,
    backoff: reconnectBackoff,
    ...(multiHost ? { target_session_attrs: 'read-write' as const } : {}),
    connection: { application_name: opts.applicationName ?? 'dispatch' },
    types: {
      // bigint (count(*), bigserial) as JS number: our counts stay far below 2^53.
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
  }) as unknown as Sql;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** sha256 of the file text with line endings normalised; see migrationChecksum. */
  checksum: string;
}

/**
 * The checksum that freezes a migration: sha256 (hex) of its text with CRLF/CR turned into LF, so
 * a checkout with `core.autocrlf` does not count as an edit. Shared by migrate(), the committed
 * manifest (migrations/checksums.txt and migrations/checksums/*.sha256) and its script, which must all agree byte for byte.
 */
export function migrationChecksum(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n?/g, '\n'), 'utf8').digest('hex');
}

export const MIGRATION_FILE = /^\d{4}_[a-z0-9_]+\.sql$/;

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => MIGRATION_FILE.test(f))
    .sort()
    .map((f) => {
      const sql = readFileSync(path.join(dir, f), 'utf8');
      return { version: Number(f.slice(0, 4)), name: f, sql, checksum: migrationChecksum(sql) };
    });
  // The version is schema_migrations' key: two files sharing one would leave the second unapplied.
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(`two migrations share version ${migrations[i]!.version}: ${migrations[i - 1]!.name}, ${migrations[i]!.name}`);
    }
  }
  return migrations;
}

/** One applied migration whose file changed, was renamed, or is gone. */
export interface MigrationProblem {
  /** The name recorded in schema_migrations when it was applied. */
  name: string;
  /** The checksum recorded when it was applied; null for a row from before checksums. */
  recorded: string | null;
  /** The checksum of the file now at that version; null when no file has that version. */
  actual: string | null;
  /** The file now at that version when it has another name than the one applied. */
  renamedTo?: string;
}

/**
 * The database has applied migrations that no longer match migrations/: starting would run code
 * against a schema it was not written for, so migrate() refuses and applies nothing.
 */
/**
 * migrate() refused: an operator's problem, not a bug — the message says what to do, `details`
 * is what to log. The start prints it without a stack and exits 2, like a ConfigError.
 */
export abstract class MigrationError extends Error {
  abstract readonly details: Record<string, unknown>;
}

export class MigrationChecksumError extends MigrationError {
  get details() {
    return { migrations: this.problems };
  }

  constructor(readonly problems: MigrationProblem[]) {
    const lines = problems.map((p) => {
      const applied = `${p.name}: applied with sha256 ${p.recorded ?? '(not recorded)'}`;
      if (p.actual === null) return `${applied}, but the file no longer exists`;
      if (p.renamedTo) return `${applied}, but the file is now ${p.renamedTo} (sha256 ${p.actual})`;
      return `${applied}, but the file now has sha256 ${p.actual}`;
    });
    super(
      `applied migrations do not match migrations/:\n  - ${lines.join('\n  - ')}\n` +
        'migrations are frozen once they land: restore the file and add a new migration',
    );
    this.name = 'MigrationChecksumError';
  }
}

/**
 * A migration not yet applied is numbered below one that is (two branches took numbers in
 * parallel, or a file was renumbered): applying it now would run it against a schema it was not
 * written after, and a replica that applied the set in order would have another history. Refused;
 * it needs a number after the latest applied.
 */
export class MigrationOrderError extends MigrationError {
  get details() {
    return { pending: this.pending, latest: this.latest };
  }

  constructor(
    readonly pending: string[],
    readonly latest: string,
  ) {
    super(
      `migrations not applied yet are numbered below ${latest}, which is:\n  - ${pending.join('\n  - ')}\n` +
        `a new migration must come after every applied one: renumber it after ${latest}`,
    );
    this.name = 'MigrationOrderError';
  }
}

/**
 * Migrations that landed twice under two numbers: stop 30 landed the lean engine's six as
 * 0018–0023, stop 31 renumbered them 0031–0036 (a few comments changed with the numbers) and
 * landed that, and stop 32 landed 0018–0023 again. Databases exist with either set recorded, and
 * both files of each pair are frozen, so both stay. Each pair is one change: whichever of the two
 * a database applied, the other is recorded as applied without running (a fresh database runs
 * 0018–0023 and records 0031–0036), and it never counts as applied out of order.
 */
export const MIGRATION_TWINS: ReadonlyMap<number, number> = new Map(
  [18, 19, 20, 21, 22, 23].flatMap((v): [number, number][] => [
    [v, v + 13],
    [v + 13, v],
  ]),
);

/**
 * Migrations that landed with two texts: stop 31 landed 0030 without its redefinition of
 * dispatch_assign (needless once the twins above came after it), stops 30 and 32 with it. A later
 * migration redefines dispatch_assign either way, so both lead to the same schema; a database
 * that recorded either checksum is accepted (test/migrations.test.ts, with stop 31's text as a fixture).
 */
export const MIGRATION_VARIANTS: ReadonlyMap<string, readonly string[]> = new Map([
  ['0030_input_required.sql', ['1f7b50ab8d54d065bc639a3cd0bd84fded49d40d9390000c81bc701d35535cae']],
]);

/**
 * Apply pending migrations in one transaction under an advisory lock, so replicas starting
 * together apply each exactly once. Returns the names applied by this call.
 *
 * Every applied migration must still match its file (name and checksum): otherwise this throws a
 * MigrationChecksumError and, the transaction rolling back, applies and records nothing.
 */
export async function migrate(sql: Sql, log?: Logger, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = readMigrations(dir);
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`create table if not exists schema_migrations (
      version integer primary key, name text not null, applied_at timestamptz not null default now())`;
    await tx`alter table schema_migrations add column if not exists checksum text`;
    const rows = await tx<{ version: number; name: string; checksum: string | null }[]>`
      select version, name, checksum from schema_migrations order by version`;
    const problems: MigrationProblem[] = [];
    for (const r of rows) {
      const m = byVersion.get(r.version);
      if (r.checksum === null) {
        // Applied before checksums were recorded: trust the current file (there is nothing older to
        // compare with) and record its checksum, so any edit from now on is caught. A missing file
        // still fails below; a rename is caught by the name check.
        if (m && m.name === r.name) {
          await tx`update schema_migrations set checksum = ${m.checksum} where version = ${r.version}`;
          log?.info({ migration: m.name }, 'migration checksum recorded');
          continue;
        }
      }
      if (!m) problems.push({ name: r.name, recorded: r.checksum, actual: null });
      else if (m.name !== r.name) problems.push({ name: r.name, recorded: r.checksum, actual: m.checksum, renamedTo: m.name });
      else if (m.checksum !== r.checksum && !(r.checksum !== null && MIGRATION_VARIANTS.get(m.name)?.includes(r.checksum)))
        problems.push({ name: r.name, recorded: r.checksum, actual: m.checksum });
    }
    if (problems.length > 0) throw new MigrationChecksumError(problems);
    const done = new Set(rows.map((r) => r.version));
    const twinDone = (m: Migration) => done.has(MIGRATION_TWINS.get(m.version) ?? -1);
    const latest = rows.at(-1);
    const early = latest ? migrations.filter((m) => !done.has(m.version) && !twinDone(m) && m.version < latest.version) : [];
    if (early.length > 0)
      throw new MigrationOrderError(
        early.map((m) => m.name),
        latest!.name,
      );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      const twin = twinDone(m);
      if (!twin) await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`;
      done.add(m.version);
      if (twin) {
        log?.info({ migration: m.name }, 'migration recorded: its twin was applied');
        continue;
      }
      applied.push(m.name);
      log?.info({ migration: m.name }, 'migration applied');
    }
    return applied;
  });
}

export async function pingDatabase(sql: Sql, timeoutMs = 1000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      sql`select 1`.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** What one server of the database URL is, as seen by a probe of its own (not the pool). */
export interface HostProbe {
  host: string;
  state: 'primary' | 'standby' | 'read-only' | 'unreachable';
  /** Why it is unreachable: the driver's or the server's code (ECONNREFUSED, 57P03, ...). */
  error?: string;
}

/**
 * Connect to each host of the pool's URL on its own (one connection each, `timeoutMs` to connect)
 * and say what it is. For /health while the pool has no database: which host is down, which is
 * still a standby (its promotion not done yet). Run only then: it opens a connection per host.
 */
export async function probeHosts(sql: Sql, timeoutMs = 700): Promise<HostProbe[]> {
  const o = sql.options as unknown as { host: string[]; port: number[]; user: string; pass: string | null; database: string; ssl: unknown };
  return Promise.all(
    o.host.map(async (host, i) => {
      const port = o.port[i] ?? o.port[0] ?? 5432;
      const name = `${host}:${port}`;
      const probe = postgres({
        host,
        port,
        user: o.user,
        ...(o.pass ? { pass: o.pass } : {}),
        database: o.database,
        ssl: o.ssl as never,
        max: 1,
        connect_timeout: timeoutMs / 1000,
        fetch_types: false,
        onnotice: () => {},
        connection: { application_name: 'dispatch-health' },
      });
      try {
        const [r] = await probe<{ standby: boolean; ro: string }[]>`
          select pg_is_in_recovery() as standby, current_setting('transaction_read_only') as ro`;
        const state: HostProbe['state'] = r?.standby ? 'standby' : r?.ro === 'on' ? 'read-only' : 'primary';
        return { host: name, state };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        return { host: name, state: 'unreachable' as const, error: typeof code === 'string' ? code : (err as Error).message };
      } finally {
        void probe.end({ timeout: 0 }).catch(() => {});
      }
    }),
  );
}

/** /health's sentence for a database it cannot use: what it is waiting for, host by host. */
export function describeDatabaseWait(probes: HostProbe[]): string {
  const parts = probes.map((p) =>
    p.state === 'unreachable'
      ? `${p.host} unreachable (${p.error})`
      : p.state === 'primary'
        ? `${p.host} is a writable primary (reconnecting to it)`
        : `${p.host} is ${p.state === 'standby' ? 'a standby (not promoted)' : 'read-only'}`,
  );
  return `${probes.length > 1 ? 'a writable primary among its hosts' : 'the database'}: ${parts.join('; ')}`;
}

/** Deadlock and serialization failures: the transaction did nothing and may simply run again. */
const RETRYABLE_TX_CODES = new Set(['40P01', '40001']);

/**
 * Run `fn` in one transaction; one that lost a deadlock (two cascades locking overlapping
 * downstream sets from different roots) is run again, at most `attempts` times in all.
 */
export async function inTransaction<T>(sql: Sql, fn: (tx: Tx) => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return (await sql.begin(fn)) as T;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (i >= attempts || typeof code !== 'string' || !RETRYABLE_TX_CODES.has(code)) throw err;
    }
  }
}
