-- The outbox's to-publish queue (docs/events.md "Outbox"): one small row per event not yet
-- published, deleted when it is, instead of rewriting every event row (about 1 KB, every index
-- entry with it: published_at was in two partial indexes, so no update was HOT) with published_at.
-- An event is published exactly when it has no row here.
create table task_events_unpublished (
  seq     bigint primary key,
  id      uuid not null,
  task_id uuid not null
);
-- The fast path's "earlier unpublished events of this task", its marks, and the purge's guard.
create index task_events_unpublished_task_idx on task_events_unpublished (task_id);

-- Every statement that inserts events queues them, whichever path it is (a create, a report, the
-- assign function, a cascade, the swarm-dlq trigger): no write path needs to know.
create function dispatch_queue_events() returns trigger language plpgsql as $$
begin
  insert into task_events_unpublished (seq, id, task_id) select seq, id, task_id from new_rows;
  return null;
end $$;
create trigger task_events_queue after insert on task_events referencing new table as new_rows
  for each statement execute function dispatch_queue_events();

insert into task_events_unpublished (seq, id, task_id) select seq, id, task_id from task_events where published_at is null;

drop index task_events_unpublished_idx;
drop index task_events_published_idx;
alter table task_events drop column published_at;
-- Event retention goes by age (created_at, which grows with seq): a BRIN index is a few pages.
create index task_events_created_brin on task_events using brin (created_at);
