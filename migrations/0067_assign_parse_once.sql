-- dispatch_assign (0060) with the same results for less of Postgres's time per assigned task (issue
-- #23, docs/benchmarks.md run 17): each `assigned` event's envelope is parsed as jsonb once, not
-- twice (its id was read from a second parse of the same text: Postgres does not share the two
-- casts; `offset 0` keeps the lateral subquery from being pulled up into them again), and the
-- outcomes join the updated rows once instead of two correlated scans of them per task.
create or replace function dispatch_assign(
  p_ids uuid[], p_agents text[], p_versions text[], p_envelopes text[],
  p_attempts integer[], p_deadlines timestamptz[], p_wake_deadlines timestamptz[],
  p_heartbeat_deadlines timestamptz[], p_scores double precision[], p_woke boolean[],
  p_now timestamptz, p_max integer,
  p_flow_keys text[], p_flow_rate integer[], p_flow_per_ms integer[], p_flow_burst integer[], p_flow_concurrency integer[]
) returns table (task_id uuid, outcome text, version text)
language plpgsql volatile as $$
#variable_conflict use_column
begin
  insert into agents (id)
  select distinct a from unnest(p_agents) as a order by a
  on conflict (id) do update set id = excluded.id;

  perform dispatch_flow_lock(array(
    select u.key from unnest(p_flow_keys, p_flow_rate, p_flow_concurrency) as u(key, rate, concurrency)
    where u.key is not null and (u.rate is not null or u.concurrency is not null)), p_now);

  return query
  with d as (
    select u.id, u.agent, u.version, u.envelope, u.attempt, u.deadline, u.wake_deadline, u.heartbeat_deadline, u.score, u.woke, u.ord,
           u.flow_key, u.flow_rate, u.flow_per_ms, u.flow_burst
    from unnest(p_ids, p_agents, p_versions, p_envelopes, p_attempts, p_deadlines, p_wake_deadlines, p_heartbeat_deadlines, p_scores, p_woke,
                p_flow_keys, p_flow_rate, p_flow_per_ms, p_flow_burst)
      with ordinality as u(id, agent, version, envelope, attempt, deadline, wake_deadline, heartbeat_deadline, score, woke,
                           flow_key, flow_rate, flow_per_ms, flow_burst, ord)
  ), fl as (
    select * from dispatch_flow_outcomes(p_flow_keys, p_flow_rate, p_flow_per_ms, p_flow_burst, p_flow_concurrency, p_now)
  ), ag as (
    select g.id, g.drained,
           (select count(*) from tasks t where t.assignee = g.id and t.status in ('assigned','running','input_required'))::int as active
    from agents g where g.id in (select agent from d)
  ), ranked as (
    select d.*, ag.drained, ag.active, fl.outcome as flow,
           row_number() over (partition by d.agent, fl.outcome = 'ok' order by d.ord) as k
    from d join ag on ag.id = d.agent join fl on fl.ord = d.ord
  ), acc as (
    select * from ranked r where r.flow = 'ok' and not r.drained and r.active + r.k <= p_max
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
    returning t.id, acc.agent, acc.envelope, acc.ord, t.xmin::text as version, acc.flow_key, acc.flow_rate, acc.flow_per_ms, acc.flow_burst
  ), ev as (
    insert into task_events (id, task_id, type, envelope, created_at)
    select (x.j ->> 'id')::uuid, upd.id, 'assigned', x.j, p_now
    from upd cross join lateral (select upd.envelope::jsonb as j offset 0) x order by upd.ord
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
  ), taken as (
    -- One token per started task of a key with a rate (dispatch_flow_take's update, on this statement's rows).
    update flow_keys f
    set tokens = dispatch_flow_tokens(f.tokens, f.refilled_at, s.rate, s.per_ms, s.burst, p_now) - s.n,
        refilled_at = greatest(f.refilled_at, p_now), updated_at = p_now
    from (select upd.flow_key as key, min(upd.flow_rate) as rate, min(upd.flow_per_ms) as per_ms, min(upd.flow_burst) as burst, count(*) as n
          from upd where upd.flow_key is not null and upd.flow_rate is not null group by upd.flow_key) s
    where f.key = s.key
  )
  select r.id,
         case when r.flow <> 'ok' then r.flow
              when r.drained then 'drained'
              when r.active + r.k > p_max then 'at_limit'
              when u.id is not null then 'ok'
              else 'lost' end,
         u.version
  from ranked r left join upd u on u.id = r.id
  order by r.ord;
end $$;
