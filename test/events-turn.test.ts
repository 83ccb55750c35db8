// A turn's NATS commands (events/turn.ts): deferred commands of chains already queued go out
// together, in order, then the connection's buffer is written at once — before what those chains
// queue next (a create's HTTP answer) and before the turn's check phase.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TurnBatch, writeOutbound } from '../src/events/turn.js';
import { natsConnect } from './helpers/events.js';

describe('TurnBatch', () => {
  it('issues the commands of chains already queued in one flush, in order, then writes', async () => {
    const order: string[] = [];
    const t = new TurnBatch(() => order.push('write'));
    // Three chains continuing together, as a group-commit batch's completions do.
    await Promise.all(
      [1, 2, 3].map(async (i) => {
        await null;
        t.defer(() => order.push(`c${i}`));
      }),
    );
    expect(order).toEqual(['c1', 'c2', 'c3', 'write']);
    expect(t.stats).toEqual({ flushes: 1, commands: 3 });
  });

  it("flushes before what the deferring chain queues next, and before the turn's check phase", async () => {
    const order: string[] = [];
    const t = new TurnBatch(() => order.push('write'));
    const answered = (async () => {
      t.defer(() => order.push('publish'));
      await null; // the create returns; its HTTP answer is written in a later microtask
      await null;
      order.push('answer');
    })();
    setImmediate(() => order.push('check phase'));
    await answered;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['publish', 'write', 'answer', 'check phase']);
  });

  it('a write that throws (a connection going away) stops nothing', async () => {
    const ran: string[] = [];
    const t = new TurnBatch(() => {
      throw new Error('socket gone');
    });
    t.defer(() => ran.push('a'));
    await new Promise((r) => setImmediate(r));
    t.defer(() => ran.push('b'));
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['a', 'b']);
    expect(t.stats.flushes).toBe(2);
  });
});

describe('writeOutbound', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await natsConnect(inject('natsUrl')); // the suite's shared nats-server (test/global-setup.ts)
  });
  afterAll(async () => nc?.close());

  it("writes a connection's buffered commands at once, on the nats.js in use", () => {
    const outbound = (nc as unknown as { protocol: { outbound: { size(): number } } }).protocol.outbound;
    nc.publish('turn.test', 'x');
    expect(outbound.size()).toBeGreaterThan(0); // nats.js would write it in a microtask of its own
    writeOutbound(nc);
    expect(outbound.size()).toBe(0);
  });
});
