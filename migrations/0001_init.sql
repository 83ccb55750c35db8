-- Dispatch schema. Forward only; never edit after it lands.

create table tasks (
  id                uuid primary key,
  title             text not null check (char_length(title) between 1 and 500),
  description       text,
  requester         text not null,
  owner             text,
  scope             text,
  capabilities      text[] not null default '{}',
  required_tags     text[] not null default '{}',           -- scope ∪ capabilities, lower-case
  priority          smallint not null default 5 check (priority between 0 and 10),
  status            text not null default 'pending'
                    check (status in ('pending','assigned','running','completed','failed','timed_out','cancelled')),
  assignee          text,
  context           jsonb not null default '{}'::jsonb,
  progress          jsonb,
  result            jsonb,
  error             text,
  timeout_ms        integer not null check (timeout_ms > 0),
  max_retries       integer not null check (max_retries between 0 and 20),
  retry_count       integer not null default 0,
  attempt           integer not null default 0,              -- assignments so far
  parent_id         uuid references tasks(id),
  not_before        timestamptz,
  deadline_at       timestamptz,                             -- attempt timeout (assigned_at + timeout_ms)
  wake_deadline_at  timestamptz,                             -- ack/wake timeout while 'assigned'
  avoid_agent       text,                                    -- prefer another agent on the next assignment
  unmatched_reason  text,                                    -- last reason announced, so 'unmatched' is not repeated
  queued_at         timestamptz not null,                    -- created or last re-queued (schedule→assign latency)
  created_at        timestamptz not null,
  updated_at        timestamptz not null,
  assigned_at       timestamptz,
  started_at        timestamptz,
  completed_at      timestamptz,
  check ((status in ('assigned','running')) = (assignee is not null))
);

-- The hot path only ever touches the small set of live rows.
create index tasks_pending_idx  on tasks (priority desc, created_at, id) where status = 'pending';
create index tasks_active_idx   on tasks (assignee) where status in ('assigned','running');
create index tasks_deadline_idx on tasks (deadline_at) where status in ('assigned','running');
create index tasks_wake_idx     on tasks (wake_deadline_at) where status = 'assigned';
-- Listing: newest first, keyset on (created_at, id).
create index tasks_list_idx      on tasks (created_at desc, id desc);
create index tasks_requester_idx on tasks (requester, created_at desc, id desc);
create index tasks_assignee_idx  on tasks (assignee, created_at desc, id desc) where assignee is not null;
create index tasks_parent_idx    on tasks (parent_id) where parent_id is not null;

-- Outbox: every lifecycle event, written in the transaction of the change it describes.
create table task_events (
  seq          bigserial primary key,
  id           uuid not null unique,                         -- envelope id = Nats-Msg-Id
  task_id      uuid not null,
  type         text not null,
  envelope     jsonb not null,
  created_at   timestamptz not null,
  published_at timestamptz
);
create index task_events_task_idx        on task_events (task_id, seq);
create index task_events_unpublished_idx on task_events (seq) where published_at is null;
create index task_events_published_idx   on task_events (published_at) where published_at is not null;

-- Agents Dispatch knows of: drain flag (shared by replicas) and the row locked while assigning,
-- which serialises the per-agent limit check across replicas.
create table agents (
  id               text primary key,
  drained          boolean not null default false,
  drained_at       timestamptz,
  last_assigned_at timestamptz
);

create table idempotency_keys (
  requester  text not null,
  key        text not null,
  body_hash  text not null,
  task_id    uuid not null,
  created_at timestamptz not null,
  primary key (requester, key)
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);

-- Wake-ups ride on NOTIFY, delivered at commit (identical payloads in one transaction fold into one).
-- dispatch_events: new outbox rows for the relay. dispatch_assign: a task became pending or an
-- agent freed a slot, so the scheduler should run now rather than at its next tick.
create function dispatch_notify_events() returns trigger language plpgsql as $$
begin
  perform pg_notify('dispatch_events', '');
  return null;
end $$;
create trigger task_events_notify after insert on task_events
  for each statement execute function dispatch_notify_events();

create function dispatch_notify_assign() returns trigger language plpgsql as $$
begin
  if new.status = 'pending' or (tg_op = 'UPDATE' and old.status in ('assigned','running') and new.status <> old.status) then
    perform pg_notify('dispatch_assign', '');
  end if;
  return null;
end $$;
create trigger tasks_notify_assign after insert or update of status on tasks
  for each row execute function dispatch_notify_assign();
