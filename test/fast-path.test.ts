// The fast path's order per task (events/fast-path.ts): the events of one commit go out back to
// back, without waiting for each other's acknowledgement; a later commit's wait for the earlier
// commit's; a failure in a commit fails the rest of its task's chain to the relay. A publisher
// that acknowledges only when told stands in for NATS; the marks go to a real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { randomUUID } from 'node:crypto';
import { FastPath } from '../src/events/fast-path.js';
import type { AckPublisher, PubAck } from '../src/events/publisher.js';
import { committedEvents, type CommittedEvents } from '../src/store/events.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

interface Sent {
  subject: string;
  id: string;
  ack(): void;
  refuse(): void;
}

function heldPublisher(): { publisher: AckPublisher; sent: Sent[] } {
  const sent: Sent[] = [];
  const publisher = {
    publish(subject: string, _data: string, id: string): Promise<PubAck> {
      return new Promise<PubAck>((resolve, reject) => {
        sent.push({ subject, id, ack: () => resolve({ stream: 'S', seq: sent.length }), refuse: () => reject(new Error('refused')) });
      });
    },
  } as unknown as AckPublisher;
  return { publisher, sent };
}

function commit(taskId: string, types: string[]): CommittedEvents {
  const c = committedEvents();
  for (const type of types) c.rows.push({ id: randomUUID(), taskId, type, json: '{}' });
  return c;
}

const flushed = () => new Promise((r) => setImmediate(r));

describe('fast path: order per task', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it("sends one commit's events together, and a later commit's only after their acknowledgements", async () => {
    const { publisher, sent } = heldPublisher();
    const declined: string[] = [];
    const fp = new FastPath({ sql: db.sql, log: pino({ level: 'silent' }), publisher: () => publisher, declined: (ids) => declined.push(...ids) });
    const task = randomUUID();
    fp.offer(commit(task, ['created', 'assigned']));
    await flushed();
    // Both on the wire before either is acknowledged.
    expect(sent.map((s) => s.subject)).toEqual([`swarm.task.${task}.created`, `swarm.task.${task}.assigned`]);
    fp.offer(commit(task, ['started', 'completed']));
    await flushed();
    expect(sent).toHaveLength(2); // the next commit waits for the first one's acks
    sent[1]!.ack();
    await flushed();
    expect(sent).toHaveLength(2); // … for all of them, in order
    sent[0]!.ack();
    await flushed();
    await flushed();
    expect(sent.map((s) => s.subject.split('.').pop())).toEqual(['created', 'assigned', 'started', 'completed']);
    sent[2]!.ack();
    sent[3]!.ack();
    await flushed();
    expect(fp.stats).toMatchObject({ offered: 4, published: 4, failed: 0 });
    expect(declined).toEqual([]);
    await fp.stop();
  });

  it('a refused event fails the events after it in its commit and the later commits, all left to the relay', async () => {
    const { publisher, sent } = heldPublisher();
    const declined: string[] = [];
    const fp = new FastPath({ sql: db.sql, log: pino({ level: 'silent' }), publisher: () => publisher, declined: (ids) => declined.push(...ids) });
    const task = randomUUID();
    const first = commit(task, ['created', 'assigned']);
    const second = commit(task, ['completed']);
    fp.offer(first);
    fp.offer(second);
    await flushed();
    expect(sent).toHaveLength(2);
    sent[1]!.ack(); // stored, but after a refused event: counted as not published
    sent[0]!.refuse();
    await flushed();
    await flushed();
    expect(sent).toHaveLength(2); // the later commit was never sent
    expect(new Set(declined)).toEqual(new Set([...first.rows, ...second.rows].map((r) => r.id)));
    expect(fp.stats).toMatchObject({ offered: 3, published: 0, failed: 3 });
    await fp.stop();
  });
});
