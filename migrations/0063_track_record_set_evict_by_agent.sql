-- dispatch_record_outcome_set (0062) evicted with one join of agent_outcomes to the batch's
-- agents' summaries, which the planner ran as a scan of the whole ring table (live and dead rows:
-- the ring churns) — 0.88 ms a call in a burn-down, more than the one-by-one calls it replaced
-- spent evicting. Each agent's eviction is again a range of the primary key (agent, seq ≤ s − N),
-- one agent at a time, as dispatch_record_outcome (0023) does. Same results (test/track-record-set.test.ts).
create or replace function dispatch_record_outcome_set(p_agents text[], p_outcomes text[], p_durations_ms double precision[]) returns integer
language plpgsql volatile as $$
declare
  n integer := coalesce((select value from dispatch_settings where name = 'track_record_size'), 100);
  k integer := coalesce(cardinality(p_agents), 0);
begin
  if k = 0 then
    return 0;
  end if;
  with o as (
    select u.agent, u.outcome, u.ms, row_number() over (partition by u.agent order by u.ord) as i
    from unnest(p_agents, p_outcomes, p_durations_ms) with ordinality as u(agent, outcome, ms, ord)
  ), s as (
    select o.agent, count(*) as cnt,
           count(*) filter (where o.outcome = 'completed') as c, count(*) filter (where o.outcome = 'failed') as f,
           count(*) filter (where o.outcome = 'timed_out') as t,
           coalesce(sum(o.ms) filter (where o.outcome = 'completed'), 0) as ms
    from o group by o.agent
  ), a as (
    insert into agent_records as a (agent, seq, completed, failed, timed_out, completed_ms)
    select s.agent, s.cnt, s.c, s.f, s.t, s.ms from s order by s.agent
    on conflict (agent) do update set
      seq = a.seq + excluded.seq,
      completed = a.completed + excluded.completed,
      failed = a.failed + excluded.failed,
      timed_out = a.timed_out + excluded.timed_out,
      completed_ms = a.completed_ms + excluded.completed_ms
    returning a.agent, a.seq
  )
  insert into agent_outcomes (agent, seq, outcome, duration_ms)
  select o.agent, a.seq - s.cnt + o.i, o.outcome, o.ms
  from o join s on s.agent = o.agent join a on a.agent = o.agent;
  -- Evict what fell out of each window: per agent, a primary-key range (one row per outcome
  -- normally; more once after N was lowered).
  with gone as (
    delete from agent_outcomes x
    where (x.agent, x.seq) in (
      select y.agent, y.seq
      from (select distinct u.agent from unnest(p_agents) as u(agent)) b
      join agent_records r on r.agent = b.agent
      cross join lateral (select z.agent, z.seq from agent_outcomes z where z.agent = r.agent and z.seq <= r.seq - n) y)
    returning x.agent, x.outcome, x.duration_ms
  ), g as (
    select gone.agent, count(*) filter (where gone.outcome = 'completed') as c, count(*) filter (where gone.outcome = 'failed') as f,
           count(*) filter (where gone.outcome = 'timed_out') as t,
           coalesce(sum(gone.duration_ms) filter (where gone.outcome = 'completed'), 0) as ms
    from gone group by gone.agent
  )
  update agent_records a set completed = a.completed - g.c, failed = a.failed - g.f, timed_out = a.timed_out - g.t,
                             completed_ms = greatest(0, a.completed_ms - g.ms)
  from g where a.agent = g.agent;
  return k;
end $$;
