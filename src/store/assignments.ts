// SQL of the scheduler: reading due pending tasks, the assignment compare-and-set (with the agent
// row locked so the per-agent limit holds across replicas), unmatched bookkeeping, the two
// deadline sweeps and the stopped-agent requeue. Every statement binds `now` from the injected clock.
import type { Change } from '../core/decisions.js';
import type { TaskRow } from '../core/task.js';
import type { Sql, Tx } from './db.js';
import {
  addBefore,
  collectEvents,
  deliveryRows,
  unpublishedOf,
  eventColumns,
  eventRowsFragment,
  jsonTextArray,
  queueEvents,
  type CommittedEvents,
} from './events.js';
import { versionedRowOf, type VersionedRow } from './tasks.js';
import type { FlowLimitSpec } from '../core/flow.js';

/** A due pending task as the scheduler read it, with its row version (see dispatch_assign). */
export type PendingRef = VersionedRow;

export interface BatchCursor {
  priority: number;
  created_at: Date;
  id: string;
}

/**
 * Which keyed tasks a page reads (§20, docs/flow-control.md): each flow key that may start
 * something now, with at most how many of its tasks to read. Keys not listed (held ones) are not
 * read at all: their backlog sits in its own index range, never walked.
 */
export interface FlowReads {
  keys: readonly { key: string; limit: number }[];
}

/**
 * Due pending agent tasks (not call tasks) in assignment order (priority desc, oldest first), at most `limit`, after
 * `after` (keyset). The keyset is two index ranges (the rest of the cursor's priority, then the
 * lower priorities) merged, each starting at its position in the index: one `a or b` condition
 * would make Postgres walk the index from the top and filter, a cost that grows with the cursor's
 * depth in a 100k-task queue.
 *
 * With `flow`: tasks without a flow key from their partial index (tasks_pending_unkeyed_idx), and
 * each listed key's head from the per-key index (tasks_pending_flow_idx), merged: a held key's
 * 100,000 tasks cost nothing. Without it (scripts only): every pending task (tasks_pending_idx).
 */
export async function duePending(db: Sql | Tx, now: Date, limit: number, after?: BatchCursor, flow?: FlowReads): Promise<PendingRef[]> {
  // Call tasks (§18.1) are the executor's (store/calls.ts), never an agent's.
  const due = db`status = 'pending' and call is null and (not_before is null or not_before <= ${now})`;
  const ranges = (cond: ReturnType<Sql>, n: ReturnType<Sql>) =>
    after
      ? db`(select *, xmin::text as version from tasks
           where ${due} and ${cond} and priority = ${after.priority} and (created_at, id) > (${after.created_at}, ${after.id}::uuid)
           order by priority desc, created_at, id limit ${n})
          union all
          (select *, xmin::text as version from tasks
           where ${due} and ${cond} and priority < ${after.priority}
           order by priority desc, created_at, id limit ${n})`
      : db`(select *, xmin::text as version from tasks where ${due} and ${cond} order by priority desc, created_at, id limit ${n})`;
  if (!flow) {
    return (await db<PendingRef[]>`select * from (${ranges(db`true`, db`${limit}`)}) p order by priority desc, created_at, id limit ${limit}`).map(
      versionedRowOf,
    );
  }
  const keyed = flow.keys.length
    ? db`union all
        select x.* from unnest(${db.array(flow.keys.map((k) => k.key))}::text[], ${db.array(flow.keys.map((k) => Math.min(k.limit, limit)))}::int[]) as k(key, n)
        cross join lateral (
          select * from (${ranges(db`flow_key = k.key`, db`k.n`)}) r order by priority desc, created_at, id limit k.n
        ) x`
    : db``;
  const rows = await db<PendingRef[]>`
    select * from (
      select * from (${ranges(db`flow_key is null`, db`${limit}`)}) u
      ${keyed}
    ) p order by priority desc, created_at, id limit ${limit}`;
  return rows.map(versionedRowOf);
}

export interface BatchSpec {
  now: Date;
  maxConcurrent: number;
  /** The limit that applies to a flow key (core/flow.ts limitFor over config + api limits); undefined: none. */
  flowLimit?: (key: string) => FlowLimitSpec | undefined;
}

export type FlowRefusal = 'flow_paused' | 'flow_rate' | 'flow_concurrency';

/** An assignment decided by core/decisions.ts decideAssignment from the pending row it read. */
export type BatchItem = Change & { version: string };

export type BatchOutcome =
  | { taskId: string; agent: string; ok: true; row: TaskRow; version: string }
  | { taskId: string; agent: string; ok: false; reason: 'drained' | 'at_limit' | 'lost' | FlowRefusal };

/**
 * Assign many tasks with ONE round trip, whatever the batch size: the `dispatch_assign` function
 * (migrations/0060: 0019's body plus the flow guard of §20) locks the agents' rows in id order, then
 * the rows of the limited flow keys in key order, re-checks drain flags, active counts, pauses, tokens and key counts
 * after the locks, accepts items in plan order under the limit, and compare-and-sets the tasks
 * that are still pending and unchanged since they were read (rows another transaction holds are
 * skipped: "lost") to exactly the decided values, with their `assigned` events, in one
 * transaction. A lost task's slot is simply unused this tick (the limit can be under-used, never
 * exceeded). One decision per task (the first); outcomes come back in the order of those decisions.
 */
export async function assignBatch(sql: Sql, items: BatchItem[], s: BatchSpec, sink?: CommittedEvents): Promise<BatchOutcome[]> {
  const seen = new Set<string>();
  const unique = items.filter((it) => !seen.has(it.next.id) && seen.add(it.next.id));
  if (unique.length === 0) return [];
  const cols = eventColumns(
    unique.flatMap((it) => it.events),
    s.now,
  );
  const next = unique.map((it) => it.next);
  // With a sink: each assigned task's events still unpublished before this statement (read in
  // the statement's snapshot, so not the `assigned` events the function inserts — the e2e relay
  // test would see its own event as a foreign predecessor otherwise). Exact: the function only
  // writes a row still at the version the scheduler read.
  const before = sink ? sql`, case when d.outcome = 'ok' then ${unpublishedOf(sql, sql`d.task_id`)} end as before` : sql``;
  const limits = next.map((n) => (n.flow_key ? s.flowLimit?.(n.flow_key) : undefined));
  const call = sql`dispatch_assign(
      ${sql.array(next.map((n) => n.id))}::uuid[], ${sql.array(next.map((n) => n.assignee!))}::text[],
      ${sql.array(unique.map((it) => it.version))}::text[], ${jsonTextArray(sql, cols.stored)},
      ${sql.array(next.map((n) => n.attempt))}::int[],
      ${sql.array(next.map((n) => n.deadline_at!.toISOString()))}::timestamptz[],
      ${sql.array(next.map((n) => n.wake_deadline_at!.toISOString()))}::timestamptz[],
      ${sql.array(next.map((n) => n.heartbeat_deadline_at?.toISOString() ?? null) as string[])}::timestamptz[],
      ${sql.array(next.map((n) => n.assigned_score ?? 0))}::float8[], ${sql.array(next.map((n) => n.assigned_woke ?? false))}::bool[],
      ${s.now}::timestamptz, ${s.maxConcurrent}::int,
      ${sql.array(next.map((n) => n.flow_key) as string[])}::text[], ${sql.array(limits.map((l) => l?.rate ?? null) as number[])}::int[],
      ${sql.array(limits.map((l) => l?.per_ms ?? null) as number[])}::int[], ${sql.array(limits.map((l) => (l?.rate !== undefined ? (l.burst ?? l.rate) : null)) as number[])}::int[],
      ${sql.array(limits.map((l) => l?.concurrency ?? null) as number[])}::int[])`;
  type Row = { task_id: string; outcome: 'ok' | 'drained' | 'at_limit' | 'lost' | FlowRefusal; version: string | null; before?: string[] | null };
  // Callback deliveries of the `assigned` events, when any is wanted: those of the tasks assigned.
  const dl = () =>
    deliveryRows(
      sql,
      [cols],
      [s.now],
      sql`(select e.id from unnest(${sql.array(cols.ids)}::uuid[], ${sql.array(cols.taskIds)}::uuid[]) as e(id, task_id)
        join d on d.task_id = e.task_id and d.outcome = 'ok') as ins`,
    );
  const res = cols.urls.some((u) => u !== null)
    ? await sql<Row[]>`with d as (select * from ${call}) ${dl()} select d.task_id, d.outcome, d.version ${before} from d`
    : await sql<Row[]>`select d.task_id, d.outcome, d.version ${before} from ${call} d`;
  if (sink) {
    const ok = new Set(res.filter((r) => r.outcome === 'ok').map((r) => r.task_id));
    collectEvents(sink, cols, ok);
    for (const r of res) addBefore(sink, r.task_id, r.before);
  }
  return res.map((r, i) => {
    const it = unique[i]!;
    const agent = it.next.assignee!;
    if (r.task_id !== it.next.id) throw new Error(`dispatch_assign answered out of order at ${i}`);
    return r.outcome === 'ok'
      ? { taskId: it.next.id, agent, ok: true, row: it.next, version: r.version! }
      : { taskId: it.next.id, agent, ok: false, reason: r.outcome };
  });
}

/**
 * Record why tasks cannot be assigned (core/decisions.ts decideUnmatched), only where the reason
 * changed, with one `unmatched` event each (so a waiting task is announced once, not every tick).
 * One statement: each row is changed only if it is still pending and unchanged since the
 * scheduler read it (so the event, built from that row, is exact), and rows another transaction
 * holds are skipped, never waited for (they are marked on a later tick). Returns the rows that changed.
 */
export async function markUnmatched(sql: Sql, items: BatchItem[], now: Date, sink?: CommittedEvents): Promise<TaskRow[]> {
  if (items.length === 0) return [];
  const cols = eventColumns(
    items.flatMap((it) => it.events),
    now,
  );
  // With a sink: the task's events still unpublished before this statement (as in assignBatch).
  const before = sink ? sql`, ${unpublishedOf(sql, sql`upd.id`)} as before` : sql``;
  const changed = await sql<{ id: string; before?: string[] }[]>`
    with d as (
      select * from unnest(${sql.array(items.map((i) => i.next.id))}::uuid[], ${sql.array(items.map((i) => i.next.unmatched_reason ?? ''))}::text[],
        ${sql.array(items.map((i) => i.version))}::text[]) as d(id, reason, version)
    ), mine as (
      select t.id from tasks t join d on d.id = t.id
      where t.xmin::text = d.version and t.status = 'pending' and t.unmatched_reason is distinct from d.reason
      order by t.id for update of t skip locked
    ), upd as (
      update tasks t set unmatched_reason = d.reason
      from d where t.id = d.id and t.id in (select id from mine)
      returning t.id
    ), ev as (
      insert into task_events (id, task_id, type, envelope, created_at)
      select e.* from (${eventRowsFragment(sql, cols, now)}) e(id, task_id, type, envelope, created_at)
      where e.task_id in (select id from upd)
      returning seq, id, task_id
    ), q as (${queueEvents(sql, sql`ev`)}) ${deliveryRows(sql, [cols], [now], sql`ev`)}
    select id ${before} from upd`;
  const ids = new Set(changed.map((r) => r.id));
  if (sink) {
    collectEvents(sink, cols, ids);
    for (const r of changed) addBefore(sink, r.id, r.before);
  }
  return items.filter((it) => ids.has(it.next.id)).map((it) => it.next);
}

/**
 * Whether either sweep has anything to do: one read-only statement over the two partial deadline
 * indexes (no transaction, no locks), so a tick with nothing expired costs one round trip.
 */
export async function deadlinesDue(sql: Sql, now: Date): Promise<{ attempt: boolean; wake: boolean; start: boolean; input: boolean }> {
  const [r] = await sql<{ attempt: boolean; wake: boolean; start: boolean; input: boolean }[]>`
    select
      exists (select 1 from tasks where status in ('assigned','running') and least(deadline_at, heartbeat_deadline_at) <= ${now}) as attempt,
      exists (select 1 from tasks where status = 'assigned' and wake_deadline_at <= ${now}) as wake,
      exists (select 1 from tasks where status in ('pending','waiting') and attempt = 0 and start_by is not null and start_by <= ${now}) as start,
      exists (select 1 from tasks where status = 'input_required' and input_deadline_at <= ${now}) as input`;
  return { attempt: r?.attempt ?? true, wake: r?.wake ?? true, start: r?.start ?? true, input: r?.input ?? true };
}

/** Lock at most `limit` input_required tasks past their input deadline (index tasks_input_deadline_idx, migrations/0030). */
export async function lockInputExpired(tx: Tx, now: Date, limit: number): Promise<TaskRow[]> {
  return tx<TaskRow[]>`
    select * from tasks where status = 'input_required' and input_deadline_at <= ${now}
    order by input_deadline_at limit ${limit} for update skip locked`;
}

/**
 * Lock at most `limit` never-assigned tasks past their start deadline (partial index
 * tasks_start_by_idx; rows another replica is writing are skipped).
 */
export async function lockUnstartedDue(tx: Tx, now: Date, limit: number): Promise<TaskRow[]> {
  return tx<TaskRow[]>`
    select * from tasks where status in ('pending','waiting') and attempt = 0 and start_by is not null and start_by <= ${now}
    order by start_by limit ${limit} for update skip locked`;
}

/** Lock at most `limit` assigned tasks past their wake deadline (rows another replica is writing are skipped). */
export async function lockLapsedWakes(tx: Tx, now: Date, limit: number): Promise<TaskRow[]> {
  return tx<TaskRow[]>`
    select * from tasks where status = 'assigned' and wake_deadline_at <= ${now}
    order by wake_deadline_at limit ${limit} for update skip locked`;
}

/** An active task past a deadline, with the heartbeat deadline its recorded beats give it (task_beats), if any. */
export interface ExpiredAttempt {
  row: TaskRow;
  /** The deadline of the last beat written for this attempt (writeHeartbeats); null: none. */
  beatDeadline: Date | null;
}

/**
 * Lock at most `limit` active tasks past their attempt deadline or their heartbeat deadline,
 * whichever is earlier (index tasks_expiry_idx, migrations/0014; rows another replica is writing
 * are skipped), each with the deadline its recorded beats give this attempt (migrations/0070).
 */
export async function lockExpiredAttempts(tx: Tx, now: Date, limit: number): Promise<ExpiredAttempt[]> {
  const rows = await tx<(TaskRow & { beat_deadline: Date | null })[]>`
    select t.*, b.deadline as beat_deadline from tasks t
    left join task_beats b on b.task_id = t.id and b.attempt = t.attempt
    where t.status in ('assigned','running') and least(t.deadline_at, t.heartbeat_deadline_at) <= ${now}
    order by least(t.deadline_at, t.heartbeat_deadline_at) limit ${limit} for update of t skip locked`;
  return rows.map(({ beat_deadline, ...row }) => ({ row: row as TaskRow, beatDeadline: beat_deadline }));
}

/**
 * Move the heartbeat deadline of tasks locked by lockExpiredAttempts to what their recorded beats
 * say (forward only, while still active): the sweep's index then sees it.
 */
export async function extendHeartbeatDeadlines(tx: Tx, moves: readonly { id: string; deadline: Date }[]): Promise<void> {
  if (moves.length === 0) return;
  await tx`
    update tasks t set heartbeat_deadline_at = m.deadline
    from unnest(${tx.array(moves.map((m) => m.id))}::uuid[], ${tx.array(moves.map((m) => m.deadline.toISOString()))}::timestamptz[]) as m(id, deadline)
    where t.id = m.id and t.status in ('assigned','running') and t.heartbeat_deadline_at < m.deadline`;
}

/**
 * Write coalesced heartbeats (services/heartbeats.ts) in ONE statement: each task's beat is
 * recorded for its current attempt in task_beats (migrations/0070), only while the task is still
 * active with the agent that beat (a task that moved on is left alone), and only forward. The
 * task's row is not written: a repeated beat is a HOT update of a three-column row, and the sweep
 * moves tasks.heartbeat_deadline_at when it finds it passed (lockExpiredAttempts). No event row.
 * Returns how many beats were recorded.
 */
export async function writeHeartbeats(db: Sql, beats: readonly { taskId: string; agent: string; deadline: Date }[]): Promise<number> {
  if (beats.length === 0) return 0;
  const res = await db`
    insert into task_beats as tb (task_id, attempt, deadline)
    select t.id, t.attempt, b.deadline
    from unnest(${db.array(beats.map((b) => b.taskId))}::uuid[], ${db.array(beats.map((b) => b.agent))}::text[],
      ${db.array(beats.map((b) => b.deadline.toISOString()))}::timestamptz[]) as b(id, agent, deadline)
    join tasks t on t.id = b.id
    where t.status in ('assigned','running') and t.assignee = b.agent
      and t.heartbeat_deadline_at is not null and t.heartbeat_deadline_at < b.deadline
    on conflict (task_id) do update set attempt = excluded.attempt, deadline = excluded.deadline
      where tb.attempt <> excluded.attempt or tb.deadline < excluded.deadline`;
  return res.count;
}

/**
 * Lock an agent's assigned and running tasks (what Warren's stopped/degraded re-queues). Waits
 * for rows being written: a report in flight finishes first, and its task is then left alone if
 * it ended; replicas handling the same Warren event at once re-queue each task exactly once.
 */
export async function lockAgentTasks(tx: Tx, agent: string): Promise<TaskRow[]> {
  return tx<TaskRow[]>`
    select * from tasks where status in ('assigned','running') and assignee = ${agent}
    order by id for update`;
}
