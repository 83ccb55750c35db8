// Gauges read from the database: queue depth by live status, oldest pending age, active tasks per
// agent, unpublished outbox rows. Refreshed before a scrape but at most every `maxAgeMs`, and
// concurrent scrapes share one refresh, so a scrape storm never turns into a query storm. Every
// read is bounded: counters (migration 0004), one index entry, partial indexes on live rows.
import type { Component, DispatchContext } from '../context.js';
import type { NatsLink } from '../events/nats.js';
import { countUnpublished } from '../store/outbox.js';
import { activeTasksByAgent, foldStatDeltas, readQueueStats } from '../store/stats.js';

export interface GaugeRefresher extends Component {
  /** Refresh unless the values are younger than maxAgeMs. */
  refresh(): Promise<void>;
}

export interface GaugeOptions {
  maxAgeMs?: number;
  /** How often stat deltas are folded into task_stats. */
  foldEveryMs?: number;
}

export function createGaugeRefresher(ctx: DispatchContext, nats: NatsLink, opts: GaugeOptions = {}): GaugeRefresher {
  const maxAgeMs = opts.maxAgeMs ?? 2000;
  const foldEveryMs = opts.foldEveryMs ?? 5000;
  const m = ctx.metrics;
  const log = ctx.logger.child({ component: 'gauges' });
  let last = 0;
  let inflight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let folding: Promise<unknown> | undefined;

  async function load(): Promise<void> {
    const now = ctx.clock.now();
    const [stats, unpublished, active] = await Promise.all([
      readQueueStats(ctx.sql, now),
      countUnpublished(ctx.sql),
      activeTasksByAgent(ctx.sql),
    ]);
    for (const s of ['pending', 'assigned', 'running'] as const) m.queueDepth.set({ status: s }, stats.counts[s]);
    m.oldestPending.set(stats.oldest_pending_ms / 1000);
    m.eventsUnpublished.set(unpublished);
    m.agentActiveTasks.reset();
    for (const a of active) m.agentActiveTasks.set({ agent: a.agent }, Number(a.n));
    const state = nats.state();
    m.natsConnected.set(state === 'ok' ? 1 : state === 'down' ? 0 : -1);
    last = performance.now();
  }

  return {
    name: 'gauges',
    refresh() {
      if (performance.now() - last < maxAgeMs) return Promise.resolve();
      inflight ??= load().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    async start() {
      const fold = () => {
        folding = foldStatDeltas(ctx.sql).catch((err) => log.warn({ err: (err as Error).message }, 'folding stat deltas failed'));
      };
      timer = setInterval(fold, foldEveryMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await folding;
      await inflight?.catch(() => {});
    },
  };
}
