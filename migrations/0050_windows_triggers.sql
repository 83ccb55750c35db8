-- The seeds' own work (CONTRACT §19): windows (Frequenz), event triggers and the Wisely form of
-- workflows, the run's origin. docs/windows.md, docs/workflows.md.

-- A call task's request (§18.1), carried by a task built from a call step or a Wordware event.
-- `if not exists`: the call tasks' own migration adds the same column; whichever lands first wins.
alter table tasks add column if not exists call jsonb;

-- Windows (§19.3): not assigned before start_at (written into not_before at create); with
-- duration_ms the task is a window whose attempt deadline (deadline_at, swept by the attempt
-- sweep through tasks_expiry_idx) is its end, until = max(start_at, assigned_at) + duration_ms.
alter table tasks
  add column start_at    timestamptz,
  add column duration_ms bigint check (duration_ms between 1000 and 2147483648),
  add column dry_run     boolean not null default false,
  add column target      jsonb;

-- A workflow version's trigger (§19.1): {type, event_types?, cron?, timezone?}; null: none.
alter table workflows add column trigger jsonb;

-- Where a run came from: the seed's dispatch body (user_id, intent_id) or a trigger event.
alter table workflow_runs
  add column user_id          text,
  add column intent_id        text,
  add column trigger_event_id uuid;

-- Trigger events (POST /api/v1/trigger-events, swarm.trigger.<type>): each starts one run of
-- every workflow listening, in the transaction that stores it.
create table trigger_events (
  id         uuid primary key,
  type       text not null,
  requester  text not null,
  user_id    text,
  intent_id  text,
  payload    jsonb,
  runs       uuid[] not null default '{}',
  created_at timestamptz not null
);
create index trigger_events_list_idx on trigger_events (created_at desc, id desc);

-- An event's Idempotency-Key (and a NATS message's id): one event, one set of runs, however often
-- it is delivered and however many replicas receive it (the claim waits on the row).
create table trigger_event_keys (
  requester  text not null,
  key        text not null,
  body_hash  text not null,
  event_id   uuid not null,
  created_at timestamptz not null,
  primary key (requester, key)
);
create index trigger_event_keys_created_idx on trigger_event_keys (created_at);
