// Dispatch as its own process (`node <npm start's flags> dist/main.js`, compiled first), the way an operator runs it:
// config.yaml written to a temp dir (standalone roster of N agents standing in for the
// neighbours, or the neighbours' URLs, e.g. the fakes of test/fakes), both servers on free
// loopback ports, the benchmark's Postgres and nats-server. Used by the benchmark and the chaos
// suite (which kills replicas with SIGKILL and breaks the neighbours).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as yaml from 'js-yaml';
import { request } from 'undici';
import { freePort } from '../../../src/store/embedded.js';
import { serviceNodeFlags } from '../../../packages/client/src/cli.js';
import { sleep } from './child.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let built = false;
const LOCK_STALE_MS = 120_000;

/** Paths, sizes and mtimes of what the build reads: equal stamps, equal dist/. */
function sourceStamp(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        h.update(`${path.relative(ROOT, p)}:${st.size}:${st.mtimeMs}\n`);
      }
    }
  };
  walk(path.join(ROOT, 'src'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json']) h.update(`${f}:${statSync(path.join(ROOT, f)).mtimeMs}\n`);
  return h.digest('hex');
}

/**
 * dist/main.js, compiled from the current src/ once per benchmark process (production runs
 * compiled JavaScript, so the bench does too). Several processes may want it at once (two test
 * files of `npm test` that start Dispatch processes): one compiles under dist/.build.lock while the
 * others wait, and they skip the compile when dist/.build-stamp says it is of the same sources — so
 * no process starts Dispatch from a dist/ that another is rewriting.
 */
function compiledMain(): string {
  if (!built) {
    const dist = path.join(ROOT, 'dist');
    mkdirSync(dist, { recursive: true });
    const lock = path.join(dist, '.build.lock');
    const stampFile = path.join(dist, '.build-stamp');
    for (;;) {
      try {
        closeSync(openSync(lock, 'wx'));
        break;
      } catch {
        const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (age > LOCK_STALE_MS)
          rmSync(lock, { force: true }); // left by a process that died
        else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200); // another process is compiling
      }
    }
    try {
      const stamp = sourceStamp();
      if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
        rmSync(stampFile, { force: true });
        execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], {
          stdio: 'inherit',
        });
        writeFileSync(stampFile, stamp);
      }
    } finally {
      rmSync(lock, { force: true });
    }
    built = true;
  }
  return path.join(ROOT, 'dist/main.js');
}
export const BENCH_ADMIN_TOKEN = 'bench-admin-token';

/** Where the neighbours are (docs/scheduler.md "The agent directory"), e.g. `Fakes.config` from test/fakes/neighbours.ts. */
export interface NeighbourUrls {
  warren: { url: string; token: string };
  promptforge: { url: string };
  alexandria: { url: string };
}

export interface DispatchOptions {
  databaseUrl: string;
  natsUrl?: string;
  /** Roster agents `agent-0 … agent-(n-1)`, all ready, with the capabilities given (ignored with `neighbours`). */
  agents: number;
  /** The neighbours' URLs instead of the roster: agents come from PromptForge, Warren, Alexandria. */
  neighbours?: NeighbourUrls;
  capabilities?: string[];
  maxConcurrent?: number;
  tickMs?: number;
  wakeTimeoutMs?: number;
  /** Extra config keys merged into config.yaml's sections (deep for one level). */
  extra?: Record<string, Record<string, unknown>>;
  logLevel?: string;
  /** Fixed ports (default: free ones), e.g. to point workers at the API before it starts. */
  port?: number;
  metricsPort?: number;
  /** Where the child's stderr/stdout go (default: ignored unless DISPATCH_BENCH_LOG=1). */
  inheritLogs?: boolean;
}

export interface DispatchProc {
  pid: number;
  apiUrl: string;
  opsUrl: string;
  child: ChildProcess;
  /** SIGTERM and wait for exit (SIGKILL after the grace time). */
  stop(): Promise<void>;
  /** SIGKILL, no goodbye. */
  kill(): Promise<void>;
  exited(): boolean;
}

export function agentIds(n: number): string[] {
  return Array.from({ length: n }, (_, k) => `agent-${k}`);
}

export async function startDispatch(o: DispatchOptions): Promise<DispatchProc> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-bench-cfg-'));
  const port = o.port ?? (await freePort());
  const metricsPort = o.metricsPort ?? (await freePort());
  const base: Record<string, Record<string, unknown>> = {
    server: {
      port,
      metrics_port: metricsPort,
      host: '127.0.0.1',
      admin_token: BENCH_ADMIN_TOKEN,
      rate_limit_per_second: 1_000_000,
      rate_limit_burst: 1_000_000,
    },
    database: { url: o.databaseUrl },
    hermes: { url: o.natsUrl ?? '' },
    warren: o.neighbours?.warren ?? { url: '', token: '' },
    promptforge: o.neighbours?.promptforge ?? { url: '' },
    alexandria: o.neighbours?.alexandria ?? { url: '' },
    assignment: {
      tick_interval_ms: o.tickMs ?? 1000,
      wake_timeout_ms: o.wakeTimeoutMs ?? 120_000,
      default_timeout_ms: 300_000,
      max_concurrent_per_agent: o.maxConcurrent ?? 3,
      owner_filter_enabled: true,
      retry_backoff_base_ms: 1000,
      retry_backoff_max_ms: 60_000,
    },
    logging: { level: o.logLevel ?? 'warn', format: 'json' },
  };
  const config = {
    ...Object.fromEntries(Object.entries(base).map(([k, v]) => [k, { ...v, ...(o.extra?.[k] ?? {}) }])),
    // Sections of `extra` the base does not have (e.g. webhooks) go in as given.
    ...Object.fromEntries(Object.entries(o.extra ?? {}).filter(([k]) => !(k in base))),
    agents: o.neighbours ? [] : agentIds(o.agents).map((id) => ({ id, name: id, capabilities: o.capabilities ?? ['bench'], state: 'ready' })),
  };
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, yaml.dump(config));
  const env: NodeJS.ProcessEnv = { ...process.env, DISPATCH_CONFIG: file };
  for (const k of Object.keys(env)) if (k.startsWith('DISPATCH_') && k !== 'DISPATCH_CONFIG') delete env[k];
  const logs = o.inheritLogs ?? process.env.DISPATCH_BENCH_LOG === '1';
  // DISPATCH_BENCH_NODE_ARGS: extra node flags for the Dispatch process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  // npm start's own flags first (package.json: the heap cap), as an operator runs it.
  const nodeArgs = [...serviceNodeFlags(ROOT), ...(process.env.DISPATCH_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, compiledMain()], {
    cwd: ROOT,
    env,
    stdio: ['ignore', logs ? 'inherit' : 'ignore', logs ? 'inherit' : 'ignore'],
  });
  const apiUrl = `http://127.0.0.1:${port}`;
  const opsUrl = `http://127.0.0.1:${metricsPort}`;
  const exitedP = new Promise<void>((r) => child.once('exit', () => r()));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const proc: DispatchProc = {
    pid: child.pid!,
    apiUrl,
    opsUrl,
    child,
    exited,
    async stop() {
      if (!exited()) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exitedP;
        clearTimeout(t);
      }
      cleanup();
    },
    async kill() {
      if (!exited()) {
        child.kill('SIGKILL');
        await exitedP;
      }
      cleanup();
    },
  };
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (exited()) throw new Error(`dispatch exited during start (code ${child.exitCode}); rerun with DISPATCH_BENCH_LOG=1`);
    if (await healthStatus(opsUrl)) return proc;
    await sleep(100);
  }
  await proc.kill();
  throw new Error('dispatch did not become healthy within 60 s');
}

/** /health's body (`status`, `checks` per dependency), or undefined when it does not answer. */
export async function health(opsUrl: string, timeoutMs = 2000): Promise<{ status?: string; checks?: Record<string, string> } | undefined> {
  try {
    const res = await request(`${opsUrl}/health`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    return (await res.body.json()) as { status?: string; checks?: Record<string, string> };
  } catch {
    return undefined;
  }
}

/** /health's status ('ok' | 'degraded' | 'down'), or undefined when it does not answer. */
export async function healthStatus(opsUrl: string, timeoutMs = 2000): Promise<string | undefined> {
  return (await health(opsUrl, timeoutMs))?.status;
}
