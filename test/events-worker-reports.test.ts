// Worker reports over NATS (docs/callbacks.md, the swarm's dialects): swarm.task.<id>.started|
// progress|completed|failed applied like the HTTP reports, Dispatch's own envelopes skipped, a
// refused report counted and acked; and the swarm-dlq entry of a task that ends failed.
// Its own nats-server: the durable consumer is shared by every Dispatch on a server, and other
// test files' apps (other databases) must not take these reports.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { NatsConnection } from '@nats-io/nats-core';
import { startApp, type TestApp } from './helpers/app.js';
import { collect, natsConnect, waitFor } from './helpers/events.js';
import { insertTask } from './helpers/factories.js';
import { startNatsServer, type NatsServer } from './helpers/nats-server.js';
import { headers } from '@nats-io/nats-core';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { LEGACY_REPORTS_DURABLE, replyOf, REPORT_DURABLES, type WorkerReports } from '../src/events/worker-reports.js';
import { createTestDatabase } from './helpers/db.js';
import { SOURCE_HEADER } from '../src/events/publisher.js';
import { findCapturing, TASK_SUBJECTS } from '../src/events/stream.js';

let nats: NatsServer;
let nc: NatsConnection;
beforeAll(async () => {
  nats = await startNatsServer();
  nc = await natsConnect(nats.url);
});
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

async function reports(t: TestApp, outcome: string): Promise<number> {
  const text = await (await request(`${t.opsUrl}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`dispatch_nats_reports_total{outcome="${outcome}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function app(): Promise<TestApp> {
  const t = await startApp({ config: { hermes: { url: nats.url } } });
  await (t.dispatch.components.find((c) => c.name === 'worker-reports') as WorkerReports).ready();
  return t;
}

/** Publish a report and wait until it was handled with `outcome`. */
async function report(t: TestApp, subject: string, body: unknown, outcome: string): Promise<void> {
  const before = await reports(t, outcome);
  nc.publish(subject, JSON.stringify(body));
  await waitFor(`a report counted ${outcome}`, async () => (await reports(t, outcome)) > before);
}

const eventTypes = async (t: TestApp, id: string) => (await t.call('GET', `/api/v1/tasks/${id}/events`)).body.events.map((e: any) => e.type);

describe('worker reports over NATS', () => {
  it('a completion reported over HTTP and then over NATS is applied once; the NATS one is refused and acked', async () => {
    await using t = await app();
    const task = await insertTask(t.sql, { status: 'running', assignee: 'w1' });
    const http = await t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: { result: { via: 'http' } } });
    expect(http.status).toBe(200);
    await report(t, `swarm.task.${task.id}.completed`, { summary: 'via nats', agent: 'w1' }, 'refused');
    const now = (await t.call('GET', `/api/v1/tasks/${task.id}`)).body;
    expect(now).toMatchObject({ status: 'completed', result: { via: 'http' } });
    expect((await eventTypes(t, task.id)).filter((e: string) => e === 'task.completed')).toHaveLength(1);
  });

  it('a raw completed body counts for the current assignee; summary becomes result.summary; a later HTTP complete gets 409', async () => {
    await using t = await app();
    const task = await insertTask(t.sql, { status: 'running', assignee: 'w1' });
    await report(t, `swarm.task.${task.id}.completed`, { summary: 'done it' }, 'ok');
    expect((await t.call('GET', `/api/v1/tasks/${task.id}`)).body).toMatchObject({ status: 'completed', assignee: 'w1', result: { summary: 'done it' } });
    expect((await t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: {} })).status).toBe(409);
  });

  it('a report naming another agent (agent or agent_id) is refused and changes nothing', async () => {
    await using t = await app();
    const task = await insertTask(t.sql, { status: 'running', assignee: 'w1' });
    await report(t, `swarm.task.${task.id}.completed`, { agent: 'intruder', result: 1 }, 'refused');
    await report(t, `swarm.task.${task.id}.failed`, { agent_id: 'intruder', error: 'x' }, 'refused');
    expect((await t.call('GET', `/api/v1/tasks/${task.id}`)).body).toMatchObject({ status: 'running', assignee: 'w1', result: null });
  });

  it("Dispatch's own completed envelope on the same subject is ignored", async () => {
    await using t = await app();
    const task = await insertTask(t.sql, { status: 'running', assignee: 'w1' });
    const own = {
      id: randomUUID(),
      type: 'task.completed',
      source: 'dispatch',
      timestamp: new Date().toISOString(),
      correlation_id: task.id,
      data: { task: {} },
    };
    await report(t, `swarm.task.${task.id}.completed`, own, 'ignored');
    expect((await t.call('GET', `/api/v1/tasks/${task.id}`)).body.status).toBe('running');
  });

  it("a message with the Dispatch-Source header (Dispatch's own events) is skipped unread and acked", async () => {
    await using t = await app();
    const task = await insertTask(t.sql, { status: 'running', assignee: 'w1' });
    const before = await reports(t, 'ignored');
    const invalidBefore = await reports(t, 'invalid');
    // Not JSON: read, it would count as invalid; with the header it is not read at all.
    const h = headers();
    h.set(SOURCE_HEADER, 'dispatch');
    nc.publish(`swarm.task.${task.id}.completed`, 'not json', { headers: h });
    await waitFor('the own event counted ignored', async () => (await reports(t, 'ignored')) > before);
    const jsm = await jetstreamManager(nc);
    const stream = (await findCapturing(jsm, TASK_SUBJECTS))!;
    // Its ack goes out with the other own events' acks (at most OWN_ACK_MS later): nothing stays unacknowledged.
    await waitFor('the own event acked', async () => {
      const info = await jsm.consumers.info(stream, REPORT_DURABLES.completed);
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    expect(await reports(t, 'invalid')).toBe(invalidBefore);
    expect((await t.call('GET', `/api/v1/tasks/${task.id}`)).body.status).toBe('running');
  });

  it('a message on a subject that is no report (assigned, …) is delivered to none of the report consumers and counted as nothing', async () => {
    await using t = await app();
    const task = await insertTask(t.sql, { status: 'running', assignee: 'w1' });
    const counts = async () => Promise.all(['ok', 'ignored', 'refused', 'invalid', 'error'].map((o) => reports(t, o)));
    const jsm = await jetstreamManager(nc);
    const stream = (await findCapturing(jsm, TASK_SUBJECTS))!;
    const delivered = async () =>
      Object.fromEntries(
        await Promise.all(Object.entries(REPORT_DURABLES).map(async ([type, d]) => [type, (await jsm.consumers.info(stream, d)).delivered.consumer_seq])),
      );
    const before = { counts: await counts(), delivered: await delivered(), last: (await jsm.streams.info(stream)).state.last_seq };
    // Not JSON and no Dispatch-Source header: read as a report, it would count as invalid.
    nc.publish(`swarm.task.${task.id}.assigned`, 'not json');
    nc.publish(`swarm.task.${task.id}.created`, 'not json');
    // Then a report-subject message (an own event, by its header): once it is handled, the two before it were stored long ago.
    const h = headers();
    h.set(SOURCE_HEADER, 'dispatch');
    nc.publish(`swarm.task.${task.id}.completed`, '{}', { headers: h });
    await waitFor('the own completed event counted ignored', async () => (await reports(t, 'ignored')) > before.counts[1]!);
    expect((await jsm.streams.info(stream)).state.last_seq).toBe(before.last + 3);
    expect(await delivered()).toEqual({ ...before.delivered, completed: before.delivered.completed + 1 });
    const after = await counts();
    expect(after).toEqual([before.counts[0], before.counts[1]! + 1, ...before.counts.slice(2)]);
    expect((await t.call('GET', `/api/v1/tasks/${task.id}`)).body.status).toBe('running');
  });

  it('an upgrade from the one consumer of earlier releases: what it acked is not applied again, what came after is, and it is deleted', async () => {
    {
      await using _first = await app(); // it makes the stream
    }
    const jsm = await jetstreamManager(nc);
    const stream = (await findCapturing(jsm, TASK_SUBJECTS))!;
    for (const d of Object.values(REPORT_DURABLES)) await jsm.consumers.delete(stream, d);
    await jsm.consumers.add(stream, {
      durable_name: LEGACY_REPORTS_DURABLE,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      filter_subject: TASK_SUBJECTS,
    });
    const db = await createTestDatabase();
    try {
      const acked = await insertTask(db.sql, { status: 'running', assignee: 'w1' });
      const waiting = await insertTask(db.sql, { status: 'running', assignee: 'w1' });
      // The earlier release read and acked one report (as if applied: here it changed nothing)…
      nc.publish(`swarm.task.${acked.id}.completed`, JSON.stringify({ summary: 'acked by the old release' }));
      const m = (await (await jetstream(nc).consumers.get(stream, LEGACY_REPORTS_DURABLE)).next({ expires: 5000 }))!;
      expect(await m.ackAck()).toBe(true);
      // …and the next came while no replica ran.
      nc.publish(`swarm.task.${waiting.id}.completed`, JSON.stringify({ summary: 'during the upgrade' }));
      await using t = await startApp({ db, config: { hermes: { url: nats.url } } });
      await (t.dispatch.components.find((c) => c.name === 'worker-reports') as WorkerReports).ready();
      await waitFor(
        'the report published during the upgrade applied',
        async () => (await t.call('GET', `/api/v1/tasks/${waiting.id}`)).body.status === 'completed',
      );
      expect((await t.call('GET', `/api/v1/tasks/${waiting.id}`)).body.result).toEqual({ summary: 'during the upgrade' });
      await expect(jsm.consumers.info(stream, LEGACY_REPORTS_DURABLE)).rejects.toThrow();
      for (const d of Object.values(REPORT_DURABLES)) expect((await jsm.consumers.info(stream, d)).config.opt_start_seq).toBe(m.seq + 1);
      // Delivered again, the acked report would have completed its task.
      expect((await t.call('GET', `/api/v1/tasks/${acked.id}`)).body.status).toBe('running');
    } finally {
      await db.drop();
    }
  });

  it('own events are acked by their ack subject alone: replyOf finds it on the nats.js in use', async () => {
    await using _app = await app(); // it makes the stream
    const jsm = await jetstreamManager(nc);
    const stream = (await findCapturing(jsm, TASK_SUBJECTS))!;
    const id = randomUUID();
    await jsm.consumers.add(stream, { durable_name: 'reply-of', ack_policy: AckPolicy.Explicit, filter_subject: `swarm.task.${id}.*` });
    nc.publish(`swarm.task.${id}.created`, '{}');
    const m = (await (await jetstream(nc).consumers.get(stream, 'reply-of')).next({ expires: 5000 }))!;
    expect(replyOf(m)).toMatch(/^\$JS\.ACK\./);
    await jsm.consumers.delete(stream, 'reply-of');
  });

  it('started and progress in a Hermes envelope move assigned → running and record the progress', async () => {
    await using t = await app();
    const task = await insertTask(t.sql, { status: 'assigned', assignee: 'w1' });
    const hermes = (type: string, data: object) => ({ id: randomUUID(), type: `task.${type}`, source: 'w1', timestamp: new Date().toISOString(), data });
    await report(t, `swarm.task.${task.id}.started`, hermes('started', { agent: 'w1' }), 'ok');
    await report(t, `swarm.task.${task.id}.progress`, hermes('progress', { agent: 'w1', message: 'half', percent: 50 }), 'ok');
    expect((await t.call('GET', `/api/v1/tasks/${task.id}`)).body).toMatchObject({ status: 'running', progress: { message: 'half', percent: 50 } });
    expect(await eventTypes(t, task.id)).toEqual(['task.created', 'task.started', 'task.progress', 'task.progress']);
  });

  it('failed with retry_eligible false ends the task failed, and its swarm-dlq entry is published on dlq.task.execution_failed', async () => {
    const dlq = await collect(nats.url, 'dlq.>');
    try {
      await using t = await app();
      const task = await insertTask(t.sql, {
        status: 'running',
        assignee: 'w1',
        title: 'doomed',
        scope: 'code',
        retry_count: 1,
        max_retries: 3,
        context: { k: 1 },
      });
      await report(t, `swarm.task.${task.id}.failed`, { source: 'w1', type: 'task.failed', data: { error: 'disk full', retry_eligible: false } }, 'ok');
      expect((await t.call('GET', `/api/v1/tasks/${task.id}`)).body).toMatchObject({ status: 'failed', error: 'disk full', retry_count: 1 });
      const [m] = await waitFor('the dlq entry', () => (dlq.messages.length > 0 ? dlq.messages : undefined));
      expect(m!.subject).toBe('dlq.task.execution_failed');
      expect(m!.envelope).toEqual({
        dlq_id: m!.msgId,
        original_subject: 'swarm.task.request',
        original_payload: {
          requester: 'requester-1',
          title: 'doomed',
          scope: 'code',
          capabilities: [],
          priority: 5,
          context: { k: 1 },
          timeout_ms: 300_000,
          max_retries: 3,
        },
        reason: 'execution_failed',
        reason_detail: 'disk full',
        failed_at: expect.any(String),
        retry_count: 1,
        max_retries: 3,
        retry_history: [{ attempt: 1, attempted_at: expect.any(String), agent: 'w1', failure_reason: 'disk full' }],
        task_id: task.id,
        source: 'dispatch',
        recoverable: true,
        recovered: false,
      });
      // The payload recreates the task through swarm.task.request (data = the body plus requester).
      const reply = await nc.request('swarm.task.request', JSON.stringify({ id: randomUUID(), data: m!.envelope.original_payload }), { timeout: 5000 });
      expect(reply.json()).toMatchObject({ title: 'doomed', scope: 'code', requester: 'requester-1', status: 'pending' });
    } finally {
      await dlq.close();
    }
  });
});
