-- The track record (migration 0015) without a trigger on task_events (issue "The lean engine"): the
-- statement-level trigger scanned the transition table of every statement that inserted events —
-- creates, assignments, unmatched marks, progress — for the few outcomes among them. The statement
-- that writes an outcome event now records it itself, with the agent, outcome and duration decided
-- in src/core/record.ts (outcomeOf), one call of this function per outcome, agents in id order.
drop trigger task_events_track_record on task_events;
drop function dispatch_record_outcomes();

-- One finished attempt of `p_agent` into its ring of the last N (dispatch_settings
-- track_record_size) and the summary kept equal to the ring's totals, as 0015's trigger did.
create function dispatch_record_outcome(p_agent text, p_outcome text, p_duration_ms double precision) returns integer
language plpgsql volatile as $$
declare
  n integer := coalesce((select value from dispatch_settings where name = 'track_record_size'), 100);
  s bigint;
begin
  insert into agent_records as a (agent, seq, completed, failed, timed_out, completed_ms)
  values (p_agent, 1, (p_outcome = 'completed')::int, (p_outcome = 'failed')::int, (p_outcome = 'timed_out')::int,
          case when p_outcome = 'completed' then p_duration_ms else 0 end)
  on conflict (agent) do update set
    seq = a.seq + 1,
    completed = a.completed + excluded.completed,
    failed = a.failed + excluded.failed,
    timed_out = a.timed_out + excluded.timed_out,
    completed_ms = a.completed_ms + excluded.completed_ms
  returning a.seq into s;
  insert into agent_outcomes (agent, seq, outcome, duration_ms) values (p_agent, s, p_outcome, p_duration_ms);
  -- Evict what fell out of the window (one row normally; more once after N was lowered).
  with gone as (
    delete from agent_outcomes where agent = p_agent and seq <= s - n returning outcome, duration_ms
  ), g as (
    select count(*) filter (where outcome = 'completed') as c, count(*) filter (where outcome = 'failed') as f,
           count(*) filter (where outcome = 'timed_out') as t,
           coalesce(sum(duration_ms) filter (where outcome = 'completed'), 0) as ms
    from gone
  )
  update agent_records a set completed = a.completed - g.c, failed = a.failed - g.f, timed_out = a.timed_out - g.t,
                             completed_ms = greatest(0, a.completed_ms - g.ms)
  from g where a.agent = p_agent and g.c + g.f + g.t > 0;
  return 1;
end $$;
