-- Callbacks (webhooks out) and swarm-dlq entries (docs/callbacks.md).
--
-- Both are derived from the outbox by triggers on task_events insert, so they are written in the
-- same transaction as the event — whichever path inserted it (a create, a report's
-- compare-and-set, a sweep, the assign function, a dependency cascade) — and no write path needs
-- to know about them. Both triggers read only the new row (its envelope carries the task), so an
-- event of a task without a callback costs one jsonb test in the trigger's WHEN.

alter table tasks
  add column callback_url    text,
  -- null: only the event that ends the task; otherwise event types without `task.`, or '*'.
  add column callback_events text[];

-- Outbox rows of kind 'dlq' are swarm-dlq entries, published on dlq.task.<reason> (type = reason).
alter table task_events drop constraint task_events_kind_check;
alter table task_events add constraint task_events_kind_check check (kind in ('task','run','dlq'));

-- One row per event to POST to its task's callback_url. The sender (src/delivery/sender.ts)
-- claims, per task, only the oldest pending row (in order per task), when next_attempt_at <= now;
-- a claim moves next_attempt_at a lease ahead, so a replica that dies mid-send leaves the row to
-- be retried once the lease has passed.
create table deliveries (
  seq              bigserial primary key,
  task_id          uuid not null,
  event_id         uuid not null unique,
  type             text not null,
  url              text not null,
  status           text not null default 'pending' check (status in ('pending','delivered','failed')),
  attempts         integer not null default 0,
  last_status_code integer,
  last_error       text,
  next_attempt_at  timestamptz not null,
  delivered_at     timestamptz,
  created_at       timestamptz not null
);
create index deliveries_task_idx on deliveries (task_id, seq);
create index deliveries_due_idx  on deliveries (next_attempt_at, seq) where status = 'pending';

create function dispatch_delivery_for_event() returns trigger language plpgsql as $$
declare
  t   jsonb := new.envelope -> 'data' -> 'task';
  evs jsonb := t -> 'callback_events';
begin
  if evs is null or jsonb_typeof(evs) <> 'array' then
    -- Default: only the event that ends the task (completed, failed for good, the timeout that
    -- leaves it timed_out, cancelled).
    if not ((new.type, t ->> 'status') in (('completed','completed'), ('failed','failed'), ('timeout','timed_out'), ('cancelled','cancelled'))) then
      return null;
    end if;
  elsif not (evs ? '*' or evs ? new.type) then
    return null;
  end if;
  insert into deliveries (task_id, event_id, type, url, next_attempt_at, created_at)
  values (new.task_id, new.id, new.type, t ->> 'callback_url', new.created_at, new.created_at)
  on conflict (event_id) do nothing;
  perform pg_notify('dispatch_deliveries', '');
  return null;
end $$;
create trigger task_events_deliveries after insert on task_events
  for each row when (new.kind = 'task' and (new.envelope #>> '{data,task,callback_url}') is not null)
  execute function dispatch_delivery_for_event();

-- A task that ends failed or timed_out, or is cancelled by a dependency, gets a swarm-dlq entry:
-- {dlq_id, original_subject, original_payload (a create body that recreates it), reason,
-- reason_detail, failed_at, retry_count, max_retries, retry_history, source, recoverable, recovered}.
create function dispatch_dlq_for_event() returns trigger language plpgsql as $$
declare
  t      jsonb := new.envelope -> 'data' -> 'task';
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
    'recovered', false), new.created_at, 'dlq');
  return null;
end $$;
create trigger task_events_dlq after insert on task_events
  for each row when (new.kind = 'task' and new.type in ('failed','timeout','cancelled'))
  execute function dispatch_dlq_for_event();
