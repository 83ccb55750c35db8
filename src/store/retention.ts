// SQL of the retention purge (docs/retention.md): batched deletes, each bounded and ordered by an
// index, rows in use skipped (`skip locked`), so a purge of a million rows never holds a lock a
// request or a tick waits on for long.
import type { Db } from './db.js';
import { trackRecordWindow } from './fairness.js';

export interface PurgedTasks {
  tasks: number;
  events: number;
  deliveries: number;
  idempotency_keys: number;
  edges: number;
}

/**
 * Delete at most `limit` finished tasks whose completed_at is before `cutoff` (oldest first, through
 * tasks_finished_idx), with their events, callback deliveries, recorded beats, idempotency keys and
 * dependency edges — in one statement. Never: a task that is not terminal, one whose workflow run
 * is still running, one a live task depends on, a parent of a task that is left, one with an
 * unpublished event or a delivery still pending.
 */
export async function purgeFinishedTasks(db: Db, cutoff: Date, limit: number): Promise<PurgedTasks> {
  const [r] = await db<PurgedTasks[]>`
    with doomed as (
      select t.id from tasks t
      where t.completed_at is not null and t.completed_at < ${cutoff}
        and t.status in ('completed','failed','timed_out','cancelled')
        and (t.workflow_run_id is null
             or exists (select 1 from workflow_runs r where r.id = t.workflow_run_id and r.status <> 'running'))
        and not exists (
          select 1 from task_deps d join tasks l on l.id = d.task_id
          where d.depends_on_id = t.id and l.status not in ('completed','failed','timed_out','cancelled'))
        -- A parent stays while a child of it is left (tasks.parent_id is a foreign key: deleting
        -- it first would fail the whole statement, every pass); it goes once its children have.
        and not exists (select 1 from tasks c where c.parent_id = t.id)
        and not exists (select 1 from task_events_unpublished e where e.task_id = t.id)
        and not exists (select 1 from deliveries v where v.task_id = t.id and v.status = 'pending')
      order by t.completed_at
      limit ${limit}
      for update of t skip locked
    ), ev as (
      delete from task_events e using doomed where e.task_id = doomed.id returning 1
    ), dl as (
      delete from deliveries v using doomed where v.task_id = doomed.id returning 1
    ), bt as (
      delete from task_beats b using doomed where b.task_id = doomed.id
    ), ik as (
      delete from idempotency_keys k using doomed where k.task_id = doomed.id returning 1
    ), ed as (
      delete from task_deps d using doomed where d.task_id = doomed.id or d.depends_on_id = doomed.id returning 1
    ), tk as (
      delete from tasks t using doomed where t.id = doomed.id returning t.status, t.completed_at, t.created_at
    ), st as (
      -- The stats counters lose what was deleted (no trigger on tasks: migrations/0021).
      insert into task_stat_deltas (status, n, completion_ms)
      select tk.status, -count(*),
             -coalesce(sum(case when tk.status = 'completed' and tk.completed_at is not null
                                then extract(epoch from tk.completed_at - tk.created_at) * 1000 end), 0)
      from tk group by tk.status
    )
    select (select count(*) from tk)::int as tasks, (select count(*) from ev)::int as events,
           (select count(*) from dl)::int as deliveries, (select count(*) from ik)::int as idempotency_keys,
           (select count(*) from ed)::int as edges`;
  return r!;
}

/**
 * Delete at most `limit` finished workflow runs older than `cutoff` none of whose tasks is left,
 * with their (published) run events. Returns the runs deleted.
 */
export async function purgeFinishedRuns(db: Db, cutoff: Date, limit: number): Promise<number> {
  const [r] = await db<{ n: number }[]>`
    with doomed as (
      select r.id from workflow_runs r
      where r.status <> 'running' and r.completed_at is not null and r.completed_at < ${cutoff}
        and not exists (select 1 from tasks t where t.workflow_run_id = r.id)
        and not exists (select 1 from task_events_unpublished e where e.task_id = r.id)
      order by r.completed_at limit ${limit} for update of r skip locked
    ), ev as (
      delete from task_events e using doomed where e.task_id = doomed.id and e.kind = 'run' returning 1
    ), rn as (
      delete from workflow_runs w using doomed where w.id = doomed.id returning 1
    )
    select (select count(*) from rn)::int as n`;
  return r!.n;
}

/** Keep the newest `kept` history rows per schedule: delete at most `limit` of the older ones. */
export async function pruneScheduleRuns(db: Db, kept: number, limit: number): Promise<number> {
  const res = await db`
    delete from schedule_runs where seq in (
      select seq from (
        select seq, row_number() over (partition by schedule_id order by seq desc) as rn from schedule_runs
      ) x where x.rn > ${kept} limit ${limit})`;
  return res.count;
}

/**
 * Delete at most `limit` track-record outcomes older than their agent's window (migration 0066:
 * the hot path only inserts; agentRecords never reads these rows). Each agent's are a range of the
 * primary key (agent, seq ≤ its latest − N).
 */
export async function trimTrackRecord(db: Db, limit: number): Promise<number> {
  const res = await db`
    delete from agent_outcomes x where (x.agent, x.seq) in (
      select y.agent, y.seq from agent_records r
      cross join lateral (
        select z.agent, z.seq from agent_outcomes z
        where z.agent = r.agent and z.seq <= r.seq - ${trackRecordWindow(db)}
        order by z.seq limit ${limit}
      ) y
      limit ${limit})`;
  return res.count;
}
