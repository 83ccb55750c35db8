// `swarm.task.request` over a real nats-server: creates a task with POST's validation, replies
// when asked, dedups a redelivered request, and survives bad messages (logged and counted).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startApp } from './helpers/app.js';
import { natsConnect, waitFor } from './helpers/events.js';
import { startNatsServer, type NatsServer } from './helpers/nats-server.js';
import { parseTaskRequest } from '../src/events/task-requests.js';

const envelope = (data: unknown, id: string = randomUUID()) =>
  JSON.stringify({
    id,
    type: 'task.request',
    source: 'test',
    timestamp: new Date().toISOString(),
    data,
  });

async function counter(opsUrl: string, labels: string): Promise<number> {
  const text = await (await request(`${opsUrl}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`dispatch_consumed_messages_total{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

// A private nats-server: swarm.task.request is consumed in a queue group, so on the shared server
// another test file's Dispatch (another database) could answer these requests.
let nats: NatsServer;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats.stop();
});

describe('task request consumer', () => {
  it('creates a task like POST does, replies with it, and creates it once for a redelivered request', async () => {
    const natsUrl = nats.url;
    await using t = await startApp({ config: { hermes: { url: natsUrl } } });
    await waitFor('nats connected', async () => ((await (await request(`${t.opsUrl}/health`)).body.json()) as any).checks.nats === 'ok');
    const nc = await natsConnect(natsUrl);
    try {
      const title = `from nats ${randomUUID()}`;
      const id = randomUUID();
      const msg = envelope({ title, requester: 'planner', scope: 'Research', capabilities: ['Web'], priority: 7, context: { q: 1 } }, id);
      const reply = await waitFor('reply', async () => nc.request('swarm.task.request', msg, { timeout: 2000 }).catch(() => undefined));
      const task = reply.json<any>();
      expect(task).toMatchObject({ title, requester: 'planner', scope: 'Research', capabilities: ['web'], priority: 7, status: 'pending', context: { q: 1 } });
      const got = await t.call('GET', `/api/v1/tasks/${task.id}`);
      expect(got.body).toMatchObject({ id: task.id, title });
      // The same envelope again (redelivery): the same task back, no second row.
      const again = (await nc.request('swarm.task.request', msg, { timeout: 2000 })).json<any>();
      expect(again.id).toBe(task.id);
      const rows = await t.sql`select id from tasks where title = ${title}`;
      expect(rows.length).toBe(1);
      const events = await t.sql`select type from task_events where task_id = ${task.id}`;
      expect(events.map((e) => e.type)).toContain('created');
    } finally {
      await nc.close();
    }
  });

  it('refuses what POST refuses, answering the contract error body and counting it', async () => {
    const natsUrl = nats.url;
    await using t = await startApp({ config: { hermes: { url: natsUrl } } });
    await waitFor('nats connected', async () => ((await (await request(`${t.opsUrl}/health`)).body.json()) as any).checks.nats === 'ok');
    const nc = await natsConnect(natsUrl);
    try {
      const before = await counter(t.opsUrl, 'kind="task_request",outcome="invalid"');
      const ask = async (payload: string) =>
        (await waitFor('reply', async () => nc.request('swarm.task.request', payload, { timeout: 2000 }).catch(() => undefined))).json<any>();
      expect(await ask(envelope({ requester: 'planner' }))).toMatchObject({ code: 'validation_failed' }); // no title
      expect(await ask(envelope({ title: 'x', requester: 'planner', bogus: 1 }))).toMatchObject({ code: 'validation_failed' });
      expect(await ask(envelope({ title: 'x', requester: 'planner', priority: '5' }))).toMatchObject({ code: 'validation_failed' });
      expect(await ask(envelope({ title: 'x' }))).toMatchObject({ code: 'validation_failed' }); // no requester
      expect(await ask(envelope({ title: 'x', requester: 'planner', parent_id: randomUUID() }))).toMatchObject({ code: 'validation_failed' });
      expect(await ask('not json')).toMatchObject({ code: 'validation_failed' });
      nc.publish('swarm.task.request', '[]'); // no reply subject: logged and counted only
      await waitFor('invalid counted', async () => (await counter(t.opsUrl, 'kind="task_request",outcome="invalid"')) - before >= 7);
      const rows = await t.sql`select 1 from tasks`;
      expect(rows.length).toBe(0);
      // Still alive.
      const ok = await ask(envelope({ title: 'fine', requester: 'planner' }));
      expect(ok).toMatchObject({ title: 'fine', status: 'pending' });
    } finally {
      await nc.close();
    }
  });

  it('parses the envelope: requester out of data, envelope id as the idempotency key', () => {
    expect(parseTaskRequest(envelope({ title: 't', requester: 'a' }, 'abc'))).toEqual({ requester: 'a', body: { title: 't' }, idempotencyKey: 'nats:abc' });
    expect(() => parseTaskRequest(JSON.stringify({ data: { title: 't', requester: 'bad id' } }))).toThrow(/requester/);
  });

  it('accepts the v1 dialect: submitter, required_capabilities, metadata, timeout_seconds; source ignored; requester wins', () => {
    const v1 = { title: 't', submitter: 'planner', required_capabilities: ['code'], metadata: { a: 1 }, timeout_seconds: 90, source: 'hermes' };
    expect(parseTaskRequest(envelope(v1, 'k1'))).toEqual({
      requester: 'planner',
      body: { title: 't', capabilities: ['code'], context: { a: 1 }, timeout_ms: 90_000 },
      idempotencyKey: 'nats:k1',
    });
    expect(parseTaskRequest(envelope({ title: 't', submitter: 'planner', requester: 'boss' })).requester).toBe('boss');
    // The canonical field wins over its alias.
    expect(
      parseTaskRequest(envelope({ title: 't', requester: 'a', capabilities: ['x'], required_capabilities: ['y'], timeout_ms: 5, timeout_seconds: 9 })).body,
    ).toEqual({
      title: 't',
      capabilities: ['x'],
      timeout_ms: 5,
    });
    expect(() => parseTaskRequest(envelope({ title: 't', requester: 'a', timeout_seconds: 'soon' }))).toThrow(/timeout_seconds/);
  });
});
