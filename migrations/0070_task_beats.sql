-- A heartbeat without a new version of the task's row (issue #23: "every heartbeat flush is HOT";
-- docs/heartbeats.md). The flush moved tasks.heartbeat_deadline_at, which tasks_expiry_idx indexes
-- (least(deadline_at, heartbeat_deadline_at)): every beaten task, once a second, was a non-HOT
-- update of a ~60-column row with a new entry in each of its ~20 indexes. Now the flush records the
-- beat here, in a row of three columns whose only index is its key, so a repeated beat is a HOT
-- update; `tasks.heartbeat_deadline_at` stays the deadline the sweep's index sees, and is moved
-- forward only when it has passed while a later beat is recorded here (at most once per
-- heartbeat_timeout_ms per task, by the sweep, instead of once a second by the flush).
--
-- `attempt` is the task's attempt the beat was for: a beat recorded for an earlier attempt keeps no
-- later one alive. Rows go with their task (the retention purge deletes them beside its events).
create table task_beats (
  task_id uuid primary key,
  attempt integer not null,
  deadline timestamptz not null
) with (fillfactor = 50);
