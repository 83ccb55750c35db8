-- A terminal task keeps the assignee of its last attempt (who completed, failed or timed out on
-- it, or held it when it was cancelled); only a pending task has none. 0001's check said
-- "assignee set exactly while assigned/running".
alter table tasks drop constraint tasks_check;
alter table tasks add constraint tasks_assignee_check
  check ((status not in ('assigned','running') or assignee is not null) and (status <> 'pending' or assignee is null));

-- dispatch_assign keeps only its guards and writes the values the caller decided
-- (core/decisions.ts decideAssignment): attempt, deadline_at and wake_deadline_at come in as
-- arrays, no longer computed here. The guards, unchanged from 0005:
--   1. upsert-and-lock the batch's agent rows in id order (replicas lock the same rows in the same
--      order: no lock cycles);
--   2. a NEW statement (a volatile function takes a fresh snapshot per statement under read
--      committed), so the active counts see every assignment committed before the locks were
--      granted; accept items in plan order while the agent is not drained and under p_max;
--   3. lock the accepted tasks that are still pending, due and unchanged since the scheduler read
--      them (xmin = the version it read: the rows and events it decided from it are exact),
--      skipping rows another transaction holds (never waiting, no deadlocks), and compare-and-set
--      them pending -> assigned; insert their `assigned` events and stamp agents.last_assigned_at,
--      all in the same statement.
-- Returns one outcome per item, in item order: ok | drained | at_limit | lost.
-- p_ids must hold each task once (the caller keeps the first decision per task).
drop function dispatch_assign(uuid[], text[], text[], text[], timestamptz, timestamptz, integer);

create function dispatch_assign(
  p_ids uuid[], p_agents text[], p_versions text[], p_envelopes text[],
  p_attempts integer[], p_deadlines timestamptz[], p_wake_deadlines timestamptz[],
  p_now timestamptz, p_max integer
) returns table (task_id uuid, outcome text)
language plpgsql volatile as $$
#variable_conflict use_column
begin
  insert into agents (id)
  select distinct a from unnest(p_agents) as a order by a
  on conflict (id) do update set id = excluded.id;

  return query
  with d as (
    select u.id, u.agent, u.version, u.envelope, u.attempt, u.deadline, u.wake_deadline, u.ord
    from unnest(p_ids, p_agents, p_versions, p_envelopes, p_attempts, p_deadlines, p_wake_deadlines)
      with ordinality as u(id, agent, version, envelope, attempt, deadline, wake_deadline, ord)
  ), ag as (
    select g.id, g.drained,
           (select count(*) from tasks t where t.assignee = g.id and t.status in ('assigned','running'))::int as active
    from agents g where g.id in (select agent from d)
  ), ranked as (
    select d.*, ag.drained, ag.active, row_number() over (partition by d.agent order by d.ord) as k
    from d join ag on ag.id = d.agent
  ), acc as (
    select * from ranked r where not r.drained and r.active + r.k <= p_max
  ), mine as (
    select t.id from tasks t join acc on acc.id = t.id
    where t.xmin::text = acc.version and t.status = 'pending' and (t.not_before is null or t.not_before <= p_now)
    order by t.id
    for update of t skip locked
  ), upd as (
    update tasks t set
      status = 'assigned', assignee = acc.agent, assigned_at = p_now, updated_at = p_now,
      attempt = acc.attempt, deadline_at = acc.deadline, wake_deadline_at = acc.wake_deadline,
      avoid_agent = null, unmatched_reason = null
    from acc
    where t.id = acc.id and t.id in (select id from mine)
    returning t.id, acc.agent, acc.envelope, acc.ord
  ), ev as (
    insert into task_events (id, task_id, type, envelope, created_at)
    select (upd.envelope::jsonb ->> 'id')::uuid, upd.id, 'assigned', upd.envelope::jsonb, p_now
    from upd order by upd.ord
  ), touched as (
    update agents g set last_assigned_at = p_now where g.id in (select agent from upd)
  )
  select r.id,
         case when r.drained then 'drained'
              when r.active + r.k > p_max then 'at_limit'
              when exists (select 1 from upd where upd.id = r.id) then 'ok'
              else 'lost' end
  from ranked r order by r.ord;
end $$;
