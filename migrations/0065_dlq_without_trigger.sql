-- Dead-letter entries without a trigger (issue "The lean engine": no database trigger remains).
-- The trigger of migrations 0011/0017/0035 decided, after every task event, whether it ended the
-- task badly, and wrote the swarm-dlq entry. The decision is now core/dlq.ts dlqReasonOf, and the
-- statement that inserts the event inserts the entry itself (src/store/events.ts dlqRows), with
-- this function building its envelope exactly as the trigger did. The statement's own event is not
-- visible to a query in the same statement, so it comes in as arguments (its seq, type and stored
-- envelope) and joins the retry history read from the task's earlier events.
create function dispatch_dlq_entry(
  p_id uuid, p_task uuid, p_seq bigint, p_reason text, p_type text, p_stored jsonb, p_full jsonb
) returns jsonb language plpgsql stable as $$
declare
  t    jsonb := p_full -> 'data' -> 'task';
  body jsonb;
  hist jsonb;
begin
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
  -- One entry per failed or timed-out attempt, oldest first (this event last, when it is one);
  -- the agent and start of each attempt from the `assigned` event before it.
  select coalesce(jsonb_agg(jsonb_build_object(
           'attempt', h.n,
           'attempted_at', coalesce(h.assigned -> 'timestamp', h.envelope -> 'timestamp'),
           'agent', coalesce(h.envelope -> 'data' -> 'agent', h.envelope -> 'data' -> 'task' -> 'assignee', h.assigned -> 'data' -> 'agent'),
           'failure_reason', h.envelope -> 'data' -> 'task' -> 'error') order by h.n), '[]'::jsonb)
    into hist
  from (
    select e.envelope, row_number() over (order by e.seq) as n,
           (select a.envelope from task_events a
             where a.task_id = p_task and a.kind = 'task' and a.type = 'assigned' and a.seq < e.seq
             order by a.seq desc limit 1) as assigned
    from (
      select x.envelope, x.seq from task_events x
      where x.task_id = p_task and x.kind = 'task' and x.type in ('failed','timeout') and x.seq < p_seq
      union all
      select p_stored, p_seq where p_type in ('failed','timeout')
    ) e
  ) h;
  return jsonb_build_object(
    'dlq_id', p_id,
    'original_subject', 'swarm.task.request',
    'original_payload', body,
    'reason', p_reason,
    'reason_detail', t -> 'error',
    'failed_at', p_stored -> 'timestamp',
    'retry_count', t -> 'retry_count',
    'max_retries', t -> 'max_retries',
    'retry_history', hist,
    'task_id', p_task,
    'source', 'dispatch',
    'recoverable', true,
    'recovered', false);
end $$;

drop trigger task_events_dlq on task_events;
drop function dispatch_dlq_for_event();
