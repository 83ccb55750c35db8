// SQL of signed webhook deliveries (docs/webhooks.md): the replay guard of a source's delivery ids.
import type { Db, Tx } from './db.js';

export interface DeliveryRecord {
  source: string;
  delivery_id: string;
  task_id: string | null;
  run_id: string | null;
  created_at: Date;
}

/**
 * Claim a delivery id inside the transaction that creates its task or run. A concurrent claim of
 * the same id waits on this row until that transaction ends: when it commits, the claim fails and
 * returns the first delivery's record; when it rolls back, the waiting claim wins.
 */
export async function claimDelivery(tx: Tx, rec: DeliveryRecord): Promise<{ claimed: true } | { claimed: false; existing: DeliveryRecord }> {
  for (let round = 0; round < 2; round++) {
    const [mine] = await tx<DeliveryRecord[]>`
      insert into hook_deliveries ${tx(rec as never)} on conflict (source, delivery_id) do nothing returning *`;
    if (mine) return { claimed: true };
    const [existing] = await tx<DeliveryRecord[]>`
      select * from hook_deliveries where source = ${rec.source} and delivery_id = ${rec.delivery_id}`;
    if (existing) return { claimed: false, existing };
    // Pruned between the two statements: claim again.
  }
  throw new Error(`delivery ${rec.source}/${rec.delivery_id} could not be claimed`);
}

/** Forget at most `limit` delivery ids recorded before `before` (housekeeping). */
export async function pruneDeliveries(db: Db, before: Date, limit: number): Promise<number> {
  const res = await db`
    delete from hook_deliveries where (source, delivery_id) in (
      select source, delivery_id from hook_deliveries where created_at < ${before}
      order by created_at limit ${limit})`;
  return res.count;
}
