// Queue statistics from the counters of migration 0004 (task_stats + unfolded task_stat_deltas),
// so GET /api/v1/stats and the queue-depth gauges never count the tasks table: with a million
// finished tasks they read a handful of rows and one index entry (figures in docs/events.md).
import { TASK_STATUSES, type TaskStatus } from '../core/task.js';
import type { StatDelta } from '../core/stats.js';
import type { Db, Sql } from './db.js';

export interface QueueStats {
  counts: Record<TaskStatus, number>;
  /** Mean of completed_at - created_at over completed tasks; 0 when none completed. */
  avg_completion_ms: number;
  /** Age of the longest-waiting pending task (since created or re-queued); 0 when none. */
  oldest_pending_ms: number;
}

export async function readQueueStats(db: Db, now: Date): Promise<QueueStats> {
  const rows = await db<{ status: string; n: number; ms: number }[]>`
    select status, sum(n)::bigint as n, sum(completion_ms)::float8 as ms from (
      select status, n, completion_ms from task_stats
      union all
      select status, n, completion_ms from task_stat_deltas
    ) x group by status`;
  const [oldest] = await db<{ queued_at: Date | null }[]>`
    select min(queued_at) as queued_at from tasks where status = 'pending'`;
  const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  let completionMs = 0;
  for (const r of rows) {
    if ((TASK_STATUSES as readonly string[]).includes(r.status)) counts[r.status as TaskStatus] = Math.max(0, Number(r.n));
    if (r.status === 'completed') completionMs = Number(r.ms);
  }
  const avg = counts.completed > 0 ? Math.round(completionMs / counts.completed) : 0;
  const oldestMs = oldest?.queued_at ? Math.max(0, now.getTime() - oldest.queued_at.getTime()) : 0;
  return { counts, avg_completion_ms: avg, oldest_pending_ms: oldestMs };
}

/**
 * Move the accumulated deltas into task_stats (one short transaction). Safe to run from several
 * replicas at once: a delta row is deleted, and so counted, by exactly one fold.
 */
export async function foldStatDeltas(sql: Sql): Promise<number> {
  const res = await sql`
    with d as (delete from task_stat_deltas returning status, n, completion_ms),
    agg as (select status, sum(n) as n, sum(completion_ms) as ms from d group by status),
    upd as (
      update task_stats s set n = s.n + agg.n, completion_ms = s.completion_ms + agg.ms
      from agg where s.status = agg.status returning 1)
    select (select count(*) from d)::bigint as folded`;
  return Number((res[0] as { folded?: number } | undefined)?.folded ?? 0);
}

export interface MinuteCount {
  /** Start of the minute (UTC). */
  at: Date;
  n: number;
}

/**
 * Tasks created and finished (completed_at set: any terminal status) per minute in [from, to).
 * Two range reads on indexes: tasks_list_idx (created_at) and tasks_finished_idx (completed_at,
 * migration 0013); only minutes with tasks come back.
 */
export async function readMinuteCounts(db: Db, from: Date, to: Date): Promise<{ created: MinuteCount[]; finished: MinuteCount[] }> {
  const [created, finished] = await Promise.all([
    db<{ at: Date; n: number }[]>`
      select date_trunc('minute', created_at) as at, count(*)::int as n from tasks
      where created_at >= ${from} and created_at < ${to} group by 1`,
    db<{ at: Date; n: number }[]>`
      select date_trunc('minute', completed_at) as at, count(*)::int as n from tasks
      where completed_at is not null and completed_at >= ${from} and completed_at < ${to} group by 1`,
  ]);
  return { created: [...created], finished: [...finished] };
}

/** The tables whose size the dashboard shows (heap + indexes + TOAST). */
export const SIZED_TABLES = [
  'tasks',
  'task_events',
  'deliveries',
  'idempotency_keys',
  'task_deps',
  'workflow_runs',
  'schedule_runs',
  'hook_deliveries',
] as const;

/**
 * Each table's total size in bytes: one catalog read (pg_total_relation_size of a fixed list,
 * no table scan), so it can run at scrape time.
 */
export async function tableSizes(db: Db): Promise<Map<string, number>> {
  const rows = await db<{ name: string; bytes: number }[]>`
    select c.relname as name, pg_total_relation_size(c.oid)::bigint as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind = 'r' and c.relname = any(${db.array([...SIZED_TABLES] as string[])}::text[])`;
  return new Map(rows.map((r) => [r.name, Number(r.bytes)]));
}

/**
 * A data-modifying CTE body that adds the decided counter changes (core/stats.ts) of the tasks a
 * statement wrote: `written` is a subquery of the ids the statement actually wrote (a lost
 * compare-and-set adds nothing). One row per status, as the old triggers wrote them.
 */
export function statDeltasInsert(db: Db, deltas: readonly StatDelta[], written: ReturnType<Db>) {
  return db`
    insert into task_stat_deltas (status, n, completion_ms)
    select d.status, sum(d.n), sum(d.ms)
    from unnest(${db.array(deltas.map((d) => d.taskId))}::uuid[], ${db.array(deltas.map((d) => d.status))}::text[],
      ${db.array(deltas.map((d) => d.n))}::int[], ${db.array(deltas.map((d) => d.completionMs))}::float8[]) as d(task_id, status, n, ms)
    where d.task_id in (${written})
    group by d.status`;
}
