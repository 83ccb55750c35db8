// Gauges read from the database: queue depth by live status, oldest pending age, active tasks per
// agent (every known agent, idle ones at 0), unpublished outbox rows. Refreshed before a scrape
// but at most every `maxAgeMs`, and concurrent scrapes share one refresh, so a scrape storm never
// turns into a query storm. Every read is bounded: counters (migration 0004), one index entry,
// partial indexes on live rows. Stat deltas are folded into task_stats on a loop of their own.
import type { Component, DispatchContext } from '../context.js';
import type { NatsLink } from '../events/nats.js';
import { Loop, STOP_WAIT_MS, waitAtMost } from '../loop.js';
import { activeCounts } from '../store/agents.js';
import { agentRecords } from '../store/fairness.js';
import { countUnpublished } from '../store/outbox.js';
import { foldStatDeltas, readQueueStats, tableSizes } from '../store/stats.js';

export interface GaugeRefresher extends Component {
  /** Refresh unless the values are younger than maxAgeMs. */
  refresh(): Promise<void>;
  /** The loop shell that folds stat deltas every `foldEveryMs`. */
  readonly fold: Loop<unknown>;
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
  const fold = new Loop<unknown>({
    name: 'gauges-fold',
    log,
    everyMs: foldEveryMs,
    runOnce: () => foldStatDeltas(ctx.sql),
    onError: (err) => log.warn({ err: (err as Error).message }, 'folding stat deltas failed'),
  });

  async function load(): Promise<void> {
    const now = ctx.clock.now();
    const [stats, unpublished, active, sizes, records] = await Promise.all([
      readQueueStats(ctx.sql, now),
      countUnpublished(ctx.sql),
      activeCounts(ctx.sql),
      tableSizes(ctx.sql),
      agentRecords(ctx.sql),
    ]);
    for (const [table, bytes] of sizes) m.tableBytes.set({ table }, bytes);
    for (const s of ['waiting', 'pending', 'assigned', 'running', 'input_required'] as const) m.queueDepth.set({ status: s }, stats.counts[s]);
    m.oldestPending.set(stats.oldest_pending_ms / 1000);
    m.eventsUnpublished.set(unpublished);
    // A series for every agent the directory knows (0 while idle), plus any agent holding tasks,
    // so a dashboard shows the whole fleet; agents gone from both drop out.
    m.agentActiveTasks.reset();
    for (const a of ctx.agents.cachedAgents()) m.agentActiveTasks.set({ agent: a.id }, active.get(a.id) ?? 0);
    for (const [agent, n] of active) m.agentActiveTasks.set({ agent }, n);
    // One series per agent with a track record (one primary-key row each; no record, no series).
    m.agentSuccessRatio.reset();
    for (const [agent, r] of records) if (r.success_rate !== null) m.agentSuccessRatio.set({ agent }, r.success_rate);
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
    fold,
    async start() {
      fold.start();
    },
    async stop() {
      await fold.stop();
      await waitAtMost(inflight, STOP_WAIT_MS);
    },
  };
}
