// Measures GET /api/v1/stats's SQL (store/stats.ts readQueueStats) with a million finished tasks,
// against the naive `count(*) group by status` it replaces. Usage:
//   npx tsx scripts/bench-stats.ts [finished=1000000] [pending=1000]
// Uses DISPATCH_DATABASE_URL if set (the database is wiped: give it a scratch one), else an
// embedded Postgres in a temp dir. Prints median/p95 of each query over 50 runs.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, migrate } from '../src/store/db.js';
import { startEmbeddedPostgres } from '../src/store/embedded.js';
import { foldStatDeltas, readQueueStats } from '../src/store/stats.js';

const finished = Number(process.argv[2] ?? 1_000_000);
const pending = Number(process.argv[3] ?? 1000);
const RUNS = 50;

async function time(fn: () => Promise<unknown>): Promise<{ median: number; p95: number }> {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: +ms[Math.floor(RUNS / 2)]!.toFixed(2), p95: +ms[Math.floor(RUNS * 0.95)]!.toFixed(2) };
}

const dir = process.env.DISPATCH_DATABASE_URL ? undefined : mkdtempSync(path.join(tmpdir(), 'dispatch-bench-stats-'));
if (dir) chmodSync(dir, 0o755); // the server may run as the `postgres` user
const embedded = dir ? await startEmbeddedPostgres(dir) : undefined;
const sql = connect(process.env.DISPATCH_DATABASE_URL ?? embedded!.url, { max: 2 });
try {
  await sql.unsafe('drop schema public cascade; create schema public;');
  await migrate(sql);
  const t0 = performance.now();
  // Finished tasks spread over the terminal statuses, a realistic row width (context, result).
  await sql.unsafe(`
    insert into tasks (id, title, requester, status, context, result, timeout_ms, max_retries,
                       queued_at, created_at, updated_at, assigned_at, completed_at)
    select gen_random_uuid(), 'task ' || g, 'req-' || (g % 50),
           (array['completed','completed','completed','failed','timed_out','cancelled'])[1 + g % 6],
           jsonb_build_object('n', g, 'note', repeat('x', 100)), jsonb_build_object('ok', true),
           300000, 3, now() - interval '2 days', now() - interval '2 days' + g * interval '1 ms',
           now(), now() - interval '1 day', now() - interval '1 day' + (g % 5000) * interval '1 ms'
    from generate_series(1, ${finished}) g`);
  await sql.unsafe(`
    insert into tasks (id, title, requester, status, timeout_ms, max_retries, queued_at, created_at, updated_at)
    select gen_random_uuid(), 'pending ' || g, 'req', 'pending', 300000, 3, now() - g * interval '1 s', now(), now()
    from generate_series(1, ${pending}) g`);
  await foldStatDeltas(sql);
  await sql.unsafe('vacuum analyze tasks');
  console.log(`loaded ${finished} finished + ${pending} pending tasks in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const stats = await readQueueStats(sql, new Date());
  console.log('stats:', JSON.stringify({ ...stats.counts, avg_completion_ms: stats.avg_completion_ms, oldest_pending_ms: stats.oldest_pending_ms }));
  console.log('readQueueStats (counters):', await time(() => readQueueStats(sql, new Date())));
  console.log('naive count(*) group by status:', await time(() => sql`select status, count(*) from tasks group by status`));

  // What the counters cost writers: single-row status changes with and without the triggers.
  const ids = (await sql<{ id: string }[]>`select id from tasks where status = 'pending' limit 1000`).map((r) => r.id);
  const flip = async () => {
    const t1 = performance.now();
    for (const id of ids) {
      await sql`update tasks set status = 'assigned', assignee = 'a', updated_at = now() where id = ${id}`;
      await sql`update tasks set status = 'pending', assignee = null, updated_at = now() where id = ${id}`;
    }
    return ((performance.now() - t1) * 1000) / (ids.length * 2);
  };
  await flip(); // warm up
  const withTriggers = await flip();
  await sql.unsafe('alter table tasks disable trigger tasks_stats_update');
  const without = await flip();
  await sql.unsafe('alter table tasks enable trigger tasks_stats_update');
  console.log(`single-row status update: ${withTriggers.toFixed(0)} µs with the stats trigger, ${without.toFixed(0)} µs without`);
} finally {
  await sql.end({ timeout: 1 });
  await embedded?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
