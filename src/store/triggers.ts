// SQL of trigger events (CONTRACT §19.1, docs/workflows.md "Triggers"): each event row with the
// runs it started, written in the transaction that starts them.
import type { Db, Tx } from './db.js';

export interface TriggerEventRow {
  id: string;
  type: string;
  requester: string;
  user_id: string | null;
  intent_id: string | null;
  payload: unknown;
  runs: string[];
  created_at: Date;
}

export async function insertTriggerEvent(tx: Tx, e: TriggerEventRow): Promise<void> {
  await tx`
    insert into trigger_events (id, type, requester, user_id, intent_id, payload, runs, created_at)
    values (${e.id}, ${e.type}, ${e.requester}, ${e.user_id}, ${e.intent_id}, ${e.payload === null ? null : tx.json(e.payload as never)},
            ${tx.array(e.runs)}::uuid[], ${e.created_at})`;
}

export async function getTriggerEvent(db: Db, id: string): Promise<TriggerEventRow | undefined> {
  const [row] = await db<TriggerEventRow[]>`select * from trigger_events where id = ${id}`;
  return row;
}

export type ListedTriggerEvent = TriggerEventRow & { cursor_ts: string };

/** Newest first, keyset on (created_at desc, id desc), like the task list. */
export async function listTriggerEvents(db: Db, f: { type?: string; after?: { createdAt: string; id: string }; limit: number }): Promise<ListedTriggerEvent[]> {
  const conds = [db`true`];
  if (f.type !== undefined) conds.push(db`type = ${f.type}`);
  if (f.after) conds.push(db`(created_at, id) < (${f.after.createdAt}::timestamptz, ${f.after.id}::uuid)`);
  const where = conds.reduce((acc, c) => db`${acc} and ${c}`);
  return db<ListedTriggerEvent[]>`
    select *, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_ts
    from trigger_events where ${where} order by created_at desc, id desc limit ${f.limit}`;
}
