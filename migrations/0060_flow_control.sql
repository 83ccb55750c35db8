-- Flow control (CONTRACT §20, docs/flow-control.md): a task may carry a flow_key; limits by exact
-- key or prefix pattern (`user:*`) give every matching key its own token bucket (rate/per_ms/burst,
-- a token taken at assignment) and concurrency (tasks assigned, running or input_required); a key
-- may be paused. The limits themselves are resolved by the caller (config + flow_limits, the
-- longest pattern wins: src/core/flow.ts) and passed in, as dispatch_assign gets max_concurrent.
--
-- Enforced here, across replicas, like the per-agent limit: the key's flow_keys row is locked
-- (dispatch_flow_lock, keys in order, after the agents' rows), then a fresh statement recounts the
-- key's active tasks and refills its bucket lazily from the caller's `now`
-- (dispatch_flow_outcomes), and the tokens of the tasks actually started are taken in the same
-- statement that starts them. A caller with its own claim (the call tasks' executor) does the
-- same three steps: dispatch_flow_lock, its claim filtered by dispatch_flow_outcomes = 'ok',
-- dispatch_flow_take with the keys it started, in one transaction.

alter table tasks add column flow_key text;

-- The scheduler's pending page reads unkeyed tasks from their own index and each key that may
-- start now from the per-key index, so a held key's backlog is never walked (docs/flow-control.md
-- "How held keys stay out of the way"). The per-key index also gives the distinct keys with
-- pending tasks (a loose index scan: one probe per key).
create index tasks_pending_unkeyed_idx on tasks (priority desc, created_at, id) where status = 'pending' and flow_key is null;
create index tasks_pending_flow_idx on tasks (flow_key, priority desc, created_at, id) where status = 'pending' and flow_key is not null;
-- A key's active count (the concurrency recount under the key's lock).
create index tasks_flow_active_idx on tasks (flow_key) where status in ('assigned','running','input_required') and flow_key is not null;

-- Limits set through the API (PUT /api/v1/flow/limits/:key); config limits live in flow.limits and
-- an api limit overrides the config one of the same key. The checks repeat the API's validation.
create table flow_limits (
  key         text primary key check (key ~ '^[A-Za-z0-9._:@*-]{1,200}$'),
  rate        integer check (rate >= 1),
  per_ms      integer check (per_ms >= 1),
  burst       integer check (burst >= 1),
  concurrency integer check (concurrency >= 1),
  created_at  timestamptz not null,
  updated_at  timestamptz not null,
  check ((rate is null) = (per_ms is null) and (rate is not null or burst is null) and (rate is not null or concurrency is not null))
);

-- One row per key that was started under a limit or paused: the bucket as of refilled_at and the
-- pause. No row = a full bucket and no pause. Locked while a start of the key is decided.
create table flow_keys (
  key          text primary key,
  tokens       double precision,            -- tokens left at refilled_at; null: never drawn (full)
  refilled_at  timestamptz,
  paused_until timestamptz,
  updated_at   timestamptz not null
);

-- Tokens in a key's bucket at p_now: refilled lazily (rate per per_ms), capped at burst; a key never
-- drawn from is full. A clock behind refilled_at (another replica's) refills nothing. Null: no rate.
create function dispatch_flow_tokens(p_tokens double precision, p_refilled_at timestamptz, p_rate integer, p_per_ms integer,
                                     p_burst integer, p_now timestamptz)
returns double precision language sql immutable as $$
  select case when p_rate is null then null
              when p_tokens is null or p_refilled_at is null then p_burst::double precision
              else least(p_burst::double precision,
                         p_tokens + greatest(0, extract(epoch from (p_now - p_refilled_at)) * 1000) * p_rate / p_per_ms) end
$$;

-- Lock the rows of the keys about to start tasks under a limit, creating missing ones, in key
-- order (every locker takes them in this order, after any agent rows: no deadlock).
create function dispatch_flow_lock(p_keys text[], p_now timestamptz) returns void language sql volatile as $$
  insert into flow_keys as f (key, updated_at)
  select distinct k, p_now from unnest(p_keys) as k where k is not null order by 1
  on conflict (key) do update set key = excluded.key
$$;

-- Whether each item may start (in the order given; the rank counts the items of one key):
-- 'ok', 'flow_paused', 'flow_rate' (the bucket has fewer tokens than the key's items so far) or
-- 'flow_concurrency' (active + rank above the limit). Items without a key are 'ok'. Reads only:
-- call it in a statement after dispatch_flow_lock (a fresh snapshot sees every start committed
-- before the lock was granted).
create function dispatch_flow_outcomes(p_keys text[], p_rate integer[], p_per_ms integer[], p_burst integer[],
                                       p_concurrency integer[], p_now timestamptz)
returns table (ord bigint, outcome text) language sql stable as $$
  with d as (
    select * from unnest(p_keys, p_rate, p_per_ms, p_burst, p_concurrency) with ordinality as u(key, rate, per_ms, burst, concurrency, ord)
  ), s as (
    select d.ord, d.rate, d.concurrency, f.paused_until,
           row_number() over (partition by d.key order by d.ord) as rank,
           dispatch_flow_tokens(f.tokens, f.refilled_at, d.rate, d.per_ms, d.burst, p_now) as tokens,
           case when d.concurrency is null then 0
                else (select count(*) from tasks t where t.flow_key = d.key and t.status in ('assigned','running','input_required')) end as active
    from d left join flow_keys f on f.key = d.key
    where d.key is not null
  )
  select d.ord,
         case when d.key is null then 'ok'
              when s.paused_until > p_now then 'flow_paused'
              when s.concurrency is not null and s.active + s.rank > s.concurrency then 'flow_concurrency'
              when s.rate is not null and s.rank > floor(s.tokens) then 'flow_rate'
              else 'ok' end
  from d left join s on s.ord = d.ord
  order by d.ord
$$;

-- Take one token per element (a key listed twice gives two) from the buckets of keys with a rate:
-- the tasks just started. Call it in the transaction that started them, after dispatch_flow_lock.
create function dispatch_flow_take(p_keys text[], p_rate integer[], p_per_ms integer[], p_burst integer[], p_now timestamptz)
returns void language sql volatile as $$
  update flow_keys f
  set tokens = dispatch_flow_tokens(f.tokens, f.refilled_at, s.rate, s.per_ms, s.burst, p_now) - s.n,
      refilled_at = greatest(f.refilled_at, p_now), updated_at = p_now
  from (select u.key, min(u.rate) as rate, min(u.per_ms) as per_ms, min(u.burst) as burst, count(*) as n
        from unnest(p_keys, p_rate, p_per_ms, p_burst) as u(key, rate, per_ms, burst)
        where u.key is not null and u.rate is not null group by u.key) s
  where f.key = s.key
$$;

-- dispatch_assign: the full body of 0032 (which counts input_required: 0030) plus the flow guard.
-- New arguments, per item: its flow key (null: none) and the limit that applies to it (nulls: no
-- rate / no concurrency). After the agents' rows, the rows of the items' limited keys are locked;
-- an item is accepted only if dispatch_flow_outcomes says 'ok' (paused keys refused whether or
-- not they have a limit), agents rank among those items, and the started items' tokens are taken
-- in the statement that starts them. Refused items answer flow_paused, flow_rate or flow_concurrency.
drop function dispatch_assign(uuid[], text[], text[], text[], integer[], timestamptz[], timestamptz[], timestamptz[], double precision[], boolean[], timestamptz, integer);

create function dispatch_assign(
  p_ids uuid[], p_agents text[], p_versions text[], p_envelopes text[],
  p_attempts integer[], p_deadlines timestamptz[], p_wake_deadlines timestamptz[],
  p_heartbeat_deadlines timestamptz[], p_scores double precision[], p_woke boolean[],
  p_now timestamptz, p_max integer,
  p_flow_keys text[], p_flow_rate integer[], p_flow_per_ms integer[], p_flow_burst integer[], p_flow_concurrency integer[]
) returns table (task_id uuid, outcome text, version text)
language plpgsql volatile as $$
#variable_conflict use_column
begin
  insert into agents (id)
  select distinct a from unnest(p_agents) as a order by a
  on conflict (id) do update set id = excluded.id;

  perform dispatch_flow_lock(array(
    select u.key from unnest(p_flow_keys, p_flow_rate, p_flow_concurrency) as u(key, rate, concurrency)
    where u.key is not null and (u.rate is not null or u.concurrency is not null)), p_now);

  return query
  with d as (
    select u.id, u.agent, u.version, u.envelope, u.attempt, u.deadline, u.wake_deadline, u.heartbeat_deadline, u.score, u.woke, u.ord,
           u.flow_key, u.flow_rate, u.flow_per_ms, u.flow_burst
    from unnest(p_ids, p_agents, p_versions, p_envelopes, p_attempts, p_deadlines, p_wake_deadlines, p_heartbeat_deadlines, p_scores, p_woke,
                p_flow_keys, p_flow_rate, p_flow_per_ms, p_flow_burst)
      with ordinality as u(id, agent, version, envelope, attempt, deadline, wake_deadline, heartbeat_deadline, score, woke,
                           flow_key, flow_rate, flow_per_ms, flow_burst, ord)
  ), fl as (
    select * from dispatch_flow_outcomes(p_flow_keys, p_flow_rate, p_flow_per_ms, p_flow_burst, p_flow_concurrency, p_now)
  ), ag as (
    select g.id, g.drained,
           (select count(*) from tasks t where t.assignee = g.id and t.status in ('assigned','running','input_required'))::int as active
    from agents g where g.id in (select agent from d)
  ), ranked as (
    select d.*, ag.drained, ag.active, fl.outcome as flow,
           row_number() over (partition by d.agent, fl.outcome = 'ok' order by d.ord) as k
    from d join ag on ag.id = d.agent join fl on fl.ord = d.ord
  ), acc as (
    select * from ranked r where r.flow = 'ok' and not r.drained and r.active + r.k <= p_max
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
    returning t.id, acc.agent, acc.envelope, acc.ord, t.xmin::text as version, acc.flow_key, acc.flow_rate, acc.flow_per_ms, acc.flow_burst
  ), ev as (
    insert into task_events (id, task_id, type, envelope, created_at)
    select (upd.envelope::jsonb ->> 'id')::uuid, upd.id, 'assigned', upd.envelope::jsonb, p_now
    from upd order by upd.ord
    returning seq, id, task_id
  ), q as (
    -- Queued for publishing here (no trigger: migration 0035).
    insert into task_events_unpublished (seq, id, task_id) select ev.seq, ev.id, ev.task_id from ev
  ), touched as (
    update agents g set last_assigned_at = p_now where g.id in (select agent from upd)
  ), st as (
    -- Every row written went pending → assigned (the stats counters: no trigger on tasks since 0034).
    insert into task_stat_deltas (status, n)
    select s.status, s.n from (select 'pending' as status, -count(*) as n from upd union all select 'assigned', count(*) from upd) s
    where s.n <> 0
  ), taken as (
    -- One token per started task of a key with a rate (dispatch_flow_take's update, on this statement's rows).
    update flow_keys f
    set tokens = dispatch_flow_tokens(f.tokens, f.refilled_at, s.rate, s.per_ms, s.burst, p_now) - s.n,
        refilled_at = greatest(f.refilled_at, p_now), updated_at = p_now
    from (select upd.flow_key as key, min(upd.flow_rate) as rate, min(upd.flow_per_ms) as per_ms, min(upd.flow_burst) as burst, count(*) as n
          from upd where upd.flow_key is not null and upd.flow_rate is not null group by upd.flow_key) s
    where f.key = s.key
  )
  select r.id,
         case when r.flow <> 'ok' then r.flow
              when r.drained then 'drained'
              when r.active + r.k > p_max then 'at_limit'
              when exists (select 1 from upd where upd.id = r.id) then 'ok'
              else 'lost' end,
         (select upd.version from upd where upd.id = r.id)
  from ranked r order by r.ord;
end $$;
