// Stream handling (docs/events.md): publish into an existing stream that captures swarm.task.>,
// else create DISPATCH_EVENTS; run events (swarm.run.*.*) go to DISPATCH_EVENTS unless a stream
// captures them too.
import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { startApp } from './helpers/app.js';
import { natsConnect, readStream, waitFor } from './helpers/events.js';
import { insertTask } from './helpers/factories.js';
import { startNatsServer } from './helpers/nats-server.js';
import { countUnpublished } from '../src/store/outbox.js';
import { DEFAULT_STREAM, DLQ_STREAM, ensureTaskStream, subjectCaptures } from '../src/events/stream.js';
import pino from 'pino';

describe('task event stream', () => {
  it('publishes task events into an existing stream that captures swarm.task.>, and creates one only for run events', async () => {
    const nats = await startNatsServer();
    try {
      const nc = await natsConnect(nats.url);
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({ name: 'TASK_EVENTS', subjects: ['swarm.task.>'] });
        await using t = await startApp({ config: { hermes: { url: nats.url } } });
        const task = await insertTask(t.sql);
        await waitFor('outbox drained', async () => (await countUnpublished(t.sql)) === 0);
        const stored = await readStream(nc, 'TASK_EVENTS');
        expect(stored.map((m) => m.subject)).toEqual([`swarm.task.${task.id}.created`]);
        const names: string[] = [];
        for await (const n of jsm.streams.names()) names.push(n);
        expect(names.sort()).toEqual([DLQ_STREAM, DEFAULT_STREAM, 'TASK_EVENTS']);
        expect((await jsm.streams.info(DEFAULT_STREAM)).config.subjects).toEqual(['swarm.run.*.*']);
      } finally {
        await nc.close();
      }
    } finally {
      await nats.stop();
    }
  });

  it('creates DISPATCH_EVENTS with a duplicate window when no stream captures the subjects', async () => {
    const nats = await startNatsServer();
    try {
      await using t = await startApp({ config: { hermes: { url: nats.url } } });
      await insertTask(t.sql);
      await waitFor('outbox drained', async () => (await countUnpublished(t.sql)) === 0);
      const nc = await natsConnect(nats.url);
      try {
        const info = await (await jetstreamManager(nc)).streams.info(DEFAULT_STREAM);
        expect(info.config.subjects).toEqual(['swarm.task.*.*', 'swarm.run.*.*']);
        expect(info.config.duplicate_window).toBe(10 * 60_000 * 1_000_000);
        expect(info.state.messages).toBe(1);
      } finally {
        await nc.close();
      }
    } finally {
      await nats.stop();
    }
  });

  it('a stream that captures both (swarm.>) is used for both, and Dispatch creates only DISPATCH_DLQ', async () => {
    const nats = await startNatsServer();
    try {
      const nc = await natsConnect(nats.url);
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.add({ name: 'EVERYTHING', subjects: ['swarm.>'] });
        await using t = await startApp({ config: { hermes: { url: nats.url } } });
        await insertTask(t.sql);
        await waitFor('outbox drained', async () => (await countUnpublished(t.sql)) === 0);
        const names: string[] = [];
        for await (const n of jsm.streams.names()) names.push(n);
        // dlq.> is outside swarm.>: the dead-letter stream is Dispatch's own.
        expect(names.sort()).toEqual([DLQ_STREAM, 'EVERYTHING']);
      } finally {
        await nc.close();
      }
    } finally {
      await nats.stop();
    }
  });

  it('hermes.stream_replicas: an existing stream with another replica count is left as it is, with one warning', async () => {
    const nats = await startNatsServer();
    try {
      const nc = await natsConnect(nats.url);
      try {
        const jsm = await jetstreamManager(nc);
        // Both exist (R1, a single server could not hold more): nothing is created.
        await jsm.streams.add({ name: 'TASK_EVENTS', subjects: ['swarm.>'], num_replicas: 1 });
        await jsm.streams.add({ name: 'SWARM_DLQ', subjects: ['dlq.>'], num_replicas: 1 });
        const lines: string[] = [];
        const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
        // Twice, as on a reconnect: one warning per stream, not one per check.
        for (let i = 0; i < 2; i++) expect(await ensureTaskStream(nc, log, 24, 3)).toBe('TASK_EVENTS,SWARM_DLQ');
        expect((await jsm.streams.info('TASK_EVENTS')).config.num_replicas).toBe(1);
        const warned = lines.map((l) => JSON.parse(l) as { stream?: string; replicas?: number; stream_replicas?: number; msg: string });
        expect(warned.map((w) => [w.stream, w.replicas, w.stream_replicas]).sort()).toEqual([
          ['SWARM_DLQ', 1, 3],
          ['TASK_EVENTS', 1, 3],
        ]);
        expect(warned[0]!.msg).toContain('left as it is');
      } finally {
        await nc.close();
      }
    } finally {
      await nats.stop();
    }
  });

  it('knows which filters capture the task event subjects', () => {
    expect(subjectCaptures('swarm.task.*.*', 'swarm.task.*.*')).toBe(true);
    expect(subjectCaptures('swarm.task.>', 'swarm.task.*.*')).toBe(true);
    expect(subjectCaptures('swarm.task.*.created', 'swarm.task.*.*')).toBe(false);
    expect(subjectCaptures('swarm.task.*', 'swarm.task.*.*')).toBe(false);
    expect(subjectCaptures('swarm.task.>', 'swarm.task.>')).toBe(true);
    expect(subjectCaptures('swarm.>', 'swarm.task.>')).toBe(true);
    expect(subjectCaptures('>', 'swarm.task.>')).toBe(true);
    expect(subjectCaptures('swarm.*.>', 'swarm.task.>')).toBe(true);
    expect(subjectCaptures('swarm.task.*', 'swarm.task.>')).toBe(false);
    expect(subjectCaptures('swarm.task.*.created', 'swarm.task.>')).toBe(false);
    expect(subjectCaptures('swarm.agent.>', 'swarm.task.>')).toBe(false);
  });
});
