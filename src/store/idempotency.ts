// Idempotency keys (a create's Idempotency-Key, a requester's key remembered 24 h): the one claim
// and prune, shared by the task keys (idempotency_keys → task_id), the run keys
// (run_idempotency_keys → run_id) and the trigger event keys (trigger_event_keys → event_id).
import type { Db, Tx } from './db.js';

export type KeyTable =
  { table: 'idempotency_keys'; ref: 'task_id' } | { table: 'run_idempotency_keys'; ref: 'run_id' } | { table: 'trigger_event_keys'; ref: 'event_id' };

export interface KeyRecord {
  requester: string;
  key: string;
  body_hash: string;
  /** What the key's first use created (a task or a run id). */
  ref: string;
  created_at: Date;
}

/**
 * Claim a key in the caller's transaction. Returns `claimed` when this call owns it (new, or its
 * previous use is older than `expiredBefore`); otherwise the live record. A concurrent claimer
 * of the same key waits on the row until this transaction ends, so ten simultaneous creates with
 * one key produce one task (or run).
 */
export async function claimKey(tx: Tx, t: KeyTable, rec: KeyRecord, expiredBefore: Date): Promise<{ claimed: true } | { claimed: false; existing: KeyRecord }> {
  const row = { requester: rec.requester, key: rec.key, body_hash: rec.body_hash, [t.ref]: rec.ref, created_at: rec.created_at };
  // Two rounds: the live record can vanish between the insert and the select (pruned).
  for (let round = 0; round < 2; round++) {
    const [mine] = await tx`
      insert into ${tx(t.table)} ${tx(row as never)}
      on conflict (requester, key) do update
        set body_hash = excluded.body_hash, ${tx(t.ref)} = excluded.${tx(t.ref)}, created_at = excluded.created_at
        where ${tx(t.table)}.created_at < ${expiredBefore}
      returning 1`;
    if (mine) return { claimed: true };
    const [existing] = await tx<KeyRecord[]>`
      select requester, key, body_hash, ${tx(t.ref)} as ref, created_at from ${tx(t.table)}
      where requester = ${rec.requester} and key = ${rec.key}`;
    if (existing) return { claimed: false, existing };
  }
  throw new Error(`idempotency key ${rec.key} could not be claimed`);
}

/**
 * Forget at most `limit` keys older than `before`, oldest first through the created_at index
 * (housekeeping loops in small statements). Returns how many went.
 */
export async function pruneKeys(db: Db, t: KeyTable, before: Date, limit: number): Promise<number> {
  const res = await db`
    delete from ${db(t.table)} where (requester, key) in (
      select requester, key from ${db(t.table)} where created_at < ${before}
      order by created_at limit ${limit})`;
  return res.count;
}

export const TASK_KEYS: KeyTable = { table: 'idempotency_keys', ref: 'task_id' };
export const RUN_KEYS: KeyTable = { table: 'run_idempotency_keys', ref: 'run_id' };
export const TRIGGER_KEYS: KeyTable = { table: 'trigger_event_keys', ref: 'event_id' };
