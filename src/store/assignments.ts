// SQL of the scheduler: reading due pending tasks, the assignment compare-and-set (with the agent
// row locked so the per-agent limit holds across replicas), unmatched bookkeeping, and the two
// deadline sweeps. Every statement binds `now` from the injected clock.
import type { TaskStatus } from '../core/task.js';
import type { Sql, Tx } from './db.js';
import { buildEnvelope, eventColumns, eventRowsFragment, insertEvents, type EventDraft } from './events.js';
import { requeueSet, rowToTask, unversioned, type TaskRow, type VersionedRow } from './tasks.js';

/** A due pending task as the scheduler read it, with its row version (see dispatch_assign). */
export type PendingRef = VersionedRow;

export interface BatchCursor {
  priority: number;
  created_at: Date;
  id: string;
}

/**
 * Due pending tasks in assignment order (priority desc, oldest first), at most `limit`, after
 * `after` (keyset). Served by the partial index on pending rows. The keyset is two index ranges
 * (the rest of the cursor's priority, then the lower priorities) merged, each starting at its
 * position in the index: one `a or b` condition would make Postgres walk the index from the top
 * and filter, a cost that grows with the cursor's depth in a 100k-task queue.
 */
export async function duePending(db: Sql | Tx, now: Date, limit: number, after?: BatchCursor): Promise<PendingRef[]> {
  const due = db`status = 'pending' and (not_before is null or not_before <= ${now})`;
  if (!after) {
    return db<PendingRef[]>`
      select *, xmin::text as version from tasks where ${due}
      order by priority desc, created_at, id limit ${limit}`;
  }
  return db<PendingRef[]>`
    (select *, xmin::text as version from tasks
     where ${due} and priority = ${after.priority} and (created_at, id) > (${after.created_at}, ${after.id}::uuid)
     order by priority desc, created_at, id limit ${limit})
    union all
    (select *, xmin::text as version from tasks
     where ${due} and priority < ${after.priority}
     order by priority desc, created_at, id limit ${limit})
    order by priority desc, created_at, id limit ${limit}`;
}

export interface BatchItem {
  /** The pending row as read (duePending): the `assigned` event is built from it. */
  task: PendingRef;
  agent: string;
  score: number;
  woke: boolean;
}

export interface BatchSpec {
  now: Date;
  maxConcurrent: number;
  wakeTimeoutMs: number;
}

export type BatchOutcome =
  | { taskId: string; agent: string; ok: true; row: TaskRow }
  | { taskId: string; agent: string; ok: false; reason: 'drained' | 'at_limit' | 'lost' };

/** The row an assignment produces from the pending row it was decided on (what dispatch_assign writes). */
export function assignedRow(task: PendingRef, agent: string, s: BatchSpec): TaskRow {
  const row = unversioned(task);
  return {
    ...row,
    status: 'assigned', assignee: agent, assigned_at: s.now, updated_at: s.now,
    attempt: row.attempt + 1,
    deadline_at: new Date(s.now.getTime() + row.timeout_ms),
    wake_deadline_at: new Date(s.now.getTime() + s.wakeTimeoutMs),
    avoid_agent: null, unmatched_reason: null,
  };
}

/**
 * Assign many tasks with ONE round trip, whatever the batch size: the `dispatch_assign` function
 * (migrations/0005) locks the agents' rows in id order, re-checks drain flags and active counts
 * after the locks, accepts items in plan order under the limit, and compare-and-sets the tasks
 * that are still pending and unchanged since they were read (rows another transaction holds are
 * skipped: "lost"), with their `assigned` events, in one transaction. A lost task's slot is
 * simply unused this tick (the limit can be under-used, never exceeded). One decision per task
 * (the first); outcomes come back in the order of those decisions.
 */
export async function assignBatch(sql: Sql, items: BatchItem[], s: BatchSpec): Promise<BatchOutcome[]> {
  const seen = new Set<string>();
  const unique = items.filter((it) => !seen.has(it.task.id) && seen.add(it.task.id));
  if (unique.length === 0) return [];
  const rows = unique.map((it) => assignedRow(it.task, it.agent, s));
  const envelopes = unique.map((it, i) => JSON.stringify(buildEnvelope({
    type: 'assigned', task: rowToTask(rows[i]!), extra: { agent: it.agent, score: it.score, woke: it.woke },
  }, s.now)));
  const res = await sql<{ task_id: string; outcome: 'ok' | 'drained' | 'at_limit' | 'lost' }[]>`
    select task_id, outcome from dispatch_assign(
      ${sql.array(unique.map((it) => it.task.id))}::uuid[], ${sql.array(unique.map((it) => it.agent))}::text[],
      ${sql.array(unique.map((it) => it.task.version))}::text[], ${sql.array(envelopes)}::text[],
      ${s.now}::timestamptz, ${new Date(s.now.getTime() + s.wakeTimeoutMs)}::timestamptz, ${s.maxConcurrent}::int)`;
  return res.map((r, i) => {
    const it = unique[i]!;
    if (r.task_id !== it.task.id) throw new Error(`dispatch_assign answered out of order at ${i}`);
    return r.outcome === 'ok'
      ? { taskId: it.task.id, agent: it.agent, ok: true, row: rows[i]! }
      : { taskId: it.task.id, agent: it.agent, ok: false, reason: r.outcome };
  });
}

/**
 * Record why tasks cannot be assigned, only where the reason changed, with one `unmatched` event
 * each (so a waiting task is announced once, not every tick). One statement: each row is changed
 * only if it is still pending and unchanged since the scheduler read it (so the event, built
 * from that row, is exact), and rows another transaction holds are skipped, never waited for
 * (they are marked on a later tick). Returns the rows that changed.
 */
export async function markUnmatched(sql: Sql, items: { task: PendingRef; reason: string }[], now: Date): Promise<TaskRow[]> {
  if (items.length === 0) return [];
  const rows = items.map(({ task, reason }): TaskRow => ({ ...unversioned(task), unmatched_reason: reason }));
  const cols = eventColumns(rows.map((r) => ({ type: 'unmatched', task: rowToTask(r), extra: { reason: r.unmatched_reason } })), now);
  const changed = await sql<{ id: string }[]>`
    with d as (
      select * from unnest(${sql.array(items.map((i) => i.task.id))}::uuid[], ${sql.array(items.map((i) => i.reason))}::text[],
        ${sql.array(items.map((i) => i.task.version))}::text[]) as d(id, reason, version)
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
    )
    select id from upd`;
  const ids = new Set(changed.map((r) => r.id));
  return rows.filter((r) => ids.has(r.id));
}

/**
 * Whether either sweep has anything to do: one read-only statement over the two partial deadline
 * indexes (no transaction, no locks), so a tick with nothing expired costs one round trip.
 */
export async function deadlinesDue(sql: Sql, now: Date): Promise<{ attempt: boolean; wake: boolean }> {
  const [r] = await sql<{ attempt: boolean; wake: boolean }[]>`
    select
      exists (select 1 from tasks where status in ('assigned','running') and deadline_at <= ${now}) as attempt,
      exists (select 1 from tasks where status = 'assigned' and wake_deadline_at <= ${now}) as wake`;
  return { attempt: r?.attempt ?? true, wake: r?.wake ?? true };
}

/**
 * Ack/wake timeout: `assigned` tasks whose wake deadline passed go back to pending without
 * spending a retry; the lapsed agent is remembered in avoid_agent. One set-based statement over
 * at most `limit` rows (rows another replica is writing are skipped, not waited for).
 */
export async function sweepWakeTimeouts(sql: Sql, now: Date, limit: number): Promise<TaskRow[]> {
  return sql.begin(async (tx) => {
    const rows = await tx<TaskRow[]>`
      update tasks t set ${requeueSet(tx, now)}
      where t.id in (
          select id from tasks where status = 'assigned' and wake_deadline_at <= ${now}
          order by wake_deadline_at limit ${limit} for update skip locked)
        and t.status = 'assigned' and t.wake_deadline_at <= ${now}
      returning t.*`;
    await insertEvents(tx, rows.map((r) => ({
      type: 'reassigned', task: rowToTask(r), extra: { from_agent: r.avoid_agent, reason: 'wake_timeout' },
    })), now);
    return rows;
  });
}

export interface ExpiredAttempt {
  id: string;
  retry_count: number;
  max_retries: number;
  timeout_ms: number;
}

export type TimeoutDecision = { retry: true; retryCount: number; notBefore: Date } | { retry: false };

/**
 * Attempt timeout: active tasks past deadline_at either retry (pending, retry_count+1, not_before
 * from `decide`) or end `timed_out`. Decisions are made per row by the caller (backoff jitter),
 * then applied with one set-based compare-and-set; `timeout` (+ `retry`) events in the same
 * transaction. Returns the changed rows with whether each was retried.
 */
export async function sweepAttemptTimeouts(
  sql: Sql,
  now: Date,
  limit: number,
  decide: (t: ExpiredAttempt) => TimeoutDecision,
): Promise<{ row: TaskRow; retried: boolean; fromAgent: string | null }[]> {
  return sql.begin(async (tx) => {
    const due = await tx<ExpiredAttempt[]>`
      select id, retry_count, max_retries, timeout_ms from tasks
      where status in ('assigned','running') and deadline_at <= ${now}
      order by deadline_at limit ${limit} for update skip locked`;
    if (due.length === 0) return [];
    const decisions = due.map((t) => ({ t, d: decide(t) }));
    const ids = decisions.map(({ t }) => t.id);
    const statuses: TaskStatus[] = decisions.map(({ d }) => (d.retry ? 'pending' : 'timed_out'));
    const counts = decisions.map(({ t, d }) => (d.retry ? d.retryCount : t.retry_count));
    const notBefore = decisions.map(({ d }) => (d.retry ? d.notBefore : now).toISOString());
    const rows = await tx<(TaskRow & { from_agent: string | null })[]>`
      update tasks t set
        status = d.status,
        retry_count = d.retry_count,
        not_before = case when d.status = 'pending' then d.not_before else t.not_before end,
        avoid_agent = t.assignee, assignee = null,
        deadline_at = null, wake_deadline_at = null, unmatched_reason = null,
        error = 'attempt timed out after ' || t.timeout_ms || ' ms',
        queued_at = case when d.status = 'pending' then ${now}::timestamptz else t.queued_at end,
        completed_at = case when d.status = 'timed_out' then ${now}::timestamptz else t.completed_at end,
        updated_at = ${now}
      from unnest(${tx.array(ids)}::uuid[], ${tx.array(statuses)}::text[], ${tx.array(counts)}::int[], ${tx.array(notBefore)}::timestamptz[])
        as d(id, status, retry_count, not_before)
      where t.id = d.id and t.status in ('assigned','running') and t.deadline_at <= ${now}
      returning t.*, t.avoid_agent as from_agent`;
    const drafts: EventDraft[] = [];
    const out = rows.map((r) => {
      const retried = r.status === 'pending';
      const task = rowToTask(r);
      const counts = { retry_count: r.retry_count, max_retries: r.max_retries };
      drafts.push({ type: 'timeout', task, extra: { ...counts, reason: retried ? 'attempt_timeout' : 'retries_exhausted', agent: r.from_agent, will_retry: retried } });
      if (retried) drafts.push({ type: 'retry', task, extra: { ...counts, reason: 'timeout', not_before: task.not_before } });
      const { from_agent, ...row } = r;
      return { row: row as TaskRow, retried, fromAgent: from_agent };
    });
    await insertEvents(tx, drafts, now);
    return out;
  });
}
