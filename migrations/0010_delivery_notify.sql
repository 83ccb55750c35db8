-- Delivery without NATS (docs/delivery.md): wake the requests held by long-polls and awaits.
-- dispatch_assigned carries the agent id when a task becomes assigned to it; dispatch_task_ended
-- the task id when a task becomes terminal. Delivered at commit, so a woken request's read sees the
-- change; identical payloads in one transaction fold into one notification.
create function dispatch_notify_delivery() returns trigger language plpgsql as $$
begin
  if new.status = 'assigned' and (tg_op = 'INSERT' or old.status <> 'assigned' or old.assignee is distinct from new.assignee) then
    perform pg_notify('dispatch_assigned', new.assignee);
  end if;
  if new.status in ('completed','failed','timed_out','cancelled')
     and (tg_op = 'INSERT' or old.status not in ('completed','failed','timed_out','cancelled')) then
    perform pg_notify('dispatch_task_ended', new.id::text);
  end if;
  return null;
end $$;
create trigger tasks_notify_delivery after insert or update of status, assignee on tasks
  for each row execute function dispatch_notify_delivery();
