-- The track record without an eviction on the hot path (issue #23, docs/benchmarks.md run 17). In a
-- burn-down, dispatch_record_outcome_set (0062, 0063) cost 50–70 µs of Postgres CPU per lifecycle:
-- per batch, each agent's summary updated twice, and each outcome inserted into the ring and, one
-- window later, deleted from it by a second statement that walked each agent's key range.
--
-- Now agent_records holds each agent's running totals (every outcome since its first, never
-- decremented) and each agent_outcomes row the agent's totals before it. A window's record is the
-- latest totals minus the totals before the window's oldest row (src/store/fairness.ts
-- agentRecords): exact for whatever window is set when it is read, one index probe per agent. An
-- outcome is one insert and an add to its agent's totals, in one statement; rows older than the
-- window are trimmed by the retention sweep (src/store/retention.ts trimTrackRecord), off the hot path.
alter table agent_records
  alter column completed type bigint,
  alter column failed type bigint,
  alter column timed_out type bigint;

alter table agent_outcomes
  add column before_completed bigint not null default 0,
  add column before_failed bigint not null default 0,
  add column before_timed_out bigint not null default 0,
  add column before_ms double precision not null default 0;

-- The rows kept (each agent's last window) get the totals before them, counted from the oldest kept
-- row; the summaries, which held exactly those rows' totals, are those totals.
update agent_outcomes o
set before_completed = p.c, before_failed = p.f, before_timed_out = p.t, before_ms = p.ms
from (
  select agent, seq,
         count(*) filter (where outcome = 'completed') over w as c,
         count(*) filter (where outcome = 'failed') over w as f,
         count(*) filter (where outcome = 'timed_out') over w as t,
         coalesce(sum(duration_ms) filter (where outcome = 'completed') over w, 0) as ms
  from agent_outcomes
  window w as (partition by agent order by seq rows between unbounded preceding and 1 preceding)
) p
where o.agent = p.agent and o.seq = p.seq;

update agent_records r
set completed = s.c, failed = s.f, timed_out = s.t, completed_ms = s.ms
from (
  select agent,
         count(*) filter (where outcome = 'completed') as c,
         count(*) filter (where outcome = 'failed') as f,
         count(*) filter (where outcome = 'timed_out') as t,
         coalesce(sum(duration_ms) filter (where outcome = 'completed'), 0) as ms
  from agent_outcomes group by agent
) s
where r.agent = s.agent;

-- A statement's outcomes (agents in id order, each agent's in the order given): each agent's totals
-- grow by its outcomes (the upsert locks its row, so two replicas' batches for one agent take
-- turns and number its outcomes without a gap), and each outcome is inserted with its number and
-- the totals before it. One statement; nothing is deleted.
create or replace function dispatch_record_outcome_set(p_agents text[], p_outcomes text[], p_durations_ms double precision[]) returns integer
language plpgsql volatile as $$
declare
  k integer;
begin
  with o as (
    select u.agent, u.outcome, u.ms,
           row_number() over b as i,
           count(*) filter (where u.outcome = 'completed') over p as pc,
           count(*) filter (where u.outcome = 'failed') over p as pf,
           count(*) filter (where u.outcome = 'timed_out') over p as pt,
           coalesce(sum(u.ms) filter (where u.outcome = 'completed') over p, 0) as pms
    from unnest(p_agents, p_outcomes, p_durations_ms) with ordinality as u(agent, outcome, ms, ord)
    window b as (partition by u.agent order by u.ord),
           p as (b rows between unbounded preceding and 1 preceding)
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
    returning a.agent, a.seq, a.completed, a.failed, a.timed_out, a.completed_ms
  ), ins as (
    insert into agent_outcomes (agent, seq, outcome, duration_ms, before_completed, before_failed, before_timed_out, before_ms)
    select o.agent, a.seq - s.cnt + o.i, o.outcome, o.ms,
           a.completed - s.c + o.pc, a.failed - s.f + o.pf, a.timed_out - s.t + o.pt, a.completed_ms - s.ms + o.pms
    from o join s on s.agent = o.agent join a on a.agent = o.agent
    returning 1
  )
  select count(*)::int into k from ins;
  return k;
end $$;

-- 0023's one-outcome form, still there for a replica that calls it during a rolling upgrade: the same
-- rows as the set form.
create or replace function dispatch_record_outcome(p_agent text, p_outcome text, p_duration_ms double precision) returns integer
language plpgsql volatile as $$
begin
  perform dispatch_record_outcome_set(array[p_agent], array[p_outcome], array[p_duration_ms]);
  return 1;
end $$;
