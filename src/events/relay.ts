// The outbox relay: publishes task_events rows to JetStream in seq order, with the envelope id as
// Nats-Msg-Id, and marks them published.
//
// Concurrency model: every replica runs a relay; each batch runs in one transaction holding the
// advisory lock RELAY_LOCK (pg_try_advisory_xact_lock), so at most one replica publishes at a time
// and batches never interleave — a task's events leave in seq order. Within a batch, different
// tasks publish in parallel, but each task's events go one after another, and a task stops at its
// first failure, so a later event is never published before an earlier one. A crash between the
// JetStream ack and the commit republishes the batch; the stream's duplicate window drops it.
//
// Wake-ups: LISTEN dispatch_events (the outbox insert trigger, from any replica), the local
// 'events-written' signal, every NATS (re)connect, and a slow safety poll. NATS down: rows stay,
// retries back off, nothing crashes.
import type { Component, DispatchContext } from '../context.js';
import { deletePublishedBefore, markPublished, withOutboxBatch, type OutboxRow } from '../store/outbox.js';
import type { Sql } from '../store/db.js';
import type { NatsLink } from './nats.js';
import { AckPublisher } from './publisher.js';
import { ensureTaskStream } from './stream.js';
import { STOP_WAIT_MS, waitAtMost } from '../wait.js';

export interface RelayOptions {
  /** The pool batches run on (default: ctx.sql). */
  sql?: Sql;
  /** Rows per batch (one transaction). */
  batchSize?: number;
  /** Safety poll when no wake-up arrives. */
  pollMs?: number;
  /** Backoff after a failed batch: doubles from min to max. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** JetStream publish ack timeout. */
  publishTimeoutMs?: number;
  /** How often retention runs, and rows deleted per statement. */
  retentionEveryMs?: number;
  retentionBatch?: number;
}

export interface RelayRunResult {
  /** Rows handled (published, or settled when NATS is not configured). */
  published: number;
  /** Rows left in the batch because a publish failed. */
  failed: number;
  /** Another replica holds the relay lock. */
  busy: boolean;
  /** The batch was full: run again. */
  more: boolean;
}

export interface Relay extends Component {
  /** One batch: the unit tests call directly. */
  runOnce(): Promise<RelayRunResult>;
  /** Delete published events past retention, in small batches; returns rows deleted. */
  cleanup(): Promise<number>;
  wake(): void;
}

const DEFAULTS: Required<Omit<RelayOptions, 'sql'>> = {
  batchSize: 500,
  pollMs: 5000,
  backoffMinMs: 200,
  backoffMaxMs: 5000,
  publishTimeoutMs: 5000,
  retentionEveryMs: 60_000,
  retentionBatch: 1000,
};

export function createRelay(ctx: DispatchContext, nats: NatsLink, options: RelayOptions = {}): Relay {
  const opts = { ...DEFAULTS, ...options };
  const sql = options.sql ?? ctx.sql;
  const log = ctx.logger.child({ component: 'relay' });
  let js: AckPublisher | undefined;
  let streamName: string | undefined;
  let stopped = true;
  let running: Promise<void> | undefined;
  let again = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let lastCleanup = 0;
  /** While backing off after a failure, wake-ups wait for the retry timer. */
  let backoffUntil = 0;
  const onSignal = () => relay.wake();

  async function publishBatch(client: AckPublisher, rows: OutboxRow[]): Promise<{ ok: number[]; failed: number }> {
    // Per-task chains in seq order; tasks in parallel.
    const byTask = new Map<string, OutboxRow[]>();
    for (const r of rows) {
      const list = byTask.get(r.task_id);
      if (list) list.push(r);
      else byTask.set(r.task_id, [r]);
    }
    const ok: number[] = [];
    let failed = 0;
    let firstError: unknown;
    await Promise.all(
      [...byTask.values()].map(async (list) => {
        for (let i = 0; i < list.length; i++) {
          const r = list[i]!;
          try {
            await client.publish(`swarm.task.${r.task_id}.${r.type}`, r.envelope, r.id);
            ok.push(Number(r.seq));
          } catch (err) {
            firstError ??= err;
            failed += list.length - i;
            return;
          }
        }
      }),
    );
    if (firstError) log.warn({ err: (firstError as Error).message, failed }, 'publishing events failed; will retry');
    return { ok, failed };
  }

  async function runOnce(): Promise<RelayRunResult> {
    const now = ctx.clock.now();
    if (!nats.enabled) {
      // Recorded only: settle rows so retention applies and the unpublished gauge means backlog.
      const settled = await withOutboxBatch(sql, opts.batchSize, async (tx, rows) => {
        await markPublished(tx, rows.map((r) => Number(r.seq)), now);
        return rows.length;
      });
      if (settled === undefined) return { published: 0, failed: 0, busy: true, more: false };
      return { published: settled, failed: 0, busy: false, more: settled === opts.batchSize };
    }
    const nc = nats.connection();
    if (!nc) return { published: 0, failed: 0, busy: false, more: false };
    if (!js || !streamName) {
      streamName = await ensureTaskStream(nc, log, ctx.config.hermes.event_retention_hours);
      js?.close();
      js = new AckPublisher(nc, opts.publishTimeoutMs);
      log.info({ stream: streamName }, 'publishing task events');
    }
    const client = js;
    const res = await withOutboxBatch(sql, opts.batchSize, async (tx, rows) => {
      if (rows.length === 0) return { published: 0, failed: 0 };
      const { ok, failed } = await publishBatch(client, rows);
      await markPublished(tx, ok, ctx.clock.now());
      return { published: ok.length, failed, full: rows.length === opts.batchSize };
    });
    if (!res) return { published: 0, failed: 0, busy: true, more: false };
    if (res.failed > 0) {
      // The stream may be gone or NATS restarted without it: check again next time.
      streamName = undefined;
    }
    return { published: res.published, failed: res.failed, busy: false, more: 'full' in res && !!res.full && res.failed === 0 };
  }

  async function cleanup(): Promise<number> {
    const cutoff = new Date(ctx.clock.now().getTime() - ctx.config.hermes.event_retention_hours * 3600_000);
    let total = 0;
    for (;;) {
      const n = await deletePublishedBefore(sql, cutoff, opts.retentionBatch);
      total += n;
      if (n < opts.retentionBatch || stopped) break;
    }
    if (total > 0) log.info({ deleted: total }, 'deleted published events past retention');
    return total;
  }

  function schedule(ms: number): void {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => {
      backoffUntil = 0;
      relay.wake();
    }, ms);
  }

  async function loop(): Promise<void> {
    let delay = opts.pollMs;
    do {
      again = false;
      try {
        const r = await runOnce();
        if (r.failed > 0) {
          failures++;
          delay = Math.min(opts.backoffMaxMs, opts.backoffMinMs * 2 ** (failures - 1));
          backoffUntil = Date.now() + delay;
          again = false;
          break;
        }
        failures = 0;
        delay = opts.pollMs;
        if (r.more) again = true;
      } catch (err) {
        failures++;
        delay = Math.min(opts.backoffMaxMs, opts.backoffMinMs * 2 ** (failures - 1));
        log.warn({ err: (err as Error).message }, 'relay batch failed; will retry');
        streamName = undefined; // re-check the stream and renew the publisher next time
        backoffUntil = Date.now() + delay;
        again = false;
        break;
      }
    } while (again && !stopped);
    if (!stopped && failures === 0 && Date.now() - lastCleanup >= opts.retentionEveryMs) {
      lastCleanup = Date.now();
      await cleanup().catch((err) => log.warn({ err: (err as Error).message }, 'event retention failed'));
    }
    schedule(delay);
  }

  /** LISTEN in the background: an unreachable database must not stop the service starting. */
  function listen(): void {
    ctx.sql.listen('dispatch_events', () => relay.wake(), () => relay.wake()).then(
      (l) => {
        if (stopped) void l.unlisten().catch(() => {});
        else unlisten = l.unlisten;
      },
      (err: unknown) => {
        log.warn({ err: (err as Error).message }, 'cannot LISTEN dispatch_events; polling meanwhile');
        if (!stopped) setTimeout(listen, opts.pollMs).unref();
      },
    );
  }

  const relay: Relay = {
    name: 'event-relay',
    runOnce,
    cleanup,
    wake() {
      if (stopped || Date.now() < backoffUntil) return;
      if (running) {
        again = true;
        return;
      }
      running = loop().finally(() => {
        running = undefined;
        if (again && !stopped) relay.wake();
      });
    },
    async start() {
      stopped = false;
      // First retention pass one interval after start, not in the middle of start-up.
      lastCleanup = Date.now();
      listen();
      ctx.signals.on('events-written', onSignal);
      nats.onConnected(() => {
        backoffUntil = 0;
        streamName = undefined; // re-check the stream and renew the publisher on the new connection
        relay.wake();
      });
      relay.wake();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      ctx.signals.off('events-written', onSignal);
      await unlisten?.().catch(() => {});
      // Finish the batch in flight, but do not hang shutdown on an unreachable database: an
      // unfinished batch is simply retried by the next leader (the stream dedups it).
      await waitAtMost(running, STOP_WAIT_MS);
      js?.close();
      js = undefined;
    },
  };
  return relay;
}
