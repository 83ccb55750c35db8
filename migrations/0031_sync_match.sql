-- CONTRACT §17, sync match: a create that an agent with a free slot takes in the create's own
-- statement (one commit for `created` and `assigned`). Both rows are decided in TypeScript
-- (core/decisions.ts decideCreate, then decideAssignment on its row); this function only guards,
-- as dispatch_assign does, and inserts one of the two:
--   - the agent's row is locked first (the same lock dispatch_assign takes, so a tick and a create
--     on any replica never both fill the agent's last slot), then a fresh snapshot (each statement
--     of a volatile plpgsql function takes its own) re-checks the drain flag and the active count;
--   - nothing older is kept from that agent: every one of the first p_head due pending tasks of
--     this priority or higher whose tags the agent holds still has a free slot of the agent
--     left for it after this one (so the next tick can give it to the agent), and fewer than
--     p_head are waiting at all (a backlog is the scheduler's to work through, in its order).
-- Its events are queued for publishing in the same statements (no trigger: migration 0035).
-- The inserted row counts once in the stats counters under its decided status (no trigger on
-- tasks writes them since migration 0034).
-- Otherwise the pending row goes in with its first p_pending_events events (`created`): the
-- create behaves exactly as before the sync match existed. Returns the outcome ('assigned', else
-- why not: drained, at_limit, older_waiting, backlog) and the row's version (xmin), so the
-- assignee's first report can compare-and-set without reading the row first.
create function dispatch_create_matched(
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
