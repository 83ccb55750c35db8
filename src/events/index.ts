// Events and observability wiring: the NATS link (+ its /health check), the wake-ups (what a
// committed change may end, here and on the other replicas), the outbox relay, the consumers, and
// the database-backed gauges. createDispatch pushes `components` in this order.
import type { Component, DispatchContext } from '../context.js';
import type { Sql } from '../store/db.js';
import { createGaugeRefresher, type GaugeRefresher } from '../observability/gauges.js';
import { createConsumers, type Consumers } from './consumers.js';
import { NatsLink } from './nats.js';
import { createRelay, type Relay, type RelayOptions } from './relay.js';
import { createWorkerReports, type WorkerReports } from './worker-reports.js';
import { createWakes, type Wakes } from './wakes.js';

export interface Events {
  nats: NatsLink;
  relay: Relay;
  wakes: Wakes;
  consumers: Consumers;
  workerReports: WorkerReports;
  gauges: GaugeRefresher;
  components: Component[];
}

/** `sql`: the pool the relay's batches use (the background pool in production). */
export function createEvents(ctx: DispatchContext, sql: Sql = ctx.sql, relayOptions: Omit<RelayOptions, 'sql'> = {}): Events {
  const nats = new NatsLink({ url: ctx.config.hermes.url, logger: ctx.logger });
  ctx.health.push({ name: 'nats', check: () => nats.health(), waitingFor: () => nats.waitingFor() });
  const wakes = createWakes(ctx, { nats });
  const relay = createRelay(ctx, nats, { ...relayOptions, sql, onPublished: (rows) => wakes.published(rows) });
  const consumers = createConsumers(ctx, nats);
  const workerReports = createWorkerReports(ctx, nats);
  const gauges = createGaugeRefresher(ctx, nats);
  const link: Component = {
    name: 'nats',
    start: async () => nats.start(),
    stop: () => nats.stop(),
  };
  return { nats, relay, wakes, consumers, gauges, workerReports, components: [link, wakes, relay, consumers, workerReports, gauges] };
}
