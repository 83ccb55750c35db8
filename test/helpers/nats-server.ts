// A real nats-server with JetStream in a temp dir, on a free loopback port. Tests that kill and
// restart NATS start their own with this; the rest share the one from global setup.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/store/embedded.js';

export interface NatsServer {
  url: string;
  port: number;
  /** The server process's pid (undefined while it is down). */
  readonly pid: number | undefined;
  /** Kill the server (SIGKILL), keeping its JetStream store for a restart. */
  kill(): Promise<void>;
  /** Start it again on the same port and store. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nats-server did not listen on ${port}`);
}

export async function startNatsServer(port?: number): Promise<NatsServer> {
  const p = port ?? (await freePort());
  const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-test-nats-'));
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(p), '-js', '-sd', dir], { stdio: 'ignore' });
    child.on('error', (err) => {
      throw new Error(`cannot start nats-server (is it installed?): ${err.message}`);
    });
    await waitForPort(p);
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${p}`,
    port: p,
    get pid() {
      return child?.pid;
    },
    kill,
    restart: launch,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
