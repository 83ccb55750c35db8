// SQL of the scheduler: reading due pending tasks, the assignment compare-and-set (with the agent
// row locked so the per-agent limit holds across replicas), unmatched bookkeeping, and the two
// deadline sweeps. Every statement binds `now` from the injected clock.
import type { TaskStatus } from '../core/task.js';
import type { Sql, Tx } from './db.js';
import { insertEvents, type EventDraft } from './events.js';
import { requeueSet, rowToTask, type TaskRow } from './tasks.js';

export interface PendingRef {
  id: string;
  required_tags: string[];
  priority: number;
  owner: string | null;
  avoid_agent: string | null;
  unmatched_reason: string | null;
  created_at: Date;
}

export interface BatchCursor {
  priority: number;
  created_at: Date;
  id: string;
}

/**
 * Due pending tasks in assignment order (priority desc, oldest first), at most `limit`, after
 * `after` (keyset). Served by the partial index on pending rows.
 */
export async function duePending(db: Sql | Tx, now: Date, limit: number, after?: BatchCursor): Promise<PendingRef[]> {
  const keyset = after
    ? db`and (priority < ${after.priority} or (priority = ${after.priority} and (created_at, id) > (${after.created_at}, ${after.id}::uuid)))`
    : db``;
  return db<PendingRef[]>`
    select id, required_tags, priority, owner, avoid_agent, unmatched_reason, created_at
    from tasks
    where status = 'pending' and (not_before is null or not_before <= ${now}) ${keyset}
    order by priority desc, created_at, id
    limit ${limit}`;
}

export interface AssignSpec {
  taskId: string;
  agent: string;
  score: number;
  woke: boolean;
  now: Date;
  maxConcurrent: number;
  wakeTimeoutMs: number;
}

export type AssignResult =
  | { ok: true; row: TaskRow }
  | { ok: false; reason: 'drained' | 'at_limit' | 'lost' };

/**
 * Assign one task in one short transaction:
 *   1. lock the agent's row (upserted), so assignments to one agent are serialised across replicas;
 *   2. re-check the drain flag and the agent's active count (read after the lock: it sees every
 *      assignment committed before us);
 *   3. compare-and-set the task pending → assigned (lost if someone else changed it);
 *   4. write the `assigned` event in the same transaction.
 */
export async function assignTask(sql: Sql, s: AssignSpec): Promise<AssignResult> {
  return sql.begin(async (tx): Promise<AssignResult> => {
    const [agent] = await tx<{ drained: boolean }[]>`
      insert into agents (id) values (${s.agent})
      on conflict (id) do update set id = excluded.id
      returning drained`;
    if (agent!.drained) return { ok: false, reason: 'drained' };
    const [active] = await tx<{ n: number }[]>`
      select count(*)::int as n from tasks where assignee = ${s.agent} and status in ('assigned','running')`;
    if (active!.n >= s.maxConcurrent) return { ok: false, reason: 'at_limit' };
    const wakeDeadline = new Date(s.now.getTime() + s.wakeTimeoutMs);
    const [row] = await tx<TaskRow[]>`
      update tasks set
        status = 'assigned', assignee = ${s.agent}, assigned_at = ${s.now}, updated_at = ${s.now},
        attempt = attempt + 1,
        deadline_at = ${s.now}::timestamptz + timeout_ms * interval '1 millisecond',
        wake_deadline_at = ${wakeDeadline},
        avoid_agent = null, unmatched_reason = null
      where id = ${s.taskId} and status = 'pending' and (not_before is null or not_before <= ${s.now})
      returning *`;
    if (!row) return { ok: false, reason: 'lost' };
    await tx`update agents set last_assigned_at = ${s.now} where id = ${s.agent}`;
    await insertEvents(tx, [{ type: 'assigned', task: rowToTask(row), extra: { agent: s.agent, score: s.score, woke: s.woke } }], s.now);
    return { ok: true, row };
  });
}

export interface BatchItem {
  taskId: string;
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

/**
 * Assign many tasks in ONE transaction with a fixed number of statements, whatever the batch size
 * (the set-based twin of assignTask, same guarantees):
 *   1. upsert-and-lock the batch's agent rows in one statement, in id order (replicas lock the
 *      same rows in the same order: no lock cycles), reading the drain flags;
 *   2. count those agents' active tasks in one group-by, AFTER the locks (a separate statement,
 *      so its snapshot sees every assignment committed before the locks were granted);
 *   3. accept items in the given (plan) order while the agent is not drained and under the limit;
 *   4. lock the accepted tasks that are still pending and due (`for update skip locked`: a row
 *      another transaction holds is skipped — "lost" — never waited for, so no task-row waits
 *      and no deadlocks) and compare-and-set them pending → assigned in one `update … from
 *      unnest(…)`, with `agents.last_assigned_at` in the same statement;
 *   5. insert every `assigned` event in one statement, same transaction.
 * A lost task's slot is simply unused this tick (the limit can be under-used, never exceeded).
 * Outcomes come back in the order of `items`.
 */
export async function assignBatch(sql: Sql, items: BatchItem[], s: BatchSpec): Promise<BatchOutcome[]> {
  if (items.length === 0) return [];
  return sql.begin(async (tx): Promise<BatchOutcome[]> => {
    const agentIds = [...new Set(items.map((i) => i.agent))].sort();
    const locked = await tx<{ id: string; drained: boolean }[]>`
      insert into agents (id)
      select id from unnest(${tx.array(agentIds)}::text[]) as a(id) order by id
      on conflict (id) do update set id = excluded.id
      returning id, drained`;
    const drained = new Map(locked.map((r) => [r.id, r.drained]));
    const counted = await tx<{ assignee: string; n: number }[]>`
      select assignee, count(*)::int as n from tasks
      where assignee = any(${tx.array(agentIds)}::text[]) and status in ('assigned','running')
      group by assignee`;
    const active = new Map(counted.map((r) => [r.assignee, r.n]));

    const outcomes = new Map<string, BatchOutcome>();
    const accepted: BatchItem[] = [];
    const unique: BatchItem[] = [];
    const seen = new Set<string>();
    for (const it of items) {
      if (seen.has(it.taskId)) continue; // one decision per task: the first one
      seen.add(it.taskId);
      unique.push(it);
      if (drained.get(it.agent)) {
        outcomes.set(it.taskId, { taskId: it.taskId, agent: it.agent, ok: false, reason: 'drained' });
        continue;
      }
      const n = active.get(it.agent) ?? 0;
      if (n >= s.maxConcurrent) {
        outcomes.set(it.taskId, { taskId: it.taskId, agent: it.agent, ok: false, reason: 'at_limit' });
        continue;
      }
      active.set(it.agent, n + 1);
      accepted.push(it);
    }

    if (accepted.length > 0) {
      const wakeDeadline = new Date(s.now.getTime() + s.wakeTimeoutMs);
      const rows = await tx<TaskRow[]>`
        with d as (
          select * from unnest(${tx.array(accepted.map((a) => a.taskId))}::uuid[], ${tx.array(accepted.map((a) => a.agent))}::text[])
            as d(id, agent)
        ), mine as (
          select t.id from tasks t
          where t.id in (select id from d) and t.status = 'pending' and (t.not_before is null or t.not_before <= ${s.now})
          order by t.id
          for update skip locked
        ), upd as (
          update tasks t set
            status = 'assigned', assignee = d.agent, assigned_at = ${s.now}, updated_at = ${s.now},
            attempt = t.attempt + 1,
            deadline_at = ${s.now}::timestamptz + t.timeout_ms * interval '1 millisecond',
            wake_deadline_at = ${wakeDeadline},
            avoid_agent = null, unmatched_reason = null
          from d
          where t.id = d.id and t.id in (select id from mine)
            and t.status = 'pending' and (t.not_before is null or t.not_before <= ${s.now})
          returning t.*
        ), touched as (
          update agents g set last_assigned_at = ${s.now}
          where g.id in (select assignee from upd)
        )
        select * from upd`;
      const byId = new Map(rows.map((r) => [r.id, r]));
      const drafts: EventDraft[] = [];
      for (const a of accepted) {
        const row = byId.get(a.taskId);
        if (!row) {
          outcomes.set(a.taskId, { taskId: a.taskId, agent: a.agent, ok: false, reason: 'lost' });
          continue;
        }
        outcomes.set(a.taskId, { taskId: a.taskId, agent: a.agent, ok: true, row });
        drafts.push({ type: 'assigned', task: rowToTask(row), extra: { agent: a.agent, score: a.score, woke: a.woke } });
      }
      await insertEvents(tx, drafts, s.now);
    }
    return unique.map((it) => outcomes.get(it.taskId)!);
  });
}

/**
 * Record why tasks cannot be assigned, only where the reason changed, with one `unmatched` event
 * each (so a waiting task is announced once, not every tick). Rows another transaction holds are
 * skipped, never waited for (they are marked on a later tick). Returns the rows that changed.
 */
export async function markUnmatched(sql: Sql, items: { id: string; reason: string }[], now: Date): Promise<TaskRow[]> {
  if (items.length === 0) return [];
  return sql.begin(async (tx) => {
    const rows = await tx<TaskRow[]>`
      update tasks t set unmatched_reason = d.reason
      from unnest(${tx.array(items.map((i) => i.id))}::uuid[], ${tx.array(items.map((i) => i.reason))}::text[]) as d(id, reason)
      where t.id = d.id and t.status = 'pending' and t.unmatched_reason is distinct from d.reason
        and t.id in (
          select id from tasks where id = any(${tx.array(items.map((i) => i.id))}::uuid[]) and status = 'pending'
          order by id for update skip locked)
      returning t.*`;
    await insertEvents(tx, rows.map((r) => ({ type: 'unmatched', task: rowToTask(r), extra: { reason: r.unmatched_reason } })), now);
    return rows;
  });
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
