// The chaos suite's invariant checker on hand-made histories: a clean one passes, and each kind
// of violation it exists to find is counted (so a green chaos table means something).
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, outOfOrder, sampleBreaches } from '../scripts/chaos/checker.js';
import { insertEvents, subjectOf } from '../src/store/events.js';
import { rowToTask, type TaskRow } from '../src/core/task.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertTask } from './helpers/factories.js';
import { startNatsServer, type NatsServer } from './helpers/nats-server.js';

let db: TestDatabase;
let nats: NatsServer;
beforeAll(async () => {
  db = await createTestDatabase();
  nats = await startNatsServer();
});
afterAll(async () => {
  await db?.drop();
  await nats?.stop();
});

async function event(row: TaskRow, type: 'assigned' | 'completed' | 'reassigned', agent?: string) {
  await db.sql.begin((tx) => insertEvents(tx, [{ type, task: rowToTask(row), ...(agent ? { extra: { agent } } : {}) }], new Date()));
}

async function setAttempt(row: TaskRow, attempt: number) {
  await db.sql`update tasks set attempt = ${attempt} where id = ${row.id}`;
}

describe('checkInvariants', () => {
  it('finds nothing wrong in a clean history, and every kind of violation in a broken one', async () => {
    // Clean: created → assigned(a1) → completed; created → assigned(a2), still running.
    const done = await insertTask(db.sql, { status: 'completed' });
    await event(done, 'assigned', 'a1');
    await event(done, 'completed');
    await setAttempt(done, 1);
    const running = await insertTask(db.sql, { status: 'running', assignee: 'a2' });
    await db.sql`delete from task_events where task_id = ${running.id} and type <> 'created'`;
    await event(running, 'assigned', 'a2');
    const acknowledged = new Set([done.id, running.id]);
    const clean = await checkInvariants(db.sql, { acknowledged, limit: 1, liveBreaches: 0 });
    expect(clean).toMatchObject({ tasks: 2, lost: 0, duplicated: 0, breaches: 0, eventsMissing: 0, eventsDuplicated: 0, unfinished: 1 });

    // Broken: assigned to b1 and b2 without the first attempt ending (duplicated, and b2 then
    // holds two tasks with limit 1 → a breach); a completed task with no completed event; an
    // acknowledged id that does not exist.
    const twice = await insertTask(db.sql, { status: 'running', assignee: 'b2' });
    await event(twice, 'assigned', 'b1');
    await event(twice, 'assigned', 'b2');
    await setAttempt(twice, 2);
    const other = await insertTask(db.sql, { status: 'running', assignee: 'b2' });
    await event(other, 'assigned', 'b2');
    const silent = await insertTask(db.sql, { status: 'completed' });
    const broken = await checkInvariants(db.sql, {
      acknowledged: new Set([...acknowledged, twice.id, other.id, silent.id, randomUUID()]),
      limit: 1,
      liveBreaches: 0,
    });
    expect(broken.lost).toBe(1);
    expect(broken.duplicated).toBe(1);
    expect(broken.breaches).toBeGreaterThanOrEqual(1);
    expect(broken.eventsMissing).toBeGreaterThanOrEqual(1);
    expect(await sampleBreaches(db.sql, 1)).toBe(1); // b2 holds two right now
  });

  it('reads the JetStream stream: events missing from it and duplicates in it', async () => {
    const nc: NatsConnection = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'DISPATCH_EVENTS', subjects: ['swarm.task.>'] });
      const js = jetstream(nc);
      const rows = await db.sql<
        { id: string; task_id: string; type: string; envelope: unknown }[]
      >`select id::text, task_id::text, type, dispatch_task_envelope(task_events) as envelope from task_events order by seq`;
      // Publish all but the last; publish the first one again without Nats-Msg-Id (no dedup:
      // the checker then knows it by the envelope id).
      for (const r of rows.slice(0, -1)) await js.publish(subjectOf('task', r.task_id, r.type), JSON.stringify(r.envelope), { msgID: r.id });
      await js.publish(subjectOf('task', rows[0]!.task_id, rows[0]!.type), JSON.stringify(rows[0]!.envelope));
      const v = await checkInvariants(db.sql, { acknowledged: new Set(), limit: 10, liveBreaches: 0, natsUrl: nats.url });
      expect(v.natsMissing).toBe(1);
      expect(v.natsDuplicated).toBe(1);
      expect(v.natsOutOfOrder).toBe(0); // the duplicate came last: the first copies are in order
    } finally {
      await nc.close();
    }
  });

  it('counts the tasks whose events the stream holds out of outbox order (first copies; missing ones aside)', () => {
    const events = [
      { id: 'a1', task_id: 'a' },
      { id: 'b1', task_id: 'b' },
      { id: 'a2', task_id: 'a' },
      { id: 'b2', task_id: 'b' },
      { id: 'c1', task_id: 'c' },
      { id: 'c2', task_id: 'c' },
    ];
    // a in order (other tasks interleaved), b swapped, c's first event missing, a2 repeated late.
    expect(outOfOrder(events, ['b2', 'a1', 'c2', 'b1', 'a2', 'a2'])).toBe(1);
    expect(outOfOrder(events, ['a1', 'b1', 'a2', 'b2', 'c1', 'c2', 'a1'])).toBe(0);
  });
});
