// Outbox reads and writes for the relay (events/relay.ts): claim a batch under the relay lock,
// mark rows published, delete old published rows. Rows are task_events (store/events.ts).
import type { Db, Sql, Tx } from './db.js';

/** Advisory lock serialising relay batches across replicas ('drel'). */
export const RELAY_LOCK = 0x6472656c;

export interface OutboxRow {
  seq: number;
  id: string;
  task_id: string;
  type: string;
  kind: 'task' | 'run' | 'dlq';
}

/**
 * Run `fn` with the oldest unpublished rows (seq order; the queue's refs, not their envelopes)
 * inside a transaction holding the relay lock, so batches from several replicas never interleave:
 * a task's events leave in seq order. Returns undefined when another replica holds the lock (it is
 * relaying right now).
 */
export async function withOutboxBatch<T>(sql: Sql, limit: number, fn: (tx: Tx, rows: OutboxRow[]) => Promise<T>): Promise<T | undefined> {
  return sql.begin(async (tx) => {
    // Both statements go out in one round trip (pipelined); the server runs them in order, so the
    // select's snapshot is taken after the lock attempt, as if awaited one by one. The select
    // reads rows only if this transaction holds the lock (pg_locks), so a replica that is not
    // relaying right now reads nothing.
    const [[lock], rows] = await Promise.all([
      tx<{ ok: boolean }[]>`select pg_try_advisory_xact_lock(${RELAY_LOCK}) as ok`,
      tx<OutboxRow[]>`
        select e.seq, e.id, e.task_id, e.type, e.kind
        from task_events_unpublished q join task_events e on e.seq = q.seq
        where exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()
                      and classid = 0 and objid = ${RELAY_LOCK} and objsubid = 1 and granted)
        order by q.seq limit ${limit}`,
    ]);
    if (!lock?.ok) return undefined;
    return fn(tx, rows);
  }) as Promise<T | undefined>;
}

/** The envelopes (as JSON text, published as is) of the rows the relay is about to publish. */
export async function envelopesOf(db: Db, seqs: number[]): Promise<Map<number, string>> {
  if (seqs.length === 0) return new Map();
  const rows = await db<{ seq: number; envelope: string }[]>`
    select e.seq, dispatch_task_envelope(e)::text as envelope from task_events e where e.seq = any(${db.array(seqs)}::bigint[])`;
  return new Map(rows.map((r) => [Number(r.seq), r.envelope]));
}

/** Mark events published: out of the to-publish queue (migrations/0016). */
export async function markPublished(db: Db, seqs: number[]): Promise<void> {
  if (seqs.length === 0) return;
  await db`delete from task_events_unpublished where seq = any(${db.array(seqs)}::bigint[])`;
}

/**
 * Delete published events of *live* tasks and runs created before `cutoff`, at most `batch` rows
 * (CONTRACT §15 `retention.event_ms`). A finished task's events go with the task (the purge,
 * store/retention.ts), so this never touches them: it starts from the live tasks (the partial
 * status indexes, one arm each) and live runs, not from the old events, which a 30-day
 * `finished_task_ms` makes mostly finished tasks'. Rows another transaction holds are skipped
 * (the purge, a writer). Returns how many were deleted; callers loop in small batches so no
 * statement holds many locks or a long transaction.
 */
export async function deletePublishedBefore(db: Db, cutoff: Date, batch: number): Promise<number> {
  const res = await db`
    delete from task_events where seq in (
      select e.seq from task_events e
      where e.seq in (
          select e2.seq from tasks t join task_events e2 on e2.task_id = t.id
          where (t.status = 'pending' or t.status = 'waiting' or t.status in ('assigned','running','input_required'))
            and t.created_at < ${cutoff} and e2.created_at < ${cutoff}
          union all
          select e2.seq from workflow_runs r join task_events e2 on e2.task_id = r.id and e2.kind = 'run'
          where r.status = 'running' and r.created_at < ${cutoff} and e2.created_at < ${cutoff})
        and not exists (select 1 from task_events_unpublished q where q.seq = e.seq)
      limit ${batch}
      for update of e skip locked)`;
  return res.count;
}

/** Outbox rows not yet published (the to-publish queue). */
export async function countUnpublished(db: Db): Promise<number> {
  const [r] = await db<{ n: number }[]>`select count(*)::bigint as n from task_events_unpublished`;
  return r?.n ?? 0;
}

/** Mark events published by id (the fast path's acknowledged publishes; found by their tasks). */
export async function markPublishedIds(db: Db, events: { id: string; taskId: string }[]): Promise<void> {
  if (events.length === 0) return;
  // Pairs joined, each found through the task's index: `task_id = any(…) and id = any(…)` compared
  // every row of the tasks with every id of the batch (12 ms a statement in a burn-down).
  // Committed without waiting for the disk (synchronous_commit off for this statement's own
  // transaction, `quick`): a mark that a crash loses only means the relay sends that event again,
  // which the stream's duplicate window drops — the duplicates-on-crash the outbox already allows —
  // and with a durable Postgres the creates' and reports' commits stop queueing behind a flush
  // for bookkeeping 20 times a second (docs/benchmarks.md run 12, durable).
  await db`
    with quick as materialized (select set_config('synchronous_commit', 'off', true))
    delete from task_events_unpublished q
    using unnest(${db.array(events.map((e) => e.taskId))}::uuid[], ${db.array(events.map((e) => e.id))}::uuid[]) as x(task_id, id), quick
    where q.task_id = x.task_id and q.id = x.id`;
}

/** Which of these events are still waiting to be published (the fast path waiting on another replica's). */
export async function stillUnpublished(db: Db, taskIds: string[], ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db<{ id: string }[]>`
    select id from task_events_unpublished where task_id = any(${db.array(taskIds)}::uuid[]) and id = any(${db.array(ids)}::uuid[])`;
  return new Set(rows.map((r) => r.id));
}

/**
 * Tell the other replicas' listeners, outside any write (events/wakes.ts): the agents whose
 * long-polls may have something (dispatch_assigned), the tasks whose awaits should re-read
 * (dispatch_task_ended), and that new events exist (dispatch_events: the feed and the relays).
 * One statement, one commit, however many.
 */
export async function notifyWakes(sql: Sql, w: { agents: readonly string[]; tasks: readonly string[]; events: boolean }): Promise<void> {
  const channels = [...w.agents.map(() => 'dispatch_assigned'), ...w.tasks.map(() => 'dispatch_task_ended'), ...(w.events ? ['dispatch_events'] : [])];
  const payloads = [...w.agents, ...w.tasks, ...(w.events ? [''] : [])];
  if (channels.length === 0) return;
  await sql`select pg_notify(c, p) from unnest(${channels}::text[], ${payloads}::text[]) as x(c, p)`;
}
