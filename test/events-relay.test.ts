// The outbox relay against a real nats-server: per-task order with the contract envelope, NATS
// killed and restarted mid-run, two replicas on one database, retention, and no-NATS mode.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { request } from 'undici';
import { startApp } from './helpers/app.js';
import { createTestDatabase } from './helpers/db.js';
import { collect, natsConnect, readStream, waitFor } from './helpers/events.js';
import { applyDecision, insertTask } from './helpers/factories.js';
import { startNatsServer } from './helpers/nats-server.js';
import type { Sql } from '../src/store/db.js';
import { decideAssignment, decideComplete, decideProgress } from '../src/core/decisions.js';
import type { TaskRow } from '../src/core/task.js';
import { countUnpublished } from '../src/store/outbox.js';
import { eventsOfTask } from '../src/store/events.js';
import type { Relay } from '../src/events/relay.js';
import { DEFAULT_STREAM } from '../src/events/stream.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** created → assigned → started → progress → completed, through the decisions and the CAS primitive. */
async function runLifecycle(sql: Sql, agent = 'agent-1'): Promise<TaskRow> {
  const t = await insertTask(sql);
  const at = () => new Date();
  const a = await applyDecision(sql, t.id, (r) => decideAssignment(r, { agent, score: 1.25, woke: false }, at(), 30_000));
  expect(a?.status).toBe('assigned');
  const s = await applyDecision(sql, t.id, (r) => decideProgress(r, agent, { message: 'halfway', percent: 50 }, at()));
  expect(s?.status).toBe('running');
  const c = await applyDecision(sql, t.id, (r) => decideComplete(r, agent, { ok: true }, at()));
  expect(c?.status).toBe('completed');
  return c ?? t;
}

const LIFECYCLE = ['created', 'assigned', 'started', 'progress', 'completed'];

function relayOf(t: { dispatch: { components: Array<{ name: string }> } }): Relay {
  return t.dispatch.components.find((c) => c.name === 'event-relay') as Relay;
}

async function health(opsUrl: string): Promise<any> {
  const res = await request(`${opsUrl}/health`);
  return res.body.json();
}

async function metric(opsUrl: string, name: string): Promise<number> {
  const text = await (await request(`${opsUrl}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : NaN;
}

/** Group stream messages by task and check each task's events are in outbox (seq) order. */
async function expectPerTaskOrder(sql: Sql, msgs: Array<{ msgId: string | undefined; envelope: any }>): Promise<void> {
  const rows = await sql<{ id: string; task_id: string }[]>`select id, task_id from task_events order by seq`;
  const want = new Map<string, string[]>();
  for (const r of rows) want.set(r.task_id, [...(want.get(r.task_id) ?? []), r.id]);
  const got = new Map<string, string[]>();
  for (const m of msgs) {
    const task = m.envelope.correlation_id as string;
    got.set(task, [...(got.get(task) ?? []), m.msgId!]);
  }
  for (const [task, ids] of want) expect(got.get(task), `events of ${task}`).toEqual(ids);
}

describe('event relay', () => {
  it('publishes one task run created → assigned → started → progress → completed in order, in the contract envelope', async () => {
    const natsUrl = inject('natsUrl');
    await using t = await startApp({ config: { hermes: { url: natsUrl } } });
    await waitFor('nats connected', async () => (await health(t.opsUrl)).checks.nats === 'ok');
    const sub = await collect(natsUrl, 'swarm.task.>');
    try {
      const row = await runLifecycle(t.sql);
      const mine = () => sub.messages.filter((m) => m.subject.startsWith(`swarm.task.${row.id}.`));
      await waitFor('five events', () => mine().length >= 5);
      const msgs = mine();
      expect(msgs.map((m) => m.subject)).toEqual(LIFECYCLE.map((e) => `swarm.task.${row.id}.${e}`));
      for (const [i, m] of msgs.entries()) {
        expect(m.envelope).toEqual({
          id: expect.stringMatching(UUID),
          type: `task.${LIFECYCLE[i]}`,
          source: 'dispatch',
          timestamp: expect.any(String),
          correlation_id: row.id,
          // Chronicle's keys (docs/callbacks.md).
          event_id: m.envelope.id,
          event_type: `task.${LIFECYCLE[i]}`,
          trace_id: row.id,
          metadata: { title: 'a task', owner: null, agent: i === 0 ? null : 'agent-1', status: m.envelope.data.task.status, error: null },
          data: expect.objectContaining({ task: expect.objectContaining({ id: row.id, title: 'a task' }) }),
        });
        expect(new Date(m.envelope.timestamp).toISOString()).toBe(m.envelope.timestamp);
        expect(m.msgId).toBe(m.envelope.id);
      }
      expect(msgs[1]!.envelope.data).toMatchObject({ agent: 'agent-1', score: 1.25, woke: false, task: { status: 'assigned', assignee: 'agent-1' } });
      expect(msgs[4]!.envelope.data.task).toMatchObject({ status: 'completed', result: { ok: true } });
      // And they are in the stream, marked published in the outbox.
      await waitFor('outbox drained', async () => (await countUnpublished(t.sql)) === 0);
      const nc = await natsConnect(natsUrl);
      try {
        const stored = await readStream(nc, DEFAULT_STREAM, `swarm.task.${row.id}.*`);
        expect(stored.map((m) => m.envelope.type)).toEqual(LIFECYCLE.map((e) => `task.${e}`));
      } finally {
        await nc.close();
      }
    } finally {
      await sub.close();
    }
  });

  it('keeps events while NATS is down and delivers each exactly once, in per-task order, after it returns', async () => {
    const nats = await startNatsServer();
    try {
      await using t = await startApp({ config: { hermes: { url: nats.url } } });
      await waitFor('nats connected', async () => (await health(t.opsUrl)).checks.nats === 'ok');
      // Some tasks while NATS is up, then kill it in the middle of the run.
      const first = Array.from({ length: 40 }, () => runLifecycle(t.sql));
      await waitFor('first events published', async () => {
        const [r] = await t.sql<
          { n: number }[]
        >`select count(*)::int as n from task_events e where not exists (select 1 from task_events_unpublished q where q.seq = e.seq)`;
        return r!.n > 0;
      });
      await nats.kill();
      await Promise.all(first);
      const rest: Promise<TaskRow>[] = [];
      for (let i = 0; i < 160; i++) rest.push(runLifecycle(t.sql, `agent-${i % 7}`));
      await Promise.all(rest);

      await waitFor('health says nats down', async () => (await health(t.opsUrl)).checks.nats === 'down');
      const h = await health(t.opsUrl);
      expect(h).toMatchObject({ status: 'degraded', checks: { database: 'ok', nats: 'down' } });
      expect(h.waiting_for?.nats).toBe(`a connection to ${nats.url} (events wait in the outbox)`);
      expect(await countUnpublished(t.sql)).toBeGreaterThan(0);
      await waitFor('unpublished gauge shows the backlog', async () => (await metric(t.opsUrl, 'dispatch_events_unpublished')) > 0);

      await nats.restart();
      await waitFor('outbox drained after restart', async () => (await countUnpublished(t.sql)) === 0, 30_000, 100);
      expect((await health(t.opsUrl)).checks.nats).toBe('ok');

      const nc = await natsConnect(nats.url);
      try {
        const stored = await readStream(nc, DEFAULT_STREAM);
        const n = (await t.sql<{ n: number }[]>`select count(*)::int as n from task_events`)[0]!.n;
        expect(n).toBe(200 * 5);
        const ids = stored.map((m) => m.msgId);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.length).toBe(n);
        await expectPerTaskOrder(t.sql, stored);
      } finally {
        await nc.close();
      }
    } finally {
      await nats.stop();
    }
  });

  it('starts while NATS is down, keeps accepting work, and publishes once NATS appears', async () => {
    const nats = await startNatsServer();
    await nats.kill();
    try {
      await using t = await startApp({ config: { hermes: { url: nats.url } } });
      expect((await health(t.opsUrl)).checks.nats).toBe('down');
      const rows = await Promise.all(Array.from({ length: 5 }, () => runLifecycle(t.sql)));
      expect(await countUnpublished(t.sql)).toBe(25);
      await nats.restart();
      await waitFor('outbox drained', async () => (await countUnpublished(t.sql)) === 0, 30_000, 100);
      const nc = await natsConnect(nats.url);
      try {
        const stored = await readStream(nc, DEFAULT_STREAM);
        expect(stored.length).toBe(25);
        await expectPerTaskOrder(t.sql, stored);
        expect(new Set(stored.map((m) => m.envelope.correlation_id))).toEqual(new Set(rows.map((r) => r.id)));
      } finally {
        await nc.close();
      }
    } finally {
      await nats.stop();
    }
  });

  it('two replicas on one database publish each event once and keep every task in order', async () => {
    const nats = await startNatsServer();
    const db = await createTestDatabase();
    try {
      await using a = await startApp({ db, config: { hermes: { url: nats.url } } });
      await using b = await startApp({ db, config: { hermes: { url: nats.url } } });
      await waitFor('both connected', async () => (await health(a.opsUrl)).checks.nats === 'ok' && (await health(b.opsUrl)).checks.nats === 'ok');
      const sub = await collect(nats.url, 'swarm.task.>');
      try {
        await Promise.all(Array.from({ length: 60 }, (_, i) => runLifecycle(i % 2 ? a.sql : b.sql)));
        await waitFor('outbox drained', async () => (await countUnpublished(a.sql)) === 0, 30_000, 50);
        await waitFor('all 300 seen', () => sub.messages.length >= 300);
        // A plain subscriber sees every publish, so a duplicate from either relay would show here.
        const ids = sub.messages.map((m) => m.msgId);
        expect(ids.length).toBe(300);
        expect(new Set(ids).size).toBe(300);
        await expectPerTaskOrder(a.sql, sub.messages);
        // Both relays are real: each one's runOnce works and finds nothing left.
        const [ra, rb] = [relayOf(a), relayOf(b)];
        const results = await Promise.all([ra.runOnce(), rb.runOnce()]);
        expect(results.every((r) => r.published === 0)).toBe(true);
      } finally {
        await sub.close();
      }
    } finally {
      await db.drop();
      await nats.stop();
    }
  });

  it('deletes published events of live tasks past retention and keeps the rest (a finished task keeps its events)', async () => {
    await using t = await startApp({ config: { hermes: { url: '', event_retention_hours: 1 } } });
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    const backdate = async (id: string) => {
      await t.sql`update tasks set created_at = ${twoHoursAgo} where id = ${id}`;
      await t.sql`update task_events set created_at = ${twoHoursAgo} where task_id = ${id}`;
    };
    const old = await insertTask(t.sql);
    await backdate(old.id);
    const fresh = await insertTask(t.sql);
    const unpublished = await insertTask(t.sql);
    // Old but never published: kept.
    await backdate(unpublished.id);
    // Old and published, but its task is finished: its events go with the task (the purge), not here.
    const finished = await insertTask(t.sql);
    await backdate(finished.id);
    await t.sql`update tasks set status = 'completed', completed_at = now() where id = ${finished.id}`;
    // Run events: a live run's old ones go, a finished run's stay (they go with the run).
    const runOf = async (status: string) => {
      const id = randomUUID();
      await t.sql`
        insert into workflow_runs (id, workflow_key, version, requester, status, steps, created_at, updated_at, completed_at)
        values (${id}, 'wf', 1, 'requester-1', ${status}, '{}'::jsonb, ${twoHoursAgo}, ${twoHoursAgo}, ${status === 'running' ? null : twoHoursAgo})`;
      await t.sql`
        insert into task_events (id, task_id, type, envelope, created_at, kind)
        values (${randomUUID()}, ${id}, 'run.created', '{}'::jsonb, ${twoHoursAgo}, 'run')`;
      return id;
    };
    await runOf('running');
    const doneRun = await runOf('completed');
    await relayOf(t).loop.stop();
    await t.sql`delete from task_events_unpublished where task_id <> ${unpublished.id}`;
    await t.sql`insert into task_events_unpublished (seq, id, task_id) select seq, id, task_id from task_events where task_id = ${unpublished.id} on conflict do nothing`;
    // The relay's own pass may get there first; either way exactly the old published row goes.
    await relayOf(t).cleanup();
    const left = await t.sql<{ task_id: string }[]>`select task_id from task_events order by seq`;
    expect(left.map((r) => r.task_id)).toEqual([fresh.id, unpublished.id, finished.id, doneRun]);
  });

  it('without hermes.url records events only: health says disabled and nothing counts as unpublished', async () => {
    await using t = await startApp({ config: { hermes: { url: '' } } });
    expect((await health(t.opsUrl)).checks.nats).toBe('disabled');
    const task = await insertTask(t.sql);
    await waitFor('event settled', async () => (await countUnpublished(t.sql)) === 0);
    const rows = await t.sql`select type from task_events where task_id = ${task.id}`;
    expect(rows.map((r) => r.type)).toEqual(['created']);
    expect(await metric(t.opsUrl, 'dispatch_events_unpublished')).toBe(0);
    expect(await metric(t.opsUrl, 'dispatch_nats_connected')).toBe(-1);
  });
});

describe('event relay end to end over HTTP', () => {
  it('a task posted, assigned by the scheduler, worked and completed shows up on swarm.task.> in order', async () => {
    const natsUrl = inject('natsUrl');
    await using t = await startApp({
      config: {
        hermes: { url: natsUrl },
        assignment: { tick_interval_ms: 100 },
        agents: [{ id: 'e2e-worker', name: 'E2E', capabilities: ['e2e'], state: 'ready' }],
      },
    });
    await waitFor('nats connected', async () => (await health(t.opsUrl)).checks.nats === 'ok');
    await waitFor('fast path ready', () => relayOf(t).fast.ready);
    const sub = await collect(natsUrl, 'swarm.task.>');
    try {
      const created = await t.call('POST', '/api/v1/tasks', { agent: 'requester-e2e', body: { title: 'end to end', scope: 'e2e' } });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      await waitFor('assigned', async () => (await t.call('GET', `/api/v1/tasks/${id}`)).body.status === 'assigned');
      expect((await t.call('POST', `/api/v1/tasks/${id}/progress`, { agent: 'e2e-worker', body: { message: 'working', percent: 10 } })).status).toBe(200);
      expect((await t.call('POST', `/api/v1/tasks/${id}/complete`, { agent: 'e2e-worker', body: { result: { answer: 42 } } })).status).toBe(200);
      const mine = () => sub.messages.filter((m) => m.subject.startsWith(`swarm.task.${id}.`));
      await waitFor('five events', () => mine().length >= 5);
      expect(mine().map((m) => m.envelope.type)).toEqual(LIFECYCLE.map((e) => `task.${e}`));
      expect(mine()[1]!.envelope.data).toMatchObject({ agent: 'e2e-worker', score: expect.any(Number), woke: false });
      expect(mine()[4]!.envelope.data.task).toMatchObject({ id, status: 'completed', result: { answer: 42 } });
      for (const m of mine()) expect(m.msgId).toBe(m.envelope.id);
      // All five went out on the fast path (create, assignment, progress, complete), each once.
      await waitFor('outbox drained', async () => (await countUnpublished(t.sql)) === 0);
      expect(relayOf(t).fast.stats).toMatchObject({ offered: 5, published: 5, declined: 0, failed: 0 });
      expect(mine()).toHaveLength(5);
      // What went out (built in memory) is what the store rebuilds from its compact rows.
      expect(await eventsOfTask(t.sql, id)).toEqual(mine().map((m) => m.envelope));
    } finally {
      await sub.close();
    }
  });

  it('creates in a transaction (an Idempotency-Key, depends_on) and a report that settles a dependent go on the fast path too', async () => {
    const natsUrl = inject('natsUrl');
    await using t = await startApp({ config: { hermes: { url: natsUrl }, agents: [] } });
    await waitFor('fast path ready', () => relayOf(t).fast.ready);
    const keyed = await t.call('POST', '/api/v1/tasks', { agent: 'req', headers: { 'idempotency-key': 'k-1' }, body: { title: 'keyed' } });
    expect(keyed.status).toBe(201);
    const child = await t.call('POST', '/api/v1/tasks', { agent: 'req', body: { title: 'child', depends_on: [keyed.body.id] } });
    expect(child.status).toBe(201);
    await waitFor('both published', () => relayOf(t).fast.stats.published === 2);
    // The parent's completion (a transaction that releases the child): its own event on the fast path.
    await t.sql`update tasks set status = 'running', assignee = 'w', attempt = 1, assigned_at = now() where id = ${keyed.body.id}`;
    expect((await t.call('POST', `/api/v1/tasks/${keyed.body.id}/complete`, { agent: 'w', body: {} })).status).toBe(200);
    await waitFor('completion published', () => relayOf(t).fast.stats.published === 3);
    expect(relayOf(t).fast.stats).toMatchObject({ offered: 3, declined: 0, failed: 0 });
  });

  it('a report whose task has an unpublished event written elsewhere is left to the relay, and the order holds', async () => {
    const natsUrl = inject('natsUrl');
    await using t = await startApp({ config: { hermes: { url: natsUrl } } });
    await waitFor('nats connected', async () => (await health(t.opsUrl)).checks.nats === 'ok');
    await relayOf(t).loop.nextRun((r) => !r.busy);
    // The relay's loop paused: the seeded events stay unpublished while the report is written.
    await relayOf(t).loop.stop();
    const sub = await collect(natsUrl, 'swarm.task.>');
    try {
      // Written through the store, not a service: nobody offers its events to the fast path.
      const row = await insertTask(t.sql);
      const a = await applyDecision(t.sql, row.id, (r) => decideAssignment(r, { agent: 'agent-1', score: 1, woke: false }, new Date(), 30_000));
      expect(a?.status).toBe('assigned');
      expect(await countUnpublished(t.sql)).toBe(2);
      const done = await t.call('POST', `/api/v1/tasks/${row.id}/complete`, { agent: 'agent-1', body: { result: { ok: 1 } } });
      expect(done.status).toBe(200);
      // Its predecessors are not this replica's and stay unpublished: after a short wait the fast
      // path leaves it to the relay; nothing went out; the relay sends all three in order.
      await waitFor('declined', () => relayOf(t).fast.stats.declined === 1);
      expect(relayOf(t).fast.stats).toMatchObject({ offered: 1, declined: 1, published: 0 });
      expect(await countUnpublished(t.sql)).toBe(3);
      relayOf(t).loop.start();
      await waitFor('outbox drained', async () => (await countUnpublished(t.sql)) === 0);
      const mine = () => sub.messages.filter((m) => m.subject.startsWith(`swarm.task.${row.id}.`));
      await waitFor('three events', () => mine().length >= 3);
      expect(mine().map((m) => m.envelope.type)).toEqual(['task.created', 'task.assigned', 'task.completed']);
    } finally {
      await sub.close();
    }
  });

  it('two replicas on one database over HTTP: every event once, in order per task, most of them on the fast path', async () => {
    const natsUrl = inject('natsUrl');
    const db = await createTestDatabase();
    try {
      const config = {
        hermes: { url: natsUrl },
        agents: [{ id: 'fast-worker', name: 'Fast', capabilities: ['fast'], state: 'ready' as const }],
        assignment: { max_concurrent_per_agent: 100 },
      };
      await using a = await startApp({ db, config });
      await using b = await startApp({ db, config });
      await waitFor('both connected', async () => (await health(a.opsUrl)).checks.nats === 'ok' && (await health(b.opsUrl)).checks.nats === 'ok');
      await waitFor('both fast paths ready', () => relayOf(a).fast.ready && relayOf(b).fast.ready);
      const sub = await collect(natsUrl, 'swarm.task.>');
      try {
        const ids = await Promise.all(
          Array.from({ length: 30 }, async (_, i) => {
            const r = await (i % 2 ? a : b).call('POST', '/api/v1/tasks', { agent: 'req', body: { title: `t${i}`, scope: 'fast' } });
            expect(r.status).toBe(201);
            return r.body.id as string;
          }),
        );
        for (const [i, id] of ids.entries()) {
          const replica = i % 3 ? a : b;
          await waitFor('assigned', async () => (await replica.call('GET', `/api/v1/tasks/${id}`)).body.status === 'assigned');
          expect((await replica.call('POST', `/api/v1/tasks/${id}/complete`, { agent: 'fast-worker', body: {} })).status).toBe(200);
        }
        await waitFor('outbox drained', async () => (await countUnpublished(a.sql)) === 0, 30_000, 50);
        const mineOnly = () => sub.messages.filter((m) => ids.includes(m.envelope.correlation_id));
        await waitFor('all 90 seen', () => mineOnly().length >= 90);
        const seen = mineOnly().map((m) => m.msgId);
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen.length).toBe(90);
        await expectPerTaskOrder(a.sql, mineOnly());
        const stats = [relayOf(a).fast.stats, relayOf(b).fast.stats];
        expect(stats.reduce((n, s) => n + s.published, 0)).toBeGreaterThan(0);
      } finally {
        await sub.close();
      }
    } finally {
      await db.drop();
    }
  });
});
