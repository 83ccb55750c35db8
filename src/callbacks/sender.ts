// The callback sender (docs/callbacks.md): POSTs due delivery rows (store/callbacks.ts) to their
// task's callback_url, signed, and settles each attempt (core/callbacks.ts).
//
// Concurrency model: every replica runs a sender. A run claims due rows in one statement (per
// task only its oldest pending one, `for update skip locked`, each claim moving the row a lease
// ahead), starts their POSTs and returns without waiting for them: at most MAX_IN_FLIGHT are in
// flight per replica, each bounded by DELIVERY_TIMEOUT_MS, so a slow or dead endpoint holds one
// slot for at most its own 5 s and never delays another task's callbacks, the scheduler or the
// relay (it shares none of their connections or loops). A finished POST settles its row and pokes
// the loop, so the task's next event (or a waiting row) goes out at once.
//
// Wake-ups: this replica's writes that added delivery rows, after their commit (signals: the rows
// are written by the statements that insert their events, store/events.ts deliveryRows), a slot
// freed, and a poll every POLL_MS — for another replica's rows (its own sender took them at once)
// and for retries coming due. No NOTIFY: migration 0064 dropped the trigger that sent one inside
// every write that added a row. A restart loses nothing: rows stay
// pending; a claim whose replica died is due again when its lease passes (at least once — the
// receiver dedups on X-Dispatch-Delivery).
import { Agent, request } from 'undici';
import type { Component, DispatchContext } from '../context.js';
import { decideDeliveryAttempt, DELIVERY_LEASE_MS, DELIVERY_TIMEOUT_MS, type AttemptOutcome } from '../core/callbacks.js';
import { Loop, STOP_WAIT_MS, waitAtMost } from '../loop.js';
import type { Sql } from '../store/db.js';
import { claimDueDeliveries, recordDeliveryAttempt, type ClaimedDelivery } from '../store/callbacks.js';
import { signCallback } from './signing.js';
import { allowedHostSet, guardedLookup, literalRefusal } from './target.js';

/** POSTs in flight per replica. */
export const MAX_IN_FLIGHT = 32;
/** Safety poll: retries come due on their own (1 s is the shortest backoff ceiling). */
export const POLL_MS = 1000;

export interface SenderOptions {
  sql?: Sql;
  maxInFlight?: number;
  pollMs?: number;
}

export interface SenderRunResult {
  /** Rows claimed by this run (their POSTs started). */
  claimed: number;
  /** Settles when this run's POSTs are settled (tests await it; the loop never does). */
  done: Promise<void>;
}

export interface Sender extends Component {
  readonly loop: Loop<SenderRunResult>;
  runOnce(): Promise<SenderRunResult>;
  /** Every POST in flight settled. */
  settled(): Promise<void>;
}

export function createSender(ctx: DispatchContext, options: SenderOptions = {}): Sender {
  const sql = options.sql ?? ctx.sql;
  const maxInFlight = options.maxInFlight ?? MAX_IN_FLIGHT;
  const log = ctx.logger.child({ component: 'callback-sender' });
  const { secret, max_attempts: maxAttempts } = ctx.config.webhooks;
  const allowed = allowedHostSet(ctx.config.webhooks.allowed_hosts);
  const inflight = new Set<Promise<void>>();
  const agent = new Agent({
    connect: { lookup: guardedLookup(allowed) as never, timeout: DELIVERY_TIMEOUT_MS },
    headersTimeout: DELIVERY_TIMEOUT_MS,
    bodyTimeout: DELIVERY_TIMEOUT_MS,
    connections: 8,
  });

  async function post(row: ClaimedDelivery, body: string): Promise<AttemptOutcome> {
    const url = new URL(row.url);
    const refused = literalRefusal(url, allowed);
    if (refused) return { statusCode: null, error: `not allowed: ${refused}` };
    const timestamp = Math.floor(ctx.clock.now().getTime() / 1000);
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'dispatch-callbacks',
          'x-dispatch-event': `task.${row.type}`,
          'x-dispatch-delivery': row.event_id,
          'x-dispatch-timestamp': String(timestamp),
          'x-dispatch-signature-256': signCallback(secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
      return { statusCode: res.statusCode, error: res.statusCode >= 200 && res.statusCode < 300 ? null : `HTTP ${res.statusCode}` };
    } catch (err) {
      return { statusCode: null, error: describe(err) };
    }
  }

  async function attempt(row: ClaimedDelivery): Promise<void> {
    // A body the outbox no longer holds cannot be sent again: give up at once.
    const outcome = row.body === null ? { statusCode: null, error: 'the event is no longer stored' } : await post(row, row.body);
    const update = decideDeliveryAttempt(row.body === null ? maxAttempts : row.attempts, outcome, maxAttempts, ctx.random, ctx.clock.now());
    await recordDeliveryAttempt(sql, row.seq, update);
    ctx.metrics.callbackDeliveries.inc({ outcome: update.status === 'pending' ? 'retry' : update.status });
    if (update.status === 'failed')
      log.warn({ task: row.task_id, event: row.event_id, attempts: row.attempts, err: update.last_error }, 'callback delivery failed for good');
  }

  async function runOnce(): Promise<SenderRunResult> {
    if (!secret) return { claimed: 0, done: Promise.resolve() };
    const rows = await claimDueDeliveries(sql, ctx.clock.now(), maxInFlight - inflight.size, DELIVERY_LEASE_MS);
    const mine = rows.map((row) => {
      const p: Promise<void> = attempt(row)
        .catch((err: unknown) =>
          log.warn({ err: (err as Error).message, task: row.task_id, event: row.event_id }, 'settling a callback attempt failed; retried after its lease'),
        )
        .finally(() => {
          inflight.delete(p);
          loop.poke();
        });
      inflight.add(p);
      return p;
    });
    return { claimed: rows.length, done: Promise.all(mine).then(() => {}) };
  }

  const loop = new Loop<SenderRunResult>({
    name: 'callback-sender',
    log,
    everyMs: options.pollMs ?? POLL_MS,
    runAtStart: true,
    runOnce: () => runOnce(),
    again: (r) => r.claimed > 0 && inflight.size < maxInFlight,
    backoff: { baseMs: 200, maxMs: 5000 },
    // The statements that write delivery rows (store/events.ts deliveryRows) are this replica's;
    // after their commit: the hot writes hand their sink (with how many rows they added), the
    // others say they wrote events. Another replica's rows are found by the poll.
    signals: {
      emitter: ctx.signals,
      on: {
        'events-committed': (c) => {
          if (c.deliveries > 0) loop.poke();
        },
        'events-written': true,
        'tasks-changed': true,
      },
    },
  });

  return {
    name: 'callback-sender',
    loop,
    runOnce,
    settled: async () => {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    async start() {
      loop.start();
    },
    async stop() {
      await loop.stop();
      // POSTs in flight finish within their 5 s budget; past STOP_WAIT_MS their rows' leases cover them.
      await waitAtMost(Promise.allSettled([...inflight]), STOP_WAIT_MS);
      await agent.destroy().catch(() => {});
    },
  };
}

function describe(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') {
    return `no answer within ${DELIVERY_TIMEOUT_MS} ms`;
  }
  const code = e.code ?? e.cause?.code;
  const message = e.message ?? e.cause?.message ?? 'request failed';
  if (code === 'ECALLBACKNOTALLOWED') return message;
  if (code === 'ECONNREFUSED') return 'connection refused';
  return code ? `${code}: ${message}` : message;
}
