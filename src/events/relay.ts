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
// Fast path (events/fast-path.ts): the hot writes (a create, a worker report, an assignment) hand
// their committed events to this replica's FastPath, which publishes them at once and marks them;
// the relay skips rows it holds (and a task's later rows behind them) and publishes the rest.
//
// Wake-ups: LISTEN dispatch_events (sent after their commit by the replicas that wrote rows off the
// fast path, or by all without NATS: events/wakes.ts; it arms the fast path's grace rather than
// running at once), what the fast path left here, the end of a grace, the local 'events-written'
// signal, every NATS (re)connect, and a slow safety poll.
// NATS down: rows stay, retries back off, nothing crashes.
import type { Component, DispatchContext } from '../context.js';
import { deletePublishedBefore, envelopesOf, markPublished, withOutboxBatch, type OutboxRow } from '../store/outbox.js';
import type { Sql, Tx } from '../store/db.js';
import type { NatsLink } from './nats.js';
import { AckPublisher } from './publisher.js';
import { ensureTaskStream } from './stream.js';
import { Loop } from '../loop.js';
import { subjectOf, type CommittedEvents } from '../store/events.js';
import { FastPath } from './fast-path.js';

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
  /**
   * How long the relay leaves an unpublished row it sees for the first time to the fast path of
   * the replica that wrote it (wall time; rows this replica declined go at once).
   */
  fastGraceMs?: number;
  /** How often retention runs, and rows deleted per statement. */
  retentionEveryMs?: number;
  retentionBatch?: number;
  /** Rows this relay published (for another replica's fast path, or its own declined ones): events/wakes.ts wakes for them. */
  onPublished?: (rows: { type: string; taskId: string; envelope: string }[]) => void;
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
  /** The loop shell around runOnce() (tests await its signals). */
  readonly loop: Loop<RelayRunResult>;
  /** Publishes what this replica's writes just committed (tests read its stats). */
  readonly fast: FastPath;
}

const DEFAULTS: Required<Omit<RelayOptions, 'sql' | 'onPublished'>> = {
  batchSize: 500,
  pollMs: 5000,
  backoffMinMs: 200,
  backoffMaxMs: 5000,
  publishTimeoutMs: 5000,
  fastGraceMs: 1000,
  retentionEveryMs: 60_000,
  retentionBatch: 1000,
};

export function createRelay(ctx: DispatchContext, nats: NatsLink, options: RelayOptions = {}): Relay {
  const opts = { ...DEFAULTS, ...options };
  const sql = options.sql ?? ctx.sql;
  const log = ctx.logger.child({ component: 'relay' });
  let js: AckPublisher | undefined;
  let streamName: string | undefined;
  /** Unpublished rows by when this relay first saw them (wall ms), for the fast path's grace. */
  let seen = new Map<string, number>();
  /** Rows the fast path left to the relay: no grace. */
  const ready = new Set<string>();
  let graceTimer: NodeJS.Timeout | undefined;
  function armGrace(): void {
    if (graceTimer) return;
    graceTimer = setTimeout(() => {
      graceTimer = undefined;
      loop.poke();
    }, opts.fastGraceMs);
    graceTimer.unref();
  }

  /**
   * Which rows to send now, per task in seq order: a task's chain stops at a row the fast path
   * holds, and at a row first seen less than the grace ago (unless the fast path left it here).
   */
  function choose(rows: OutboxRow[]): OutboxRow[][] {
    const byTask = new Map<string, OutboxRow[]>();
    for (const r of rows) {
      const list = byTask.get(r.task_id);
      if (list) list.push(r);
      else byTask.set(r.task_id, [r]);
    }
    const wall = Date.now();
    const sighted = new Map<string, number>();
    let deferred = false;
    const chains: OutboxRow[][] = [];
    for (const list of byTask.values()) {
      const chain: OutboxRow[] = [];
      for (const r of list) {
        if (fast.holds(r.id)) break;
        if (!ready.has(r.id)) {
          // Possibly committed a moment ago and about to be offered to its writer's fast path.
          const first = seen.get(r.id) ?? wall;
          sighted.set(r.id, first);
          if (wall - first < opts.fastGraceMs) {
            deferred = true;
            break;
          }
        }
        chain.push(r);
      }
      if (chain.length) chains.push(chain);
    }
    seen = sighted;
    if (deferred) armGrace();
    return chains;
  }

  async function publishBatch(client: AckPublisher, tx: Tx, rows: OutboxRow[]): Promise<{ ok: number[]; failed: number }> {
    const chains = choose(rows);
    const envelopes = await envelopesOf(
      tx,
      chains.flatMap((c) => c.map((r) => Number(r.seq))),
    );
    const ok: number[] = [];
    const sent: { type: string; taskId: string; envelope: string }[] = [];
    let failed = 0;
    let firstError: unknown;
    // Per-task chains in seq order; tasks in parallel. A task stops at its first failure.
    await Promise.all(
      chains.map(async (list) => {
        for (let i = 0; i < list.length; i++) {
          const r = list[i]!;
          try {
            const envelope = envelopes.get(Number(r.seq));
            if (envelope === undefined) throw new Error(`event ${r.id} vanished from the outbox`);
            await client.publish(subjectOf(r.kind, r.task_id, r.type), envelope, r.id);
            ok.push(Number(r.seq));
            sent.push({ type: r.type, taskId: r.task_id, envelope });
            seen.delete(r.id);
            ready.delete(r.id);
          } catch (err) {
            firstError ??= err;
            failed += list.length - i;
            return;
          }
        }
      }),
    );
    if (firstError) log.warn({ err: (firstError as Error).message, failed }, 'publishing events failed; will retry');
    // The link's connection does not hear its own publishes (noEcho): wake this replica's waiters for them.
    if (sent.length) opts.onPublished?.(sent);
    return { ok, failed };
  }

  async function runOnce(): Promise<RelayRunResult> {
    if (!nats.enabled) {
      // Recorded only: settle rows so retention applies and the unpublished gauge means backlog.
      const settled = await withOutboxBatch(sql, opts.batchSize, async (tx, rows) => {
        await markPublished(
          tx,
          rows.map((r) => Number(r.seq)),
        );
        return rows.length;
      });
      if (settled === undefined) return { published: 0, failed: 0, busy: true, more: false };
      return { published: settled, failed: 0, busy: false, more: settled === opts.batchSize };
    }
    const nc = nats.connection();
    if (!nc) return { published: 0, failed: 0, busy: false, more: false };
    if (!js || !streamName) {
      streamName = await ensureTaskStream(nc, log, ctx.config.retention.event_ms / 3_600_000, ctx.config.hermes.stream_replicas);
      js?.close();
      js = new AckPublisher(nc, opts.publishTimeoutMs);
      log.info({ stream: streamName }, 'publishing task events');
    }
    const client = js;
    const res = await withOutboxBatch(sql, opts.batchSize, async (tx, rows) => {
      if (rows.length === 0) return { published: 0, failed: 0 };
      const { ok, failed } = await publishBatch(client, tx, rows);
      await markPublished(tx, ok);
      // Full, but only rows the fast path holds: not worth another run at once.
      return { published: ok.length, failed, full: rows.length === opts.batchSize && ok.length > 0 };
    });
    if (!res) return { published: 0, failed: 0, busy: true, more: false };
    if (res.failed > 0) {
      // The stream may be gone or NATS restarted without it: check again next time.
      streamName = undefined;
    }
    return { published: res.published, failed: res.failed, busy: false, more: 'full' in res && !!res.full && res.failed === 0 };
  }

  async function cleanup(): Promise<number> {
    const cutoff = new Date(ctx.clock.now().getTime() - ctx.config.retention.event_ms);
    let total = 0;
    for (;;) {
      const n = await deletePublishedBefore(sql, cutoff, opts.retentionBatch);
      total += n;
      if (n < opts.retentionBatch || loop.stopping) break;
    }
    if (total > 0) log.info({ deleted: total }, 'deleted published events past retention');
    return total;
  }

  // Wake-ups: the poll timer, LISTEN dispatch_events (and every re-LISTEN), 'events-written'.
  // A failed batch backs off (doubling from backoffMinMs to backoffMaxMs); wake-ups wait for it,
  // except a NATS (re)connect, which ends it.
  const loop = new Loop<RelayRunResult>({
    name: 'event-relay',
    log,
    everyMs: opts.pollMs,
    runAtStart: true,
    runOnce: () => runOnce(),
    again: (r) => r.more,
    failed: (r) => r.failed > 0,
    backoff: { baseMs: opts.backoffMinMs, maxMs: opts.backoffMaxMs },
    // An insert anywhere: its rows are young, so look after the grace (the fast path of the replica
    // that wrote them has sent and marked most by then); a (re)LISTEN still pokes at once.
    listen: [{ sql: ctx.sql, channel: 'dispatch_events', onNotify: () => armGrace() }],
    signals: { emitter: ctx.signals, on: { 'events-written': true } },
    onError: (err) => {
      log.warn({ err: (err as Error).message }, 'relay batch failed; will retry');
      streamName = undefined; // re-check the stream and renew the publisher next time
    },
  });
  // Retention on its own timer, first one interval after start (not in the middle of start-up);
  // skipped while batches fail (the database or NATS is in trouble: no extra load then).
  const retention = new Loop<number>({
    name: 'event-retention',
    log,
    everyMs: opts.retentionEveryMs,
    runOnce: async () => (loop.failures > 0 ? 0 : cleanup()),
    onError: (err) => log.warn({ err: (err as Error).message }, 'event retention failed'),
  });
  const fast = new FastPath({
    sql,
    log,
    publisher: () => (streamName ? js : undefined),
    declined: (ids) => {
      for (const id of ids) ready.add(id);
      loop.poke();
    },
  });
  const onCommitted = (c: CommittedEvents) => fast.offer(c);

  // Registered once: NatsLink keeps its listeners for good; a poke is a no-op while stopped.
  nats.onConnected(() => {
    streamName = undefined; // re-check the stream and renew the publisher on the new connection
    loop.poke({ clearBackoff: true });
  });

  const relay: Relay = {
    name: 'event-relay',
    loop,
    fast,
    runOnce,
    cleanup,
    wake: () => loop.poke(),
    async start() {
      fast.resume();
      if (nats.enabled) ctx.signals.on('events-committed', onCommitted);
      loop.start();
      retention.start();
    },
    async stop() {
      // Finish the batch in flight, but do not hang shutdown on an unreachable database: an
      // unfinished batch is simply retried by the next leader (the stream dedups it).
      ctx.signals.off('events-committed', onCommitted);
      clearTimeout(graceTimer);
      graceTimer = undefined;
      await Promise.all([fast.stop(), loop.stop(), retention.stop()]);
      js?.close();
      js = undefined;
    },
  };
  return relay;
}
