-- Input required (CONTRACT §21.1, docs/agent-doors.md): the assignee of a running task asks its
-- requester a question and waits. The task stays the assignee's and keeps its slot (it counts in
-- the per-agent limit), has no attempt or heartbeat deadline while it waits, and times out after
-- input_timeout_ms (timed_out, reason "input").
--
--   input_timeout_ms   per task, from the create (default 24 h)
--   input              the last question and its answer: {question, schema, asked_at, answer, answered_at}
--   input_deadline_at  while input_required: asked_at + input_timeout_ms (swept like every deadline)
alter table tasks
  add column input_timeout_ms  integer not null default 86400000 check (input_timeout_ms > 0),
  add column input             jsonb,
  add column input_deadline_at timestamptz;

alter table tasks drop constraint tasks_status_check;
alter table tasks add constraint tasks_status_check
  check (status in ('waiting','pending','assigned','running','input_required','completed','failed','timed_out','cancelled'));
alter table tasks drop constraint tasks_assignee_check;
alter table tasks add constraint tasks_assignee_check
  check ((status not in ('assigned','running','input_required') or assignee is not null) and (status not in ('pending','waiting') or assignee is null));

-- "Active" = holds one of its agent's slots: assigned, running, input_required. The per-agent
-- recount (dispatch_assign), the active counts and the long-poll read this index.
drop index tasks_active_idx;
create index tasks_active_idx on tasks (assignee) where status in ('assigned','running','input_required');
-- The input deadline sweep (and its probe).
create index tasks_input_deadline_idx on tasks (input_deadline_at) where status = 'input_required';

-- The stats fold only adds deltas to statuses it has a row for.
insert into task_stats (status, n, completion_ms) values ('input_required', 0, 0) on conflict (status) do nothing;

-- dispatch_assign as in 0019 and dispatch_create_matched as in 0018 (with their stats deltas and
-- queue rows, 0021/0022); only their recount of an agent's active tasks changes (input_required
-- holds a slot).
create or replace function dispatch_assign(
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
    -- Queued for publishing here (no trigger: migration 0022).
    insert into task_events_unpublished (seq, id, task_id) select ev.seq, ev.id, ev.task_id from ev
  ), touched as (
    update agents g set last_assigned_at = p_now where g.id in (select agent from upd)
  ), st as (
    -- Every row written went pending → assigned (the stats counters: no trigger on tasks since 0021).
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

create or replace function dispatch_create_matched(
  p_assigned jsonb, p_pending jsonb,
  p_event_ids uuid[], p_event_types text[], p_envelopes text[], p_pending_events integer,
  p_caps text[], p_max integer, p_head integer, p_now timestamptz
) returns table (outcome text, version text)
language plpgsql volatile as $$
#variable_conflict use_column
declare
  v_agent text := p_assigned ->> 'assignee';
  v_priority integer := (p_assigned ->> 'priority')::integer;
  v_drained boolean;
  v_active integer;
  v_older integer;
  v_waiting integer;
  v_outcome text;
  v_task uuid := (p_assigned ->> 'id')::uuid;
  v_version text;
begin
  insert into agents as g (id) values (v_agent)
  on conflict (id) do update set id = excluded.id
  returning g.drained into v_drained;

  select count(*) into v_active from tasks t where t.assignee = v_agent and t.status in ('assigned','running','input_required');
  select count(*) filter (where h.required_tags <@ p_caps), count(*) into v_older, v_waiting
  from (select t.required_tags from tasks t
        where t.status = 'pending' and (t.not_before is null or t.not_before <= p_now) and t.priority >= v_priority
        order by t.priority desc, t.created_at, t.id limit p_head) h;
  v_outcome := case when v_drained then 'drained'
                    when v_active >= p_max then 'at_limit'
                    when v_active + v_older >= p_max then 'older_waiting'
                    when v_waiting >= p_head then 'backlog'
                    else 'assigned' end;

  if v_outcome = 'assigned' then
    insert into tasks select * from jsonb_populate_record(null::tasks, p_assigned) returning xmin::text into v_version;
    with ev as (
      insert into task_events (id, task_id, type, envelope, created_at)
      select e.id, v_task, e.type, e.envelope::jsonb, p_now
      from unnest(p_event_ids, p_event_types, p_envelopes) with ordinality as e(id, type, envelope, ord) order by e.ord
      returning seq, id, task_id)
    insert into task_events_unpublished (seq, id, task_id) select ev.seq, ev.id, ev.task_id from ev;
    update agents set last_assigned_at = p_now where id = v_agent;
    insert into task_stat_deltas (status, n) values (p_assigned ->> 'status', 1);
    return query select v_outcome, v_version;
    return;
  end if;
  insert into tasks select * from jsonb_populate_record(null::tasks, p_pending) returning xmin::text into v_version;
  with ev as (
    insert into task_events (id, task_id, type, envelope, created_at)
    select e.id, v_task, e.type, e.envelope::jsonb, p_now
    from unnest(p_event_ids, p_event_types, p_envelopes) with ordinality as e(id, type, envelope, ord)
    where e.ord <= p_pending_events order by e.ord
    returning seq, id, task_id)
  insert into task_events_unpublished (seq, id, task_id) select ev.seq, ev.id, ev.task_id from ev;
  insert into task_stat_deltas (status, n) values (p_pending ->> 'status', 1);
  return query select v_outcome, v_version;
end $$;

-- Delivery without NATS (0010), plus: an answered task (input_required -> running) wakes its
-- assignee's long-poll (dispatch_assigned), and a task that starts waiting for input wakes the
-- awaits of that task (dispatch_task_ended: an await re-reads and decides whether it is done).
create or replace function dispatch_notify_delivery() returns trigger language plpgsql as $$
begin
  if new.status = 'assigned' and (tg_op = 'INSERT' or old.status <> 'assigned' or old.assignee is distinct from new.assignee) then
    perform pg_notify('dispatch_assigned', new.assignee);
  end if;
  if tg_op = 'UPDATE' and old.status = 'input_required' and new.status = 'running' then
    perform pg_notify('dispatch_assigned', new.assignee);
  end if;
  if (new.status in ('completed','failed','timed_out','cancelled')
      and (tg_op = 'INSERT' or old.status not in ('completed','failed','timed_out','cancelled')))
     or (new.status = 'input_required' and (tg_op = 'INSERT' or old.status <> 'input_required')) then
    perform pg_notify('dispatch_task_ended', new.id::text);
  end if;
  return null;
end $$;

-- The track record: a timeout with reason "input" (the requester never answered) does not count
-- against the agent — decided in src/core/record.ts outcomeOf (no trigger records outcomes since 0023).
