-- The console's overview chart (GET /api/v1/stats/timeline) counts tasks finished per minute over
-- the last hour: a range read on completed_at, which is set only on terminal tasks. created_at
-- already has tasks_list_idx for the created side.
create index tasks_finished_idx on tasks (completed_at) where completed_at is not null;
