-- Fewer bytes per event (docs/events.md "How events are stored"). A task event row stores only
-- what its envelope cannot get elsewhere: {id, type, timestamp, data: {type-specific fields, task:
-- the Task fields that can change, nulls left out}}. The rest is rebuilt on read by
-- dispatch_task_envelope: the fixed keys (source, correlation_id, event_id, event_type, trace_id,
-- metadata) from the row itself, and the Task fields a task never changes after its create from
-- its tasks row (an event is deleted with its task, never before it). The writer's list of those
-- fields is IMMUTABLE_TASK_FIELDS in src/store/events.ts; test/events-storage.test.ts compares
-- every envelope as published with the one rebuilt here. Rows of other kinds, and task events
-- stored whole before this migration (they have `source`), are returned as they are.
create function dispatch_iso(ts timestamptz) returns text language sql immutable as $$
  select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

create function dispatch_task_envelope(e task_events) returns jsonb language sql stable as $$
  select case when e.kind <> 'task' or e.envelope ? 'source' then e.envelope else coalesce((
    select jsonb_build_object(
      'id', e.envelope -> 'id', 'type', e.envelope -> 'type', 'source', 'dispatch', 'timestamp', e.envelope -> 'timestamp',
      'correlation_id', t.id, 'event_id', e.envelope -> 'id', 'event_type', e.envelope -> 'type',
      'trace_id', coalesce(t.workflow_run_id, t.id),
      'metadata', jsonb_build_object(
        'title', t.title, 'owner', t.owner,
        'agent', case when jsonb_typeof(e.envelope -> 'data' -> 'agent') = 'string' then e.envelope -> 'data' -> 'agent' else s.task -> 'assignee' end,
        'status', s.task -> 'status', 'error', s.task -> 'error'),
      'data', (e.envelope -> 'data') || jsonb_build_object('task', s.task))
    from tasks t,
      lateral (select jsonb_build_object(
        'id', t.id, 'title', t.title, 'description', t.description, 'requester', t.requester, 'owner', t.owner,
        'scope', t.scope, 'capabilities', to_jsonb(t.capabilities), 'timeout_ms', t.timeout_ms,
        'parent_id', t.parent_id, 'depends_on', to_jsonb(t.depends_on), 'workflow_run_id', t.workflow_run_id,
        'step_id', t.step_id, 'schedule_id', t.schedule_id, 'scheduled_for', dispatch_iso(t.scheduled_for),
        'created_at', dispatch_iso(t.created_at),
        -- Fields that can change: null unless the event stored them.
        'status', null, 'assignee', null, 'priority', null, 'context', null, 'progress', null, 'result', null,
        'error', null, 'max_retries', null, 'retry_count', null, 'not_before', null, 'start_by', null,
        'callback_url', null, 'callback_events', null, 'updated_at', null, 'assigned_at', null,
        'started_at', null, 'completed_at', null
      ) || coalesce(e.envelope -> 'data' -> 'task', '{}'::jsonb) as task) s
    where t.id = e.task_id), e.envelope) end
$$;

-- The swarm-dlq trigger reads the whole Task (the create body it records) through the same rebuild.
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
