// Start a whole Dispatch (both servers on free ports) against a test database, the way main.ts
// does, with config overrides. `await using t = await startApp()` stops it at scope end.
import pino, { type Logger } from 'pino';
import { request } from 'undici';
import { loadConfig, type Config } from '../../src/config.js';
import { createDispatch, type Dispatch, type DispatchDeps } from '../../src/app.js';
import type { Clock, Random } from '../../src/ports.js';
import type { AuthFailureLimiter } from '../../src/http/auth.js';
import { connect, type Sql } from '../../src/store/db.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export const ADMIN_TOKEN = 'test-admin-token';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

export interface StartOptions {
  config?: DeepPartial<Config>;
  /** Reuse a database (e.g. a second replica); default: a fresh one, dropped at stop. */
  db?: TestDatabase;
  clock?: Clock;
  random?: Random;
  /** Failed-authentication limiter (token mode), e.g. one that never blocks. */
  authFailures?: AuthFailureLimiter;
  relay?: DispatchDeps['relay'];
  /** application_name of the service's pool (a test can find and terminate its backends). */
  applicationName?: string;
  /** Log level for the service under test (default silent; DISPATCH_TEST_LOG overrides). */
  logLevel?: string;
  /** A logger of the test's own (e.g. writing into a buffer); default pino at logLevel. */
  logger?: Logger;
}

export interface TestApp extends AsyncDisposable {
  dispatch: Dispatch;
  config: Config;
  db: TestDatabase;
  sql: Sql;
  apiUrl: string;
  opsUrl: string;
  /** JSON request against the API; `agent` sets X-Agent-ID (null: none), `admin` adds the bearer. */
  call(method: string, path: string, opts?: CallOptions): Promise<{ status: number; body: any; headers: Record<string, string | string[] | undefined> }>;
  stop(): Promise<void>;
}

export interface CallOptions {
  agent?: string | null;
  admin?: boolean;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export function testConfig(overrides: DeepPartial<Config> = {}): Config {
  return loadConfig({
    file: null,
    env: {},
    overrides: {
      server: { port: 0, metrics_port: 0, host: '127.0.0.1', admin_token: ADMIN_TOKEN },
      logging: { level: 'silent' },
      agents: [],
      ...overrides,
      ...(overrides.server ? { server: { port: 0, metrics_port: 0, host: '127.0.0.1', admin_token: ADMIN_TOKEN, ...overrides.server } } : {}),
    },
  });
}

export async function callApi(base: string, method: string, path: string, opts: CallOptions = {}) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const agent = opts.agent === undefined ? 'tester' : opts.agent;
  if (agent !== null) headers['x-agent-id'] = agent;
  if (opts.admin) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
  let body: string | Buffer | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await request(`${base}${path}`, { method: method as never, headers, body });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep text */
  }
  return { status: res.statusCode, body: parsed as any, headers: res.headers as Record<string, string | string[] | undefined> };
}

export async function startApp(opts: StartOptions = {}): Promise<TestApp> {
  const ownDb = !opts.db;
  const db = opts.db ?? (await createTestDatabase());
  const config = testConfig(opts.config);
  const level = process.env.DISPATCH_TEST_LOG ?? opts.logLevel ?? 'silent';
  const sql = connect(db.url, { max: config.database.pool_size, ...(opts.applicationName ? { applicationName: opts.applicationName } : {}) });
  const dispatch = await createDispatch({
    config,
    sql,
    logger: opts.logger ?? pino({ level }),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.random ? { random: opts.random } : {}),
    ...(opts.authFailures ? { authFailures: opts.authFailures } : {}),
    ...(opts.relay ? { relay: opts.relay } : {}),
  });
  const { apiUrl, opsUrl } = await dispatch.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await dispatch.stop();
    await sql.end({ timeout: 1 });
    if (ownDb) await db.drop();
  };
  return {
    dispatch,
    config,
    db,
    sql,
    apiUrl,
    opsUrl,
    call: (method, path, o) => callApi(apiUrl, method, path, o),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
