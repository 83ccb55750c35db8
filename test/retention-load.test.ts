// Retention under load (docs/retention.md, issue #17): the purge runs again and again while tasks
// flow at ~200/s through a real Dispatch and a real nats-server, workers taking each task through
// progress to completion. Every HTTP answer is 2xx, every task's events are in JetStream in order
// with none missing, and the purge deleted the finished tasks as they finished. The rate is a
// target, never an assertion: a slow machine only makes the run longer.
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { readStream, waitFor } from './helpers/events.js';
import { startNatsServer, type NatsServer } from './helpers/nats-server.js';
import { openLoop } from '../scripts/bench/lib/open-loop.js';
import { DEFAULT_STREAM } from '../src/events/stream.js';
import type { Retention, RetentionResult } from '../src/services/retention.js';
import { countUnpublished } from '../src/store/outbox.js';

const RATE = 200;
const LOAD_MS = 3000;
const AGENTS = Array.from({ length: 20 }, (_, i) => ({ id: `lw${i}`, name: `LW${i}`, capabilities: ['load'], state: 'ready' as const }));

let nats: NatsServer;
let t: TestApp;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNatsServer();
  t = await startApp({
    config: {
      hermes: { url: nats.url },
      agents: AGENTS,
      server: { rate_limit_per_second: 100_000, rate_limit_burst: 100_000 },
      database: { pool_size: 20 },
      assignment: { max_concurrent_per_agent: 50, tick_interval_ms: 1000, wake_timeout_ms: 120_000 },
      // A task is purged as soon as it is finished and its events are out; the loop's own timer
      // never fires here (this test drives runOnce).
      retention: { finished_task_ms: 1, sweep_interval_ms: 3_600_000 },
    },
  });
  nc = await natsConnect({ servers: nats.url });
});
afterAll(async () => {
  await nc?.close();
  await t?.stop();
  await nats?.stop();
});

describe('retention under load', () => {
  it('a purge running while ~200 tasks/s flow fails no request and loses no event', { timeout: 120_000 }, async () => {
    const retention = t.dispatch.components.find((c) => c.name === 'retention') as Retention;
    const http = new Pool(t.apiUrl, { connections: 32 });
    const statuses = new Map<string, number>(); // "what status" → count
    const count = (what: string, status: number) => statuses.set(`${what} ${status}`, (statuses.get(`${what} ${status}`) ?? 0) + 1);
    const call = async (what: string, path: string, agent: string, body: unknown) => {
      const res = await http.request({
        method: 'POST',
        path,
        headers: { 'x-agent-id': agent, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      });
      const text = await res.body.text();
      count(what, res.statusCode);
      return { status: res.statusCode, body: res.statusCode < 300 ? JSON.parse(text) : text };
    };

    // Workers: hear of each assignment on NATS, report progress (assigned → running), then complete.
    const created = new Set<string>();
    const completed = new Set<string>();
    const workerErrors: string[] = [];
    const work = async (id: string, agent: string) => {
      try {
        await call('progress', `/api/v1/tasks/${id}/progress`, agent, { percent: 50 });
        const r = await call('complete', `/api/v1/tasks/${id}/complete`, agent, { result: { ok: true } });
        if (r.status === 200) completed.add(id);
      } catch (err) {
        workerErrors.push(String(err));
      }
    };
    nc.subscribe('swarm.task.*.assigned', {
      callback: (_err, m) => {
        const env = m.json<{ data: { agent: string; task: { id: string } } }>();
        void work(env.data.task.id, env.data.agent);
      },
    });
    await nc.flush();

    // The purge, pass after pass, for as long as tasks flow and until the last one is finished.
    let flowing = true;
    let passes = 0;
    const purged: RetentionResult = { tasks: 0, events: 0, deliveries: 0, idempotency_keys: 0, runs: 0, schedule_runs: 0, track_record: 0 };
    let purgedWhileFlowing = 0;
    const purging = (async () => {
      while (flowing) {
        const r = await retention.runOnce();
        passes++;
        for (const k of Object.keys(purged) as Array<keyof RetentionResult>) purged[k] += r[k];
        purgedWhileFlowing += r.tasks;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    const load = await openLoop({
      rate: RATE,
      durationMs: LOAD_MS,
      drainTimeoutMs: 60_000,
      send: async (i) => {
        const r = await call('create', '/api/v1/tasks', `producer-${i % 8}`, { title: `load ${i}`, capabilities: ['load'], context: { i } });
        if (r.status === 201) created.add((r.body as { id: string }).id);
      },
    });
    expect(load.errors).toEqual([]);
    expect(load.ok).toBe(load.sent);
    await waitFor('every created task completed', () => completed.size >= created.size, 60_000);
    await waitFor('outbox drained', async () => (await countUnpublished(t.sql)) === 0, 30_000);
    flowing = false;
    await purging;
    // One pass more after the last completion and publish: the last finished tasks go too.
    const last = await retention.runOnce();
    purged.tasks += last.tasks;
    purged.events += last.events;
    await http.close();

    // Every HTTP answer was 2xx: creates 201, progress and complete 200.
    expect(workerErrors).toEqual([]);
    expect([...statuses.keys()].filter((k) => !/ 2\d\d$/.test(k))).toEqual([]);
    expect(statuses.get('create 201')).toBe(load.sent);
    expect(statuses.get('complete 200')).toBe(load.sent);

    // The purge deleted the finished tasks (while tasks flowed, and all of them by the end).
    expect(passes).toBeGreaterThan(1);
    expect(purgedWhileFlowing).toBeGreaterThan(0);
    expect(purged.tasks).toBe(load.sent);
    expect(purged.events).toBeGreaterThanOrEqual(5 * load.sent);
    const [left] = await t.sql<{ n: number }[]>`select count(*)::int as n from tasks`;
    expect(left!.n).toBe(0);
    const metric = await t.dispatch.context.metrics.registry.getSingleMetricAsString('dispatch_retention_deleted_total');
    expect(metric).toMatch(new RegExp(`kind="tasks"} ${load.sent}$`, 'm'));

    // Every task's events are in JetStream, in order, each once: created, (unmatched while every
    // agent was busy), assigned, started, progress, completed — nothing missing, nothing extra.
    const stored = await readStream(nc, DEFAULT_STREAM, 'swarm.task.*.*');
    const ids = new Set(stored.map((m) => m.msgId));
    expect(ids.size).toBe(stored.length);
    const byTask = new Map<string, string[]>();
    for (const m of stored) {
      const [, , id, type] = m.subject.split('.');
      expect(m.envelope.correlation_id).toBe(id);
      byTask.set(id!, [...(byTask.get(id!) ?? []), type!]);
    }
    expect(new Set(byTask.keys())).toEqual(created);
    const lifecycle = /^created(,unmatched)?,assigned,started,progress,completed$/;
    const broken = [...byTask].filter(([, types]) => !lifecycle.test(types.join(',')));
    expect(broken).toEqual([]);
  });
});
