-- Start deadlines and schedules (docs/schedules.md).

-- A task not yet assigned at start_by ends timed_out (§11.2); a schedule's tasks carry their
-- schedule and occurrence.
alter table tasks
  add column start_by      timestamptz,
  add column schedule_id   uuid,
  add column scheduled_for timestamptz;

-- The start-deadline sweep only ever looks at never-assigned live rows with a deadline.
create index tasks_start_by_idx on tasks (start_by) where status in ('pending','waiting') and attempt = 0 and start_by is not null;
create index tasks_schedule_idx on tasks (schedule_id, created_at desc, id desc) where schedule_id is not null;

create table schedules (
  id              uuid primary key,
  name            text not null,
  requester       text not null,
  cron            text,
  calendar        jsonb,
  timezone        text not null,
  start_at        timestamptz,
  end_at          timestamptz,
  task            jsonb,                    -- a validated create body (§3)
  workflow        jsonb,                    -- or {key, context}
  overlap         text not null check (overlap in ('skip','allow')),
  catch_up        text not null check (catch_up in ('latest','none','all')),
  start_within_ms integer check (start_within_ms > 0),
  paused          boolean not null default false,
  -- The timer: the next occurrence to fire (null: none left). The firing component sleeps until
  -- min(next_run_at) and advances it with a compare-and-set in the firing transaction.
  next_run_at     timestamptz,
  last_run_at     timestamptz,
  -- The task or run of the latest occurrence that fired (overlap: skip waits for it to end).
  last_task_id    uuid,
  last_run_id     uuid,
  created_at      timestamptz not null,
  updated_at      timestamptz not null,
  unique (requester, name),
  check ((cron is null) <> (calendar is null)),
  check ((task is null) <> (workflow is null))
);
create index schedules_due_idx on schedules (next_run_at) where not paused and next_run_at is not null;
create index schedules_list_idx on schedules (created_at desc, id desc);

-- Each occurrence's claim: the occurrence instant is in the unique key, so however many replicas
-- fire, and however often they restart, one occurrence makes at most one task or run. Manual
-- triggers are outside the timetable and never collide with it.
create table schedule_runs (
  seq         bigserial primary key,
  schedule_id uuid not null,
  occurrence  timestamptz not null,
  fired_at    timestamptz not null,
  outcome     text not null check (outcome in ('fired','skipped')),
  reason      text,
  task_id     uuid,
  run_id      uuid,
  manual      boolean not null default false
);
create unique index schedule_runs_occurrence_key on schedule_runs (schedule_id, occurrence) where not manual;
create index schedule_runs_history_idx on schedule_runs (schedule_id, seq desc);
