-- The one-column CHECK constraints of `tasks` as domains (issue #23, docs/benchmarks.md runs 17 and 20).
-- A table CHECK is prepared again for every statement that writes a row: Postgres reads each
-- constraint's stored text (stringToNode) and plans it (expression_planner), all nine of them,
-- whatever columns the statement sets: ~50–70 µs of the backend's CPU per single-row insert or
-- update, twice per lifecycle at 200/s. A domain's CHECK is planned once per backend (the type
-- cache) and only checked where a value of that type is written: the same guard, for less.
--
-- Without a rewrite of `tasks`: each column first takes a domain without a constraint (binary
-- coercible, so the table is not rewritten), then the domain gets its constraint NOT VALID (new
-- values are checked from then on) and VALIDATE checks the rows already there (one scan, writes
-- wait for it). The table's own constraints go last. The two-column one (tasks_assignee_check)
-- stays a table constraint: a domain sees one value.
create domain task_title as text;
create domain task_priority as smallint;
create domain task_status as text;
create domain task_timeout_ms as integer;
create domain task_max_retries as integer;
create domain task_heartbeat_timeout_ms as integer;
create domain task_input_timeout_ms as integer;
create domain task_duration_ms as bigint;

alter table tasks
  alter column title type task_title,
  alter column priority type task_priority,
  alter column status type task_status,
  alter column timeout_ms type task_timeout_ms,
  alter column max_retries type task_max_retries,
  alter column heartbeat_timeout_ms type task_heartbeat_timeout_ms,
  alter column input_timeout_ms type task_input_timeout_ms,
  alter column duration_ms type task_duration_ms;

alter domain task_title add constraint task_title_check check (char_length(value) >= 1 and char_length(value) <= 500) not valid;
alter domain task_priority add constraint task_priority_check check (value >= 0 and value <= 10) not valid;
alter domain task_status add constraint task_status_check
  check (value in ('waiting', 'pending', 'assigned', 'running', 'input_required', 'completed', 'failed', 'timed_out', 'cancelled')) not valid;
alter domain task_timeout_ms add constraint task_timeout_ms_check check (value > 0) not valid;
alter domain task_max_retries add constraint task_max_retries_check check (value >= 0 and value <= 20) not valid;
alter domain task_heartbeat_timeout_ms add constraint task_heartbeat_timeout_ms_check check (value >= 1000) not valid;
alter domain task_input_timeout_ms add constraint task_input_timeout_ms_check check (value > 0) not valid;
alter domain task_duration_ms add constraint task_duration_ms_check check (value >= 1000 and value <= 2147483648) not valid;

alter domain task_title validate constraint task_title_check;
alter domain task_priority validate constraint task_priority_check;
alter domain task_status validate constraint task_status_check;
alter domain task_timeout_ms validate constraint task_timeout_ms_check;
alter domain task_max_retries validate constraint task_max_retries_check;
alter domain task_heartbeat_timeout_ms validate constraint task_heartbeat_timeout_ms_check;
alter domain task_input_timeout_ms validate constraint task_input_timeout_ms_check;
alter domain task_duration_ms validate constraint task_duration_ms_check;

alter table tasks
  drop constraint tasks_title_check,
  drop constraint tasks_priority_check,
  drop constraint tasks_status_check,
  drop constraint tasks_timeout_ms_check,
  drop constraint tasks_max_retries_check,
  drop constraint tasks_heartbeat_timeout_ms_check,
  drop constraint tasks_input_timeout_ms_check,
  drop constraint tasks_duration_ms_check;
-- ALTER COLUMN TYPE dropped the altered columns' statistics: gather them again where there are rows.
-- Not on an empty table (a new database): analysed empty, the planner would take it for empty until
-- autovacuum analyses it again, and choose scans over the indexes the create's counts use meanwhile.
do $$
begin
  if exists (select 1 from tasks) then
    analyze tasks;
  end if;
end $$;
