// A JetStream cluster of real nats-server processes on free loopback ports, each with its own
// store in a temp dir (CONTRACT §23: the failover test and the `nats-leader-kill` chaos scenario).
// `url` lists every server, comma-separated, as hermes.url does.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort } from '../../src/store/embedded.js';
import { natsServers } from '../../src/events/nats.js';
import { waitFor } from './wait.js';

export interface NatsNode {
  name: string;
  port: number;
  url: string;
  running(): boolean;
}

export interface NatsCluster {
  /** Every server's client URL, comma-separated. */
  url: string;
  nodes: NatsNode[];
  /** The server that leads `stream` now (the JetStream request's timeout: 5 s by default). */
  streamLeader(stream: string, timeoutMs?: number): Promise<string>;
  /** The replica count of `stream`'s configuration. */
  streamReplicas(stream: string): Promise<number>;
  /** SIGKILL one server (its store kept) and wait for its exit. */
  kill(name: string): Promise<void>;
  /** Start a killed server again on its ports and store. */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

async function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-test-nats-cluster-'));
  const specs: Array<{ name: string; port: number; routePort: number }> = [];
  for (let i = 0; i < size; i++) specs.push({ name: `n${i + 1}`, port: await freePort(), routePort: await freePort() });
  const routes = specs.map((s) => `nats://127.0.0.1:${s.routePort}`).join(',');
  const children = new Map<string, ChildProcess>();
  const launch = async (name: string) => {
    const s = specs.find((x) => x.name === name)!;
    const child = spawn(
      'nats-server',
      [
        '-a',
        '127.0.0.1',
        '-p',
        String(s.port),
        '-n',
        s.name,
        '-js',
        '-sd',
        path.join(dir, s.name),
        '--cluster_name',
        'dispatch-test',
        '--cluster',
        `nats://127.0.0.1:${s.routePort}`,
        '--routes',
        routes,
      ],
      { stdio: 'ignore' },
    );
    child.on('error', (err) => {
      throw new Error(`cannot start nats-server (is it installed?): ${err.message}`);
    });
    children.set(name, child);
    await waitFor(() => listening(s.port), `nats-server ${name} to listen on ${s.port}`, 10_000, 50);
  };
  const kill = async (name: string) => {
    const c = children.get(name);
    children.delete(name);
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  const url = specs.map((s) => `nats://127.0.0.1:${s.port}`).join(',');
  const stop = async () => {
    for (const s of specs) await kill(s.name);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(specs.map((s) => launch(s.name)));
    // Ready when JetStream answers: the cluster has elected its meta leader.
    const nc = await connect({ servers: natsServers(url), timeout: 5000 });
    try {
      await waitFor(
        async () => {
          const jsm = await jetstreamManager(nc, { timeout: 2000 });
          return (await jsm.getAccountInfo()) !== undefined;
        },
        'the JetStream cluster to elect a meta leader',
        30_000,
        200,
      );
    } finally {
      await nc.close();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const info = async (stream: string, timeoutMs = 5000) => {
    const live = specs.filter((s) => children.has(s.name)).map((s) => `nats://127.0.0.1:${s.port}`);
    const nc = await connect({ servers: live, timeout: 5000 });
    try {
      return await (await jetstreamManager(nc, { timeout: timeoutMs })).streams.info(stream);
    } finally {
      await nc.close();
    }
  };
  return {
    url,
    nodes: specs.map((s) => ({ name: s.name, port: s.port, url: `nats://127.0.0.1:${s.port}`, running: () => children.has(s.name) })),
    async streamLeader(stream, timeoutMs) {
      const leader = (await info(stream, timeoutMs)).cluster?.leader;
      if (!leader) throw new Error(`stream ${stream} has no leader`);
      return leader;
    },
    streamReplicas: async (stream) => (await info(stream)).config.num_replicas,
    kill,
    restart: launch,
    stop,
  };
}
