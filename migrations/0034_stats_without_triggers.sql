-- The stats counters (migration 0004) without triggers on tasks (issue "The lean engine"): the
-- three statement-level triggers built transition tables for every statement that touched
-- `tasks` — heartbeat flushes and unmatched marks included — to find the few whose status
-- changed. Each statement that changes a status now adds its task_stat_deltas rows itself, decided
-- in src/core/stats.ts (creates, compare-and-sets, dispatch_assign, dispatch_create_matched, the
-- retention purge).
drop trigger tasks_stats_insert on tasks;
drop trigger tasks_stats_update on tasks;
drop trigger tasks_stats_delete on tasks;
drop function dispatch_stats_insert();
drop function dispatch_stats_update();
drop function dispatch_stats_delete();
