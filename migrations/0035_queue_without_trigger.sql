-- The outbox's to-publish queue without a trigger (issue "The lean engine"): the statement-level
-- trigger of migration 0016 built a transition table for every statement that inserted events.
-- Each statement that inserts events now queues them itself, in the same statement
-- (`q as (insert into task_events_unpublished … from ev)`: src/store/tasks.ts, assignments.ts,
-- events.ts; dispatch_assign and dispatch_create_matched); the swarm-dlq trigger below queues the
-- entry it writes.
drop trigger task_events_queue on task_events;
drop function dispatch_queue_events();

-- dispatch_dlq_for_event as in 0017, queueing its entry.
create or replace function dispatch_dlq_for_event() returns trigger language plpgsql as $$
declare
  t      jsonb := dispatch_task_envelope(new) -> 'data' -> 'task';
  reason text;
  dlq    uuid := gen_random_uuid();
  body   jsonb;
  hist   jsonb;
begin
  if new.type = 'failed' and t ->> 'status' = 'failed' then
    reason := 'execution_failed';
  elsif new.type = 'timeout' and t ->> 'status' = 'timed_out' then
    reason := case when new.envelope -> 'data' ->> 'reason' = 'not_started' then 'assignment_timeout' else 'execution_timeout' end;
  elsif new.type = 'cancelled' and new.envelope -> 'data' ->> 'reason' = 'dependency_failed' then
    reason := 'dependency_failed';
  else
    return null;
  end if;
  -- The create body: the requester plus the create fields that are set (top-level nulls dropped,
  -- the context untouched). depends_on is left out: its dependencies ended badly.
  select coalesce(jsonb_object_agg(k, v), '{}'::jsonb) into body
  from jsonb_each(jsonb_build_object(
    'requester', t -> 'requester', 'title', t -> 'title', 'description', t -> 'description',
    'owner', t -> 'owner', 'scope', t -> 'scope', 'capabilities', t -> 'capabilities',
    'priority', t -> 'priority', 'context', t -> 'context', 'timeout_ms', t -> 'timeout_ms',
    'max_retries', t -> 'max_retries', 'parent_id', t -> 'parent_id',
    'callback_url', t -> 'callback_url', 'callback_events', t -> 'callback_events')) as x(k, v)
  where v is not null and v <> 'null'::jsonb;
  -- One entry per failed or timed-out attempt, oldest first; the agent and start of each attempt
  -- from the `assigned` event before it.
  select coalesce(jsonb_agg(jsonb_build_object(
           'attempt', h.n,
           'attempted_at', coalesce(h.assigned -> 'timestamp', h.envelope -> 'timestamp'),
           'agent', coalesce(h.envelope -> 'data' -> 'agent', h.envelope -> 'data' -> 'task' -> 'assignee', h.assigned -> 'data' -> 'agent'),
           'failure_reason', h.envelope -> 'data' -> 'task' -> 'error') order by h.n), '[]'::jsonb)
    into hist
  from (
    select e.envelope, row_number() over (order by e.seq) as n,
           (select a.envelope from task_events a
             where a.task_id = e.task_id and a.kind = 'task' and a.type = 'assigned' and a.seq < e.seq
             order by a.seq desc limit 1) as assigned
    from task_events e
    where e.task_id = new.task_id and e.kind = 'task' and e.type in ('failed','timeout') and e.seq <= new.seq
  ) h;
  with d as (
  insert into task_events (id, task_id, type, envelope, created_at, kind)
  values (dlq, new.task_id, reason, jsonb_build_object(
    'dlq_id', dlq,
    'original_subject', 'swarm.task.request',
    'original_payload', body,
    'reason', reason,
    'reason_detail', t -> 'error',
    'failed_at', new.envelope -> 'timestamp',
    'retry_count', t -> 'retry_count',
    'max_retries', t -> 'max_retries',
    'retry_history', hist,
    'task_id', new.task_id,
    'source', 'dispatch',
    'recoverable', true,
    'recovered', false), new.created_at, 'dlq')
  returning seq, id, task_id)
  insert into task_events_unpublished (seq, id, task_id) select d.seq, d.id, d.task_id from d;
  return null;
end $$;
