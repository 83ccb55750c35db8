-- Counters behind GET /api/v1/stats and the queue-depth gauges, so neither counts a large table.
-- Statement-level triggers append per-status deltas (insert-only: no hot row, no lock contention
-- between writers or replicas); a periodic fold moves them into task_stats. The current figures
-- are task_stats + the sum of the not-yet-folded deltas, read in one snapshot.
-- completion_ms sums (completed_at - created_at) over completed tasks, for avg_completion_ms.

create table task_stats (
  status        text primary key,
  n             bigint not null default 0,
  completion_ms double precision not null default 0
);

create table task_stat_deltas (
  id            bigserial primary key,
  status        text not null,
  n             bigint not null,
  completion_ms double precision not null default 0
);

insert into task_stats (status, n, completion_ms)
select s.status, coalesce(c.n, 0), coalesce(c.ms, 0)
from unnest(array['pending','assigned','running','completed','failed','timed_out','cancelled']) as s(status)
left join (
  select status, count(*) as n,
         coalesce(sum(case when status = 'completed' and completed_at is not null
                           then extract(epoch from completed_at - created_at) * 1000 end), 0) as ms
  from tasks group by status
) c on c.status = s.status;

create function dispatch_stats_insert() returns trigger language plpgsql as $$
begin
  insert into task_stat_deltas (status, n, completion_ms)
  select status, count(*),
         coalesce(sum(case when status = 'completed' and completed_at is not null
                           then extract(epoch from completed_at - created_at) * 1000 end), 0)
  from new_rows group by status;
  return null;
end $$;

create function dispatch_stats_update() returns trigger language plpgsql as $$
begin
  insert into task_stat_deltas (status, n, completion_ms)
  select status, sum(n), sum(ms) from (
    select status, 1 as n,
           case when status = 'completed' and completed_at is not null
                then extract(epoch from completed_at - created_at) * 1000 else 0 end as ms
    from new_rows
    union all
    select status, -1,
           case when status = 'completed' and completed_at is not null
                then -extract(epoch from completed_at - created_at) * 1000 else 0 end
    from old_rows
  ) x group by status having sum(n) <> 0 or sum(ms) <> 0;
  return null;
end $$;

create function dispatch_stats_delete() returns trigger language plpgsql as $$
begin
  insert into task_stat_deltas (status, n, completion_ms)
  select status, -count(*),
         -coalesce(sum(case when status = 'completed' and completed_at is not null
                            then extract(epoch from completed_at - created_at) * 1000 end), 0)
  from old_rows group by status;
  return null;
end $$;

create trigger tasks_stats_insert after insert on tasks
  referencing new table as new_rows for each statement execute function dispatch_stats_insert();
create trigger tasks_stats_update after update on tasks
  referencing old table as old_rows new table as new_rows for each statement execute function dispatch_stats_update();
create trigger tasks_stats_delete after delete on tasks
  referencing old table as old_rows for each statement execute function dispatch_stats_delete();

-- oldest_pending_ms / dispatch_queue_oldest_pending_seconds: the first entry of this index.
create index tasks_pending_queued_idx on tasks (queued_at) where status = 'pending';
