// Helpers for event tests: polling waits, reading a JetStream stream back, and collecting what a
// plain subscriber sees on swarm.task.>.
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { waitFor as waitUntil } from './wait.js';

/** waitFor with the description first (the event tests' argument order). */
export function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 15_000, intervalMs = 25): Promise<NonNullable<T>> {
  return waitUntil(fn, what, timeoutMs, intervalMs);
}

export interface StreamMessage {
  seq: number;
  subject: string;
  msgId: string | undefined;
  envelope: any;
}

/** Every message of `stream` matching `filter`, in stream order (an ordered consumer). */
export async function readStream(nc: NatsConnection, stream: string, filter = 'swarm.task.*.*'): Promise<StreamMessage[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream, { filter_subjects: filter });
  const info = await consumer.info();
  const total = info.num_pending;
  const out: StreamMessage[] = [];
  while (out.length < total) {
    const batch = await consumer.fetch({ max_messages: Math.min(500, total - out.length), expires: 2000 });
    let got = 0;
    for await (const m of batch) {
      got++;
      out.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), envelope: m.json() });
    }
    if (got === 0) break;
  }
  await consumer.delete().catch(() => {});
  return out;
}

export interface Collector {
  messages: Array<{ subject: string; msgId: string | undefined; envelope: any }>;
  close(): Promise<void>;
}

/** A plain (core) subscriber: sees every publish, duplicates included. */
export async function collect(url: string, subject: string): Promise<Collector> {
  const nc = await connect({ servers: url });
  const messages: Collector['messages'] = [];
  nc.subscribe(subject, {
    callback: (_err, m) => {
      messages.push({ subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id'), envelope: m.json() });
    },
  });
  await nc.flush();
  return { messages, close: () => nc.close() };
}

export function natsConnect(url: string): Promise<NatsConnection> {
  return connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
}
