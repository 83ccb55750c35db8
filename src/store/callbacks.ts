// Callback deliveries (migration 0011): rows written by the task_events trigger in the event's
// transaction; claimed and settled by the sender (callbacks/sender.ts).
import type { DeliveryStatus, DeliveryUpdate } from '../core/callbacks.js';
import type { Db } from './db.js';

export interface DeliveryRow {
  seq: number;
  task_id: string;
  event_id: string;
  type: string;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date;
  delivered_at: Date | null;
  created_at: Date;
}

export type ClaimedDelivery = DeliveryRow & { body: string | null };

/**
 * Claim at most `limit` due deliveries in one statement: per task only its oldest pending one
 * (so a task's events go out in order, each after the one before was delivered or gave up),
 * due at `now`, skipping rows another replica is claiming. Each claimed row counts its attempt
 * and moves next_attempt_at a lease ahead. Returns them with the stored envelope (the body).
 */
export async function claimDueDeliveries(db: Db, now: Date, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  if (limit <= 0) return [];
  const rows = await db<ClaimedDelivery[]>`
    with due as (
      select d.seq from deliveries d
      where d.status = 'pending' and d.next_attempt_at <= ${now}
        and not exists (select 1 from deliveries p where p.task_id = d.task_id and p.status = 'pending' and p.seq < d.seq)
      order by d.next_attempt_at, d.seq
      limit ${limit}
      for update of d skip locked
    )
    update deliveries d set attempts = d.attempts + 1, next_attempt_at = ${new Date(now.getTime() + leaseMs)}
    from due where d.seq = due.seq
    returning d.*, (select dispatch_task_envelope(e)::text from task_events e where e.id = d.event_id) as body`;
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** Settle one attempt: exactly the decided fields (core/callbacks.ts), only on the row still pending. */
export async function recordDeliveryAttempt(db: Db, seq: number, u: DeliveryUpdate): Promise<void> {
  await db`
    update deliveries set status = ${u.status}, last_status_code = ${u.last_status_code}, last_error = ${u.last_error},
      next_attempt_at = ${u.next_attempt_at}, delivered_at = ${u.delivered_at}
    where seq = ${seq} and status = 'pending'`;
}

export async function deliveriesOfTask(db: Db, taskId: string): Promise<DeliveryRow[]> {
  return db<DeliveryRow[]>`select * from deliveries where task_id = ${taskId} order by seq`;
}

/** Deliveries not yet delivered or failed (the bench and the gauge-free tests read it). */
export async function countPendingDeliveries(db: Db): Promise<number> {
  const [r] = await db<{ n: number }[]>`select count(*)::int as n from deliveries where status = 'pending'`;
  return r?.n ?? 0;
}
