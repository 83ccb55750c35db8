-- No NOTIFY inside the hot writes (issue "The lean engine"): Postgres serialises the commits of
-- notifying transactions on one lock, so they cannot share a WAL flush, and every notification
-- wakes every replica's listener. The scheduler learns of its own replica's creates and freed slots
-- from in-process signals (the services emit them after the commit); another replica's work is
-- that replica's scheduler's, and the tick_interval_ms timer stays the safety net.
drop trigger tasks_notify_assign on tasks;
drop function dispatch_notify_assign();
