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

-- dispatch_assign (0019) and dispatch_create_matched (0018) count input_required among an
-- agent's active tasks already: they landed together with this migration.

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
