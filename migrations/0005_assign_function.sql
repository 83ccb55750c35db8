-- The scheduler's assignment write as one function call: one round trip instead of a six-statement
-- transaction (begin, lock agents, count, update, insert events, commit). Same guarantees:
--   1. upsert-and-lock the batch's agent rows in id order (replicas lock the same rows in the same
--      order: no lock cycles);
--   2. a NEW statement (a volatile function takes a fresh snapshot per statement under read
--      committed), so the active counts see every assignment committed before the locks were
--      granted; accept items in plan order while the agent is not drained and under p_max;
--   3. lock the accepted tasks that are still pending, due and unchanged since the scheduler read
--      them (xmin = the version it read: the events it built from that row are exact), skipping
--      rows another transaction holds (never waiting, no deadlocks), and compare-and-set them
--      pending -> assigned; insert their `assigned` events (built by the caller from the row it
--      read) and stamp agents.last_assigned_at, all in the same statement.
-- Returns one outcome per item, in item order: ok | drained | at_limit | lost.
-- p_ids must hold each task once (the caller keeps the first decision per task).

create function dispatch_assign(
  p_ids uuid[], p_agents text[], p_versions text[], p_envelopes text[],
  p_now timestamptz, p_wake_deadline timestamptz, p_max integer
) returns table (task_id uuid, outcome text)
language plpgsql volatile as $$
#variable_conflict use_column
begin
  insert into agents (id)
  select distinct a from unnest(p_agents) as a order by a
  on conflict (id) do update set id = excluded.id;

  return query
  with d as (
    select u.id, u.agent, u.version, u.envelope, u.ord
    from unnest(p_ids, p_agents, p_versions, p_envelopes) with ordinality as u(id, agent, version, envelope, ord)
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
      attempt = t.attempt + 1,
      deadline_at = p_now + t.timeout_ms * interval '1 millisecond',
      wake_deadline_at = p_wake_deadline,
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

-- The dispatch_assign NOTIFY now says why: 'pending' (a task became pending: always worth a tick)
-- or 'freed' (an agent's slot was freed: worth a tick only while tasks wait), so a replica whose
-- last tick assigned everything skips the ticks that completions would start.
create or replace function dispatch_notify_assign() returns trigger language plpgsql as $$
begin
  if new.status = 'pending' then
    perform pg_notify('dispatch_assign', 'pending');
  elsif tg_op = 'UPDATE' and old.status in ('assigned','running') and new.status <> old.status then
    perform pg_notify('dispatch_assign', 'freed');
  end if;
  return null;
end $$;
