-- Signed webhooks in (docs/webhooks.md): one row per delivery id of a source that names a
-- delivery header. The row is inserted in the transaction that creates the delivery's task or
-- run, so two deliveries of one id (a retry, a replay, two at once) create one; the second waits
-- on the first's row lock and then reads it. Pruned by housekeeping after the retention window.
create table hook_deliveries (
  source      text not null,
  delivery_id text not null,
  task_id     uuid,
  run_id      uuid,
  created_at  timestamptz not null,
  primary key (source, delivery_id),
  check ((task_id is null) <> (run_id is null))
);
create index hook_deliveries_created_idx on hook_deliveries (created_at);
