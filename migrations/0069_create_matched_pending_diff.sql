-- A create with a sync match sends its task once (issue #23, docs/benchmarks.md run 20).
-- dispatch_create_matched (0018, 0061) takes the task twice, as it is stored when matched and when
-- not, two full rows of JSON: the service serialises both and Postgres parses both, though it
-- stores one. dispatch_create_matched_diff takes the matched row and, for the unmatched one, only
-- the columns where it differs (the status, the assignment's columns; a null where it has none):
-- the unmatched row is the matched one with them applied (`||`). Guards, outcomes and rows as
-- before.
create or replace function dispatch_create_matched_diff(
  p_assigned jsonb, p_pending_diff jsonb, p_event_ids uuid[], p_event_types text[], p_envelopes text[], p_pending_events integer,
  p_caps text[], p_max integer, p_head integer, p_now timestamptz
) returns table (outcome text, version text)
language plpgsql as $$
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
  -- Only tasks without a flow key (tasks_pending_unkeyed_idx, 0060): a held key's backlog must not
  -- keep every create from being matched; a keyed task is the scheduler's, which starts it within a tick.
  select count(*) filter (where h.required_tags <@ p_caps), count(*) into v_older, v_waiting
  from (select t.required_tags from tasks t
        where t.status = 'pending' and t.flow_key is null and t.call is null and (t.not_before is null or t.not_before <= p_now) and t.priority >= v_priority
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
  insert into tasks select * from jsonb_populate_record(null::tasks, p_assigned || p_pending_diff) returning xmin::text into v_version;
  with ev as (
    insert into task_events (id, task_id, type, envelope, created_at)
    select e.id, v_task, e.type, e.envelope::jsonb, p_now
    from unnest(p_event_ids, p_event_types, p_envelopes) with ordinality as e(id, type, envelope, ord)
    where e.ord <= p_pending_events order by e.ord
    returning seq, id, task_id)
  insert into task_events_unpublished (seq, id, task_id) select ev.seq, ev.id, ev.task_id from ev;
  insert into task_stat_deltas (status, n) values ((p_assigned || p_pending_diff) ->> 'status', 1);
  return query select v_outcome, v_version;
end $$;

-- The previous call, for a replica that makes it during a rolling upgrade: its unmatched row as the
-- columns where it differs from the matched one (a column it leaves out is null, as before), so
-- both calls store the same rows by one body.
create or replace function dispatch_create_matched(
  p_assigned jsonb, p_pending jsonb, p_event_ids uuid[], p_event_types text[], p_envelopes text[], p_pending_events integer,
  p_caps text[], p_max integer, p_head integer, p_now timestamptz
) returns table (outcome text, version text)
language sql as $$
  select * from dispatch_create_matched_diff(
    p_assigned,
    (select coalesce(jsonb_object_agg(k, coalesce(p_pending -> k, 'null'::jsonb)), '{}'::jsonb)
     from jsonb_object_keys(p_assigned || p_pending) as k
     where (p_assigned -> k) is distinct from (p_pending -> k)),
    p_event_ids, p_event_types, p_envelopes, p_pending_events, p_caps, p_max, p_head, p_now)
$$;
