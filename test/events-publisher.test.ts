// The relay's JetStream publisher: pipelined publishes acknowledged over one inbox subscription.
// A publish counts only when the stream acknowledges it; everything else is a rejection the
// relay retries.
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPublisher } from '../src/events/publisher.js';
import { natsConnect, readStream } from './helpers/events.js';
import { startNatsServer, type NatsServer } from './helpers/nats-server.js';

let nats: NatsServer;
let nc: NatsConnection;
beforeAll(async () => {
  nats = await startNatsServer();
  nc = await natsConnect(nats.url);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'PUB_TEST', subjects: ['pubtest.>'], duplicate_window: 60_000_000_000 });
});
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe('AckPublisher', () => {
  it('resolves with the stream ack, in parallel, and a repeated Nats-Msg-Id is stored once', async () => {
    const p = new AckPublisher(nc, 5000);
    try {
      const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => p.publish(`pubtest.${i % 7}`, JSON.stringify({ i }), `id-${i}`)));
      expect(acks.every((a) => a.stream === 'PUB_TEST' && a.seq > 0 && !a.duplicate)).toBe(true);
      expect(new Set(acks.map((a) => a.seq)).size).toBe(200);
      const again = await p.publish('pubtest.0', JSON.stringify({ i: 0 }), 'id-0');
      expect(again.duplicate).toBe(true);
      const stored = await readStream(nc, 'PUB_TEST', 'pubtest.>');
      expect(stored).toHaveLength(200);
    } finally {
      p.close();
    }
  });

  it('rejects a subject no stream captures (no responders)', async () => {
    const p = new AckPublisher(nc, 5000);
    try {
      await expect(p.publish('nostream.x', '{}', 'nr-1')).rejects.toThrow(/no responders/);
    } finally {
      p.close();
    }
  });

  it('rejects when nothing acknowledges within the timeout, and on close', async () => {
    // A plain subscriber receives the message but never answers: no ack.
    const silent = nc.subscribe('silent.>');
    const p = new AckPublisher(nc, 300);
    try {
      await expect(p.publish('silent.a', '{}', 's-1')).rejects.toThrow(/no publish ack within 300 ms/);
      const waiting = p.publish('silent.b', '{}', 's-2');
      p.close();
      await expect(waiting).rejects.toThrow(/closed/);
      await expect(p.publish('pubtest.x', '{}', 's-3')).rejects.toThrow(/closed/);
    } finally {
      silent.unsubscribe();
      p.close();
    }
  });
});
