// Bytes per lifecycle (issue #17): what N task lifecycles leave on disk in the three tables a
// lifecycle writes — tasks, task_events, deliveries — indexes and TOAST included
// (pg_total_relation_size), divided by N. Used after the burn-down (scripts/bench/dispatch.ts) and
// by the retention scenario (scripts/bench/retention.ts), so a change of event storage shows up as
// one number. `live: true` first rewrites the three tables (VACUUM FULL: exclusive locks, so only
// with Dispatch stopped), leaving out dead row versions that autovacuum would reuse anyway.
import type { Sql } from '../../../src/store/db.js';

export const LIFECYCLE_TABLES = ['tasks', 'task_events', 'deliveries'] as const;

export interface StorageBytes {
  lifecycles: number;
  /** pg_total_relation_size per table. */
  tables: Record<(typeof LIFECYCLE_TABLES)[number], number>;
  total: number;
  perLifecycle: number;
  /** Rows of the tables when measured (events per lifecycle = task_events / tasks). */
  rows: { tasks: number; task_events: number; deliveries: number };
  live: boolean;
}

export async function lifecycleBytes(sql: Sql, lifecycles: number, o: { live?: boolean } = {}): Promise<StorageBytes> {
  if (o.live) for (const t of LIFECYCLE_TABLES) await sql.unsafe(`vacuum full ${t}`);
  const [r] = await sql<Array<{ tasks: string; task_events: string; deliveries: string; n_tasks: number; n_events: number; n_deliveries: number }>>`
    select pg_total_relation_size('tasks') as tasks, pg_total_relation_size('task_events') as task_events,
           pg_total_relation_size('deliveries') as deliveries,
           (select count(*) from tasks)::int as n_tasks, (select count(*) from task_events)::int as n_events,
           (select count(*) from deliveries)::int as n_deliveries`;
  const tables = { tasks: Number(r!.tasks), task_events: Number(r!.task_events), deliveries: Number(r!.deliveries) };
  const total = tables.tasks + tables.task_events + tables.deliveries;
  return {
    lifecycles,
    tables,
    total,
    perLifecycle: total / Math.max(1, lifecycles),
    rows: { tasks: r!.n_tasks, task_events: r!.n_events, deliveries: r!.n_deliveries },
    live: !!o.live,
  };
}

/** One line: "12 345 B/lifecycle (tasks 1 234, task_events 10 000, deliveries 0; 3.00 events/task), N lifecycles". */
export function formatBytes(b: StorageBytes): string {
  const per = (n: number) => Math.round(n / Math.max(1, b.lifecycles));
  const evPerTask = b.rows.tasks ? (b.rows.task_events / b.rows.tasks).toFixed(2) : '–';
  return (
    `${Math.round(b.perLifecycle)} B/lifecycle${b.live ? ' live (after VACUUM FULL)' : ' as written'} ` +
    `(tasks ${per(b.tables.tasks)}, task_events ${per(b.tables.task_events)}, deliveries ${per(b.tables.deliveries)}; ` +
    `${evPerTask} events/task) over ${b.lifecycles} lifecycles`
  );
}
