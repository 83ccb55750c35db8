-- Callback deliveries without a trigger (issue "The lean engine": no database trigger remains).
-- The trigger of migration 0011 inserted a delivery row after every task event whose task wanted
-- it, and sent a NOTIFY inside the writing transaction. The rule is now core/callbacks.ts
-- deliveryUrlOf, and every statement that inserts events inserts their delivery rows itself
-- (src/store/events.ts deliveryRows: in store/tasks.ts, store/assignments.ts, and around the
-- dispatch_create_matched and dispatch_assign calls); the sender is woken in-process after the
-- commit, and polls (callbacks/sender.ts).
drop trigger task_events_deliveries on task_events;
drop function dispatch_delivery_for_event();
