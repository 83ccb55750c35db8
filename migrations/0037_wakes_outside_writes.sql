-- No NOTIFY inside a write transaction (issue "The lean engine", docs/delivery.md "Wake-ups").
-- Postgres serialises the commits of notifying transactions on one lock, so they could not share
-- a disk flush. The wake-ups these triggers sent inside every event insert (dispatch_events) and
-- every assignment or ending (dispatch_assigned, dispatch_task_ended) are now sent by the writing
-- replica after its commit (src/events/wakes.ts): in-process to its own waiters, over NATS to the
-- other replicas (they subscribe to the lifecycle subjects), and — without NATS, or for writes off
-- the fast path — as one coalesced `select pg_notify(…)` per turn outside any write, on the same
-- channels the listeners already LISTEN on. Callback deliveries (dispatch_deliveries, only for
-- tasks with a callback_url) keep their trigger.
drop trigger task_events_notify on task_events;
drop function dispatch_notify_events();
drop trigger tasks_notify_delivery on tasks;
drop function dispatch_notify_delivery();
