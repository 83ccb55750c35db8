-- dispatch_assign as in 0014, returning each assigned row's version (xmin) too, so the
-- assignee's first report compare-and-sets without reading the row first (store/versions.ts),
-- and writing the stats counters' change itself (the triggers on tasks go in 0034).
drop function dispatch_assign(uuid[], text[], text[], text[], integer[], timestamptz[], timestamptz[], timestamptz[], double precision[], boolean[], timestamptz, integer);

create function dispatch_assign(
  p_ids uuid[], p_agents text[], p_versions text[], p_envelopes text[],
  p_attempts integer[], p_deadlines timestamptz[], p_wake_deadlines timestamptz[],
  p_heartbeat_deadlines timestamptz[], p_scores double precision[], p_woke boolean[],
  p_now timestamptz, p_max integer
) returns table (task_id uuid, outcome text, version text)
language plpgsql volatile as $$
#variable_conflict use_column
begin
  insert into agents (id)
  select distinct a from unnest(p_agents) as a order by a
  on conflict (id) do update set id = excluded.id;

  return query
  with d as (
    select u.id, u.agent, u.version, u.envelope, u.attempt, u.deadline, u.wake_deadline, u.heartbeat_deadline, u.score, u.woke, u.ord
    from unnest(p_ids, p_agents, p_versions, p_envelopes, p_attempts, p_deadlines, p_wake_deadlines, p_heartbeat_deadlines, p_scores, p_woke)
      with ordinality as u(id, agent, version, envelope, attempt, deadline, wake_deadline, heartbeat_deadline, score, woke, ord)
  ), ag as (
    select g.id, g.drained,
           (select count(*) from tasks t where t.assignee = g.id and t.status in ('assigned','running','input_required'))::int as active
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
      heartbeat_deadline_at = acc.heartbeat_deadline, assigned_score = acc.score, assigned_woke = acc.woke,
      avoid_agent = null, unmatched_reason = null
    from acc
    where t.id = acc.id and t.id in (select id from mine)
    returning t.id, acc.agent, acc.envelope, acc.ord, t.xmin::text as version
  ), ev as (
    insert into task_events (id, task_id, type, envelope, created_at)
    select (upd.envelope::jsonb ->> 'id')::uuid, upd.id, 'assigned', upd.envelope::jsonb, p_now
    from upd order by upd.ord
    returning seq, id, task_id
  ), q as (
    -- Queued for publishing here (no trigger: migration 0035).
    insert into task_events_unpublished (seq, id, task_id) select ev.seq, ev.id, ev.task_id from ev
  ), touched as (
    update agents g set last_assigned_at = p_now where g.id in (select agent from upd)
  ), st as (
    -- Every row written went pending → assigned (the stats counters: no trigger on tasks since 0034).
    insert into task_stat_deltas (status, n)
    select s.status, s.n from (select 'pending' as status, -count(*) as n from upd union all select 'assigned', count(*) from upd) s
    where s.n <> 0
  )
  select r.id,
         case when r.drained then 'drained'
              when r.active + r.k > p_max then 'at_limit'
              when exists (select 1 from upd where upd.id = r.id) then 'ok'
              else 'lost' end,
         (select upd.version from upd where upd.id = r.id)
  from ranked r order by r.ord;
end $$;
