// A Postgres primary with a synchronous streaming standby, from the server binaries of the
// machine (Debian's `postgresql` package: /usr/lib/postgresql/<version>/bin), both on free loopback
// ports in a temp dir: the failover test and the `pg-failover` chaos scenario (CONTRACT §23). The
// standby is a pg_basebackup -R of the primary, which lists it in synchronous_standby_names, so a
// commit is acknowledged only once the standby has it. killPrimary() is a crash (SIGKILL to the
// postmaster and every backend), promote() is `pg_ctl promote`.
//
// Postgres refuses to run as root: as root, every server binary runs as the `postgres` user (the
// data directories are given to it); as anyone else, as that user.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, appendFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { freePort } from '../../src/store/embedded.js';
import { waitFor } from './wait.js';

const SEARCH = '/usr/lib/postgresql';
const NEEDED = ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'];

/** The directory holding initdb, pg_ctl and pg_basebackup: DISPATCH_TEST_PG_BIN, else the newest under /usr/lib/postgresql. */
export function postgresBin(): string {
  const given = process.env.DISPATCH_TEST_PG_BIN;
  const candidates = given
    ? [given]
    : existsSync(SEARCH)
      ? readdirSync(SEARCH)
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => path.join(SEARCH, v, 'bin'))
      : [];
  const bin = candidates.find((d) => NEEDED.every((b) => existsSync(path.join(d, b))));
  if (!bin) {
    throw new Error(
      `the Postgres failover test needs the Postgres server binaries (${NEEDED.join(', ')}), looked for in ${given ?? `${SEARCH}/<version>/bin`}: ` +
        'install them with `apt-get install -y postgresql` (Debian; `npm test` does it when run as root), or set DISPATCH_TEST_PG_BIN to their directory',
    );
  }
  return bin;
}

export interface PgPair {
  primaryPort: number;
  standbyPort: number;
  /** Server version (e.g. "15.8"). */
  version: string;
  /** `postgres://postgres@127.0.0.1:<primary>,127.0.0.1:<standby>/<db>?target_session_attrs=read-write`. */
  url(db: string): string;
  /** A URL of one node only (the checker's, a test's admin connection). */
  nodeUrl(node: 'primary' | 'standby', db: string): string;
  /** SIGKILL the primary's postmaster and all its backends, and wait until they are gone. */
  killPrimary(): Promise<void>;
  /** `pg_ctl promote -w` on the standby: it accepts writes when this resolves. */
  promote(): Promise<void>;
  stop(): Promise<void>;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

function runAs(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function chownTree(dir: string, as: RunAs): void {
  if (as.uid === undefined) return;
  chownSync(dir, as.uid, as.gid!);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) chownTree(p, as);
    else chownSync(p, as.uid, as.gid!);
  }
}

/** Run a server binary to completion (as `postgres` when root); its output in the error when it fails. */
function run(bin: string, args: string[], as: RunAs, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { ...as, cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', PGTZ: 'UTC' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(bin)} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The postmaster's pid and its children's (the backends, walsender, checkpointer, ...). */
function serverPids(dataDir: string): number[] {
  const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return [pid, ...children];
}

export async function startPgPair(): Promise<PgPair> {
  const bin = postgresBin();
  const as = runAs();
  const root = mkdtempSync(path.join(tmpdir(), 'dispatch-pg-pair-'));
  chmodSync(root, 0o755);
  chownTree(root, as);
  const primaryDir = path.join(root, 'primary');
  const standbyDir = path.join(root, 'standby');
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  const b = (name: string) => path.join(bin, name);
  const pgCtl = (dir: string, ...args: string[]) => run(b('pg_ctl'), ['-D', dir, ...args], as, root);
  const started: string[] = [];
  const stop = async () => {
    for (const dir of started) {
      if (existsSync(path.join(dir, 'postmaster.pid'))) await pgCtl(dir, '-m', 'immediate', '-w', 'stop').catch(() => {});
    }
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await run(b('initdb'), ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], as, root);
    // fsync off: the failure here is a process crash, not the machine's (the page cache survives a
    // SIGKILL), and the shared test box is slow to flush. synchronous_commit stays on: a commit
    // returns once the standby has flushed it (written, without fsync), which is what is tested.
    appendFileSync(
      path.join(primaryDir, 'postgresql.conf'),
      [
        "listen_addresses = '127.0.0.1'",
        `port = ${primaryPort}`,
        "unix_socket_directories = ''",
        'fsync = off',
        'max_connections = 200',
        'max_wal_senders = 5',
        "wal_keep_size = '128MB'",
        "synchronous_standby_names = '*'",
        'synchronous_commit = on',
        "cluster_name = 'primary'",
        '',
      ].join('\n'),
    );
    await pgCtl(primaryDir, '-l', path.join(root, 'primary.log'), '-w', '-t', '60', 'start');
    started.push(primaryDir);
    await run(
      b('pg_basebackup'),
      ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standbyDir, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync'],
      as,
      root,
    );
    // The standby's own settings after the copied ones (the last line wins). Once promoted it runs
    // alone: it must not wait for a standby of its own.
    appendFileSync(
      path.join(standbyDir, 'postgresql.conf'),
      [`port = ${standbyPort}`, "synchronous_standby_names = ''", "cluster_name = 'standby'", ''].join('\n'),
    );
    await pgCtl(standbyDir, '-l', path.join(root, 'standby.log'), '-w', '-t', '60', 'start');
    started.push(standbyDir);
    const nodeUrl = (node: 'primary' | 'standby', db: string) => `postgres://postgres@127.0.0.1:${node === 'primary' ? primaryPort : standbyPort}/${db}`;
    const admin = postgres(nodeUrl('primary', 'postgres'), { max: 1, onnotice: () => {} });
    let version = '';
    try {
      await waitFor(
        async () => (await admin<{ sync_state: string }[]>`select sync_state from pg_stat_replication`).some((r) => r.sync_state === 'sync'),
        'the standby to stream synchronously',
        30_000,
        50,
      );
      version = (await admin<{ v: string }[]>`select current_setting('server_version') as v`)[0]!.v;
    } finally {
      await admin.end();
    }
    return {
      primaryPort,
      standbyPort,
      version,
      url: (db) => `postgres://postgres@127.0.0.1:${primaryPort},127.0.0.1:${standbyPort}/${db}?target_session_attrs=read-write`,
      nodeUrl,
      async killPrimary() {
        const pids = serverPids(primaryDir);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await waitFor(() => pids.every((p) => !alive(p)), 'the primary to be gone', 10_000);
      },
      async promote() {
        await pgCtl(standbyDir, '-w', '-t', '60', 'promote');
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
