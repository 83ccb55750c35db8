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

-- dispatch_assign as in 0014; only the recount of an agent's active tasks changes (input_required counts).
create or replace function dispatch_assign(
  p_ids uuid[], p_agents text[], p_versions text[], p_envelopes text[],
  p_attempts integer[], p_deadlines timestamptz[], p_wake_deadlines timestamptz[],
  p_heartbeat_deadlines timestamptz[], p_scores double precision[], p_woke boolean[],
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

-- A slot is freed when a task leaves the active statuses (running -> input_required frees none).
create or replace function dispatch_notify_assign() returns trigger language plpgsql as $$
begin
  if new.status = 'pending' then
    perform pg_notify('dispatch_assign', 'pending');
  elsif tg_op = 'UPDATE' and old.status in ('assigned','running','input_required')
        and new.status not in ('assigned','running','input_required') then
    perform pg_notify('dispatch_assign', 'freed');
  end if;
  return null;
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
