-- Dependencies and workflow runs (docs/workflows.md).

-- A task may wait for others: status `waiting` (never assigned), its edges in task_deps.
alter table tasks drop constraint tasks_status_check;
alter table tasks add constraint tasks_status_check
  check (status in ('waiting','pending','assigned','running','completed','failed','timed_out','cancelled'));
alter table tasks drop constraint tasks_assignee_check;
alter table tasks add constraint tasks_assignee_check
  check ((status not in ('assigned','running') or assignee is not null) and (status not in ('pending','waiting') or assignee is null));

alter table tasks
  add column depends_on      uuid[] not null default '{}',
  add column workflow_run_id uuid,
  add column step_id         text,
  -- Set (under the row lock) when a task that depends on this one is created: only then does an
  -- ending of this task look for dependents to release or cancel, so a task with none keeps its
  -- one-statement report path.
  add column has_dependents  boolean not null default false,
  -- The dependency whose failure cancelled this task (the root of the cascade), so retrying that
  -- one brings exactly these back.
  add column cancelled_by    uuid;

-- The dependency edge: a task ending looks at its dependents only, through this index.
create table task_deps (
  task_id       uuid not null,   -- the dependent
  depends_on_id uuid not null,   -- what it waits for
  primary key (task_id, depends_on_id)
);
create index task_deps_dependency_idx on task_deps (depends_on_id);

create index tasks_run_idx on tasks (workflow_run_id) where workflow_run_id is not null;
create index tasks_cancelled_by_idx on tasks (cancelled_by) where cancelled_by is not null;
create index tasks_waiting_idx on tasks (created_at) where status = 'waiting';

insert into task_stats (status, n, completion_ms)
select 'waiting', count(*), 0 from tasks where status = 'waiting'
on conflict (status) do nothing;

-- Workflow definitions, versioned: a changed definition is a new row, an identical one nothing.
create table workflows (
  key         text not null,
  version     integer not null,
  description text,
  steps       jsonb not null,
  hash        text not null,           -- sha256 of the canonical definition
  created_by  text not null,
  created_at  timestamptz not null,
  primary key (key, version)
);

create table workflow_runs (
  id           uuid primary key,
  workflow_key text not null,
  version      integer not null,
  requester    text not null,
  status       text not null check (status in ('running','completed','failed','cancelled')),
  context      jsonb not null default '{}'::jsonb,
  -- step id -> task id, in definition order, with each step's depends_on (step ids)
  steps        jsonb not null,
  created_at   timestamptz not null,
  updated_at   timestamptz not null,
  completed_at timestamptz
);
create index workflow_runs_list_idx on workflow_runs (created_at desc, id desc);
create index workflow_runs_key_idx on workflow_runs (workflow_key, created_at desc, id desc);

create table run_idempotency_keys (
  requester  text not null,
  key        text not null,
  body_hash  text not null,
  run_id     uuid not null,
  created_at timestamptz not null,
  primary key (requester, key)
);
create index run_idempotency_keys_created_idx on run_idempotency_keys (created_at);

-- Run events share the outbox with task events: `kind` picks the subject swarm.<kind>.<id>.<type>.
alter table task_events add column kind text not null default 'task' check (kind in ('task','run'));

-- A task that becomes pending from waiting wakes the scheduler like any other (0005's trigger
-- already fires on status = 'pending').
