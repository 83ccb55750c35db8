// Callback deliveries are written by the statements that write their events (issue #23, "no
// database trigger remains"): whichever path inserts an event — a create, a sync match, the
// scheduler's assignment, an unmatched mark, a report, a PATCH — inserts the event's delivery row
// in the same statement when core/callbacks.ts deliveryUrlOf says the event is wanted, and only then.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { quiesce, waitFor } from './helpers/wait.js';
import { schedulerOf } from './fakes/swarm.js';
import { deliveryUrlOf } from '../src/core/callbacks.js';
import type { Sender } from '../src/callbacks/sender.js';

const HOOK = 'http://127.0.0.1:9/hook';
const config = {
  webhooks: { secret: 'deliveries-test', allowed_hosts: ['127.0.0.1'] },
  assignment: { tick_interval_ms: 600_000, max_concurrent_per_agent: 1 },
  agents: [{ id: 'w1', name: 'w1', capabilities: ['x'], state: 'ready' }] as never,
};

async function quietApp(): Promise<TestApp> {
  const t = await startApp({ config });
  await quiesce(t);
  const sender = t.dispatch.components.find((c) => c.name === 'callback-sender') as unknown as Sender;
  await sender.loop.stop(); // rows stay pending: the test reads them
  return t;
}

/** The task's events and its delivery rows, both in order. */
async function eventsAndDeliveries(t: TestApp, id: string) {
  const events = (await t.call('GET', `/api/v1/tasks/${id}/events`)).body.events as { id: string; type: string }[];
  const deliveries = (await t.call('GET', `/api/v1/tasks/${id}/deliveries`)).body.deliveries as { event_id: string; type: string; url: string }[];
  return { events, deliveries };
}

describe('delivery rows written with their events', () => {
  it('every event of a task that lists "*": sync match (created, assigned) and a report (completed)', async () => {
    await using t = await quietApp();
    const res = await t.call('POST', '/api/v1/tasks', { body: { title: 'all', capabilities: ['x'], callback_url: HOOK, callback_events: ['*'] } });
    expect(res.body.status).toBe('assigned');
    expect((await t.call('POST', `/api/v1/tasks/${res.body.id}/complete`, { agent: 'w1', body: { result: { ok: true } } })).status).toBe(200);
    const { events, deliveries } = await eventsAndDeliveries(t, res.body.id);
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.assigned', 'task.completed']);
    expect(deliveries.map((d) => [d.event_id, d.type])).toEqual(events.map((e) => [e.id, e.type.slice(5)]));
  });

  it("the scheduler's assignment and its unmatched marks; the default wants only the end", async () => {
    await using t = await quietApp();
    const first = await t.call('POST', '/api/v1/tasks', { body: { title: 'busy', capabilities: ['x'] } });
    expect(first.body.status).toBe('assigned'); // w1's one slot is taken
    const listed = await t.call('POST', '/api/v1/tasks', {
      body: { title: 'later', capabilities: ['x'], callback_url: HOOK, callback_events: ['assigned', 'unmatched'] },
    });
    const plain = await t.call('POST', '/api/v1/tasks', { body: { title: 'nobody', capabilities: ['nobody-has-this'], callback_url: HOOK } });
    expect(listed.body.status).toBe('pending');
    await schedulerOf(t).runOnce(); // marks both unmatched (no free slot, no capable agent)
    await t.call('POST', `/api/v1/tasks/${first.body.id}/complete`, { agent: 'w1', body: {} });
    await schedulerOf(t).runOnce(); // dispatch_assign gives `listed` the freed slot
    const l = await eventsAndDeliveries(t, listed.body.id);
    expect(l.events.map((e) => e.type)).toEqual(['task.created', 'task.unmatched', 'task.assigned']);
    expect(l.deliveries.map((d) => d.event_id)).toEqual([l.events[1]!.id, l.events[2]!.id]);
    const p = await eventsAndDeliveries(t, plain.body.id);
    expect(p.events.map((e) => e.type)).toEqual(['task.created', 'task.unmatched']);
    expect(p.deliveries).toEqual([]);
    expect((await t.call('PATCH', `/api/v1/tasks/${plain.body.id}`, { body: { status: 'cancelled' } })).status).toBe(200);
    const after = await eventsAndDeliveries(t, plain.body.id);
    expect(after.deliveries.map((d) => [d.event_id, d.type])).toEqual([[after.events.at(-1)!.id, 'cancelled']]);
  });

  it('a retried failure is delivered when listed, not by default', async () => {
    await using t = await quietApp();
    const fail = async (id: string) =>
      expect((await t.call('POST', `/api/v1/tasks/${id}/fail`, { agent: 'w1', body: { error: 'boom', retryable: true } })).body.status).toBe('pending');
    const listed = await t.call('POST', '/api/v1/tasks', {
      body: { title: 'a', capabilities: ['x'], callback_url: HOOK, callback_events: ['failed'], max_retries: 2 },
    });
    expect(listed.body.status).toBe('assigned');
    await fail(listed.body.id);
    await t.call('PATCH', `/api/v1/tasks/${listed.body.id}`, { body: { status: 'cancelled' } }); // frees nothing: it waits for its retry
    const dflt = await t.call('POST', '/api/v1/tasks', { body: { title: 'b', capabilities: ['x'], callback_url: HOOK, max_retries: 2 } });
    expect(dflt.body.status).toBe('assigned');
    await fail(dflt.body.id);
    const l = await eventsAndDeliveries(t, listed.body.id);
    const failed = l.events.filter((e) => e.type === 'task.failed');
    expect(failed).toHaveLength(1);
    expect(l.deliveries.map((d) => d.event_id)).toEqual([failed[0]!.id]);
    const d = await eventsAndDeliveries(t, dflt.body.id);
    expect(d.events.map((e) => e.type)).toContain('task.failed');
    expect(d.deliveries).toEqual([]);
  });

  it("the writer's sender is poked after the commit: the first claim comes from the write, not the poll", async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(String(req.headers['x-dispatch-event']));
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      await using t = await startApp({ config });
      await quiesce(t);
      const sender = t.dispatch.components.find((c) => c.name === 'callback-sender') as unknown as Sender;
      const claims: string[] = [];
      sender.loop.on('run', (r, trigger) => {
        if (r.claimed > 0) claims.push(trigger);
      });
      // Right after a run, the poll is a whole interval (1 s) away.
      await new Promise<void>((r) => sender.loop.once('run', () => r()));
      const res = await t.call('POST', '/api/v1/tasks', { body: { title: 'tell me', capabilities: ['x'], callback_url: url, callback_events: ['assigned'] } });
      expect(res.body.status).toBe('assigned');
      await waitFor(() => (received.length > 0 ? received : undefined), 'the callback');
      expect(received).toEqual(['task.assigned']);
      expect(claims[0]).toBe('poke');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('no trigger writes them', async () => {
    await using t = await startApp();
    const [r] = await t.sql<{ n: number }[]>`
      select count(*)::int as n from pg_trigger where tgrelid = 'task_events'::regclass and not tgisinternal and tgname = 'task_events_deliveries'`;
    expect(r!.n).toBe(0);
  });
});

describe('deliveryUrlOf (core/callbacks.ts): the rule the trigger of migration 0011 applied', () => {
  const task = (status: string, callback_events: string[] | null, callback_url: string | null = HOOK) => ({ status, callback_url, callback_events }) as never;
  it.each([
    ['completed', 'completed', null, HOOK],
    ['failed', 'failed', null, HOOK],
    ['failed', 'pending', null, null],
    ['timeout', 'timed_out', null, HOOK],
    ['timeout', 'pending', null, null],
    ['cancelled', 'cancelled', null, HOOK],
    ['assigned', 'assigned', null, null],
    ['assigned', 'assigned', ['assigned'], HOOK],
    ['failed', 'pending', ['failed'], HOOK],
    ['created', 'pending', ['*'], HOOK],
    ['progress', 'running', ['completed'], null],
  ])('%s with status %s, callback_events %j → %s', (type, status, events, want) => {
    expect(deliveryUrlOf(type, task(status, events as string[] | null))).toBe(want);
  });
  it('no callback_url: never', () => {
    expect(deliveryUrlOf('completed', task('completed', ['*'], null))).toBeNull();
  });
});
