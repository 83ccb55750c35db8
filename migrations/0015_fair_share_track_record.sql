-- §16.3 fair share between requesters and §16.4 track record (docs/fairness.md).

-- Fair share: the scheduler walks the distinct requesters of one priority band through this index
-- (a "loose index scan": one probe per requester) and reads each requester's oldest due tasks from
-- it, so a fair page costs O(requesters + page) index entries, never the band's size.
create index tasks_pending_requester_idx on tasks (priority, requester, created_at, id) where status = 'pending';

-- Whose turn it is: the last time (a sequence number, so a fake clock or one tick's several
-- assignments still order) each requester was given a slot. Written by the scheduler after an
-- assignment in `fairness: requester` mode; a requester never served comes first.
create sequence requester_turn_seq;
create table requester_turns (
  requester text primary key,
  served    bigint not null
);

-- Settings the database needs to know (written by Dispatch at start; the migration's value until then).
create table dispatch_settings (
  name  text primary key,
  value integer not null
);
insert into dispatch_settings (name, value) values ('track_record_size', 100);

-- Track record: per agent, a ring of its last N finished attempts (N = track_record_size) and a
-- summary row kept equal to the ring's totals, both maintained in the statement that inserts the
-- attempt's outcome event (so in the transaction of the task's change, whatever path made it:
-- HTTP or NATS reports, sweeps). Reading a record is one primary-key row; nothing aggregates tasks.
create table agent_records (
  agent        text primary key,
  seq          bigint not null default 0,            -- outcomes ever recorded (the ring's last seq)
  completed    integer not null default 0,           -- within the window
  failed       integer not null default 0,
  timed_out    integer not null default 0,
  completed_ms double precision not null default 0   -- sum of the completed attempts' durations
);
create table agent_outcomes (
  agent       text not null,
  seq         bigint not null,
  outcome     text not null check (outcome in ('completed','failed','timed_out')),
  duration_ms double precision not null,
  primary key (agent, seq)
);

-- Outcomes: `completed`; `failed` (retried or final); `timeout` of an attempt (its data names the
-- agent; a start-deadline timeout has none and is not counted). Not counted: `reassigned` (wake
-- timeout, agent lost: the agent did not fail the work) and cancellations. The agent is the
-- event's data.agent, else the task's assignee; the duration runs from the attempt's assigned_at.
-- Statement-level, so a sweep's batch is handled in one pass, agents in id order (concurrent
-- statements lock summary rows in the same order: no lock cycles).
create function dispatch_record_outcomes() returns trigger language plpgsql as $$
declare
  n integer;
  r record;
  s bigint;
begin
  for r in
    select o.agent, o.outcome, o.duration_ms from (
      select coalesce(e.envelope -> 'data' ->> 'agent', e.envelope -> 'data' -> 'task' ->> 'assignee') as agent,
             case e.type when 'completed' then 'completed' when 'failed' then 'failed' else 'timed_out' end as outcome,
             greatest(0, coalesce(extract(epoch from e.created_at - (e.envelope -> 'data' -> 'task' ->> 'assigned_at')::timestamptz) * 1000, 0)) as duration_ms,
             e.seq
      from new_rows e
      where e.kind = 'task' and e.type in ('completed','failed','timeout')
    ) o
    where o.agent is not null
    order by o.agent, o.seq
  loop
    if n is null then
      n := coalesce((select value from dispatch_settings where name = 'track_record_size'), 100);
    end if;
    insert into agent_records as a (agent, seq, completed, failed, timed_out, completed_ms)
    values (r.agent, 1, (r.outcome = 'completed')::int, (r.outcome = 'failed')::int, (r.outcome = 'timed_out')::int,
            case when r.outcome = 'completed' then r.duration_ms else 0 end)
    on conflict (agent) do update set
      seq = a.seq + 1,
      completed = a.completed + excluded.completed,
      failed = a.failed + excluded.failed,
      timed_out = a.timed_out + excluded.timed_out,
      completed_ms = a.completed_ms + excluded.completed_ms
    returning a.seq into s;
    insert into agent_outcomes (agent, seq, outcome, duration_ms) values (r.agent, s, r.outcome, r.duration_ms);
    -- Evict what fell out of the window (one row normally; more once after N was lowered).
    with gone as (
      delete from agent_outcomes where agent = r.agent and seq <= s - n returning outcome, duration_ms
    ), g as (
      select count(*) filter (where outcome = 'completed') as c, count(*) filter (where outcome = 'failed') as f,
             count(*) filter (where outcome = 'timed_out') as t,
             coalesce(sum(duration_ms) filter (where outcome = 'completed'), 0) as ms
      from gone
    )
    update agent_records a set completed = a.completed - g.c, failed = a.failed - g.f, timed_out = a.timed_out - g.t,
                               completed_ms = greatest(0, a.completed_ms - g.ms)
    from g where a.agent = r.agent and g.c + g.f + g.t > 0;
  end loop;
  return null;
end $$;

create trigger task_events_track_record after insert on task_events
  referencing new table as new_rows for each statement execute function dispatch_record_outcomes();
