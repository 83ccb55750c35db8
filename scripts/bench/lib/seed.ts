// Bulk rows for the benchmark and the scale check, written with one INSERT … SELECT from
// generate_series (no events: they stand for a backlog that already exists).
import type { Sql } from '../../../src/store/db.js';

/**
 * `n` pending tasks needing the tag `bench`, numbered from `from` in context.bench_i; with
 * `requesters` > 0 they come from requesters bench-r0 … bench-r(requesters-1) in turn (the fair-share scale step).
 */
export async function insertPending(sql: Sql, n: number, from = 0, tag = 'bench', requesters = 0): Promise<void> {
  const now = new Date();
  const CHUNK = 20_000;
  for (let k = 0; k < n; k += CHUNK) {
    const lo = from + k;
    const hi = from + Math.min(n, k + CHUNK) - 1;
    await sql`
      insert into tasks (id, title, requester, capabilities, required_tags, priority, status, context,
                         timeout_ms, max_retries, queued_at, created_at, updated_at)
      select gen_random_uuid(), 'bench ' || g, case when ${requesters}::int > 0 then 'bench-r' || (g % greatest(${requesters}::int, 1)) else 'bench-seed' end, array[${tag}::text], array[${tag}::text], 5, 'pending',
             jsonb_build_object('bench_i', g), 300000, 3, ${now}, ${now}::timestamptz + g * interval '1 microsecond', ${now}
      from generate_series(${lo}::int, ${hi}::int) g`;
  }
  // The stats counters, as the store's own inserts write them (no trigger on tasks since migration 0021).
  await sql`insert into task_stat_deltas (status, n) values ('pending', ${n})`;
}

/** Fill every agent `agent-0 … agent-(agents-1)` up to `perAgent` running tasks. */
export async function insertBusy(sql: Sql, agents: number, perAgent: number, tag = 'bench'): Promise<void> {
  const now = new Date();
  const deadline = new Date(now.getTime() + 86_400_000);
  await sql`
    insert into tasks (id, title, requester, capabilities, required_tags, priority, status, assignee, context,
                       timeout_ms, max_retries, attempt, queued_at, created_at, updated_at, assigned_at, started_at, deadline_at)
    select gen_random_uuid(), 'busy ' || g, 'bench-seed', array[${tag}::text], array[${tag}::text], 5, 'running',
           'agent-' || (g % ${agents}::int), '{}'::jsonb, 86400000, 3, 1, ${now}, ${now}, ${now}, ${now}, ${now}, ${deadline}
    from generate_series(0, ${agents * perAgent - 1}::int) g`;
  await sql`insert into task_stat_deltas (status, n) values ('running', ${agents * perAgent})`;
}
