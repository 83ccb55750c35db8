// Callback delivery decisions (docs/callbacks.md): what one attempt's outcome does to its
// delivery row. Pure: the clock and the random source come in.
import { backoffDelay, type BackoffPolicy } from './retry.js';
import type { Task } from './task.js';

/** Retries of a callback: 1 s doubling to 10 min, full jitter (core/retry.ts backoffDelay). */
export const DELIVERY_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 600_000 };

/** The whole budget of one POST: connect, headers and body. Longer counts as a failed attempt. */
export const DELIVERY_TIMEOUT_MS = 5000;

/**
 * How far a claim moves next_attempt_at ahead: the attempt's own budget plus a wide margin. A
 * replica that dies mid-send leaves the row due again this long after the claim (at least once).
 */
export const DELIVERY_LEASE_MS = 30_000;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface AttemptOutcome {
  /** The endpoint's HTTP status, or null when it did not answer (refused, timed out, not allowed). */
  statusCode: number | null;
  /** Why it failed (null on a 2xx). */
  error: string | null;
}

export interface DeliveryUpdate {
  status: DeliveryStatus;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date;
  delivered_at: Date | null;
}

export const isDelivered = (o: AttemptOutcome) => o.statusCode !== null && o.statusCode >= 200 && o.statusCode < 300;

/**
 * After the `attempts`-th attempt (counted at claim, so from 1): a 2xx is delivered; anything else
 * is retried after backoffDelay(attempts - 1) while attempts < maxAttempts, then failed.
 */
export function decideDeliveryAttempt(attempts: number, outcome: AttemptOutcome, maxAttempts: number, random: () => number, now: Date): DeliveryUpdate {
  if (isDelivered(outcome)) {
    return { status: 'delivered', last_status_code: outcome.statusCode, last_error: null, next_attempt_at: now, delivered_at: now };
  }
  const error = outcome.error ?? `HTTP ${outcome.statusCode}`;
  if (attempts >= maxAttempts) {
    return { status: 'failed', last_status_code: outcome.statusCode, last_error: error, next_attempt_at: now, delivered_at: null };
  }
  const delay = backoffDelay(attempts - 1, DELIVERY_BACKOFF, random);
  return { status: 'pending', last_status_code: outcome.statusCode, last_error: error, next_attempt_at: new Date(now.getTime() + delay), delivered_at: null };
}

/** The event that ends a task, as (event type, task status): what a callback gets when its task lists no events. */
const ENDING: ReadonlySet<string> = new Set(['completed/completed', 'failed/failed', 'timeout/timed_out', 'cancelled/cancelled']);

/**
 * Where the event `type` of a task in this state is to be delivered, or null (docs/callbacks.md):
 * to the task's callback_url, for the events its callback_events lists (`*`: all), or by default
 * only for the event that ends it. Decided here, written by the statement that inserts the event
 * (store/events.ts deliveryRows).
 */
export function deliveryUrlOf(type: string, task: Pick<Task, 'status' | 'callback_url' | 'callback_events'>): string | null {
  if (!task.callback_url) return null;
  const listed = task.callback_events;
  const wanted = Array.isArray(listed) ? listed.includes('*') || listed.includes(type) : ENDING.has(`${type}/${task.status}`);
  return wanted ? task.callback_url : null;
}
