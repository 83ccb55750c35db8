-- Call tasks (CONTRACT §18.1, docs/calls.md): an HTTP request Dispatch performs itself, assignee
-- 'dispatch:http'. Agent assignment never reads them (store/assignments.ts duePending, the fair
-- pages: `call is null`); the executor (src/calls/) reads its own due page through this index and
-- claims with a compare-and-set on the row version (store/calls.ts).
--
--   call       the call as created, defaults filled in: {url, method, headers?, credential?, body?, timeout_ms}
--   call_host  the destination host (a path url: null, the host of http_work.base_url), for the
--              per-host limit: the executor's read skips hosts already at http_work.per_host
alter table tasks
  add column call      jsonb,
  add column call_host text;

create index tasks_calls_due_idx on tasks (priority desc, created_at, id) where status = 'pending' and call is not null;
