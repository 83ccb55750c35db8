// SQL of task dependencies (docs/workflows.md): the edges, the dependency states a decision
// needs, and the row locks that make releases and cascades exact across replicas.
//
// Locking protocol (every writer follows it, so there is no lock cycle):
//   1. the task whose change starts it (its report, its timeout, its PATCH);
//   2. its waiting dependents (or the whole waiting downstream of a failure), in id order;
//   3. the workflow runs touched, in id order (store/workflows.ts lockRuns).
// A create locks its dependencies first (setting has_dependents), so a dependency that ends
// concurrently either ended before (the create sees it ended) or sees the new edge when it
// looks for dependents in its next statement.
import type { DependencyState } from '../core/dependencies.js';
import type { TaskRow } from '../core/task.js';
import type { Db, Tx } from './db.js';

const STATE_COLUMNS = 'id, status, result, step_id, workflow_run_id, cancelled_by';

/**
 * Lock the tasks a new task will depend on and mark them as having dependents; returns their
 * states as of the lock (a concurrent report either committed before, or waits for this
 * transaction and then reads the mark). Ids missing from the result do not exist.
 */
export async function lockDependencies(tx: Tx, ids: readonly string[]): Promise<Map<string, DependencyState>> {
  if (ids.length === 0) return new Map();
  const rows = await tx<DependencyState[]>`
    update tasks set has_dependents = true
    where id in (select id from tasks where id = any(${tx.array(ids as string[])}::uuid[]) order by id for update)
    returning ${tx.unsafe(STATE_COLUMNS)}`;
  return new Map(rows.map((r) => [r.id, r]));
}

/** The dependency edges of new tasks (task → each of its depends_on). */
export async function insertEdges(db: Db, rows: readonly Pick<TaskRow, 'id' | 'depends_on'>[]): Promise<void> {
  const edges = rows.flatMap((r) => r.depends_on.map((d) => [r.id, d] as const));
  if (edges.length === 0) return;
  await db`
    insert into task_deps (task_id, depends_on_id)
    select * from unnest(${db.array(edges.map((e) => e[0]))}::uuid[], ${db.array(edges.map((e) => e[1]))}::uuid[])`;
}

/** The states of these tasks (read in the caller's statement snapshot). */
export async function dependencyStates(db: Db, ids: readonly string[]): Promise<Map<string, DependencyState>> {
  if (ids.length === 0) return new Map();
  const rows = await db<DependencyState[]>`
    select ${db.unsafe(STATE_COLUMNS)} from tasks where id = any(${db.array([...new Set(ids)] as string[])}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Lock the waiting tasks that depend directly on any of `ids`, in id order. Run in a statement
 * after the change of `ids` (a fresh snapshot): it sees every edge committed before it.
 */
export async function lockWaitingDependents(tx: Tx, ids: readonly string[]): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  return tx<TaskRow[]>`
    select t.* from tasks t
    where t.id in (select task_id from task_deps where depends_on_id = any(${tx.array(ids as string[])}::uuid[]))
      and t.status = 'waiting'
    order by t.id for update of t`;
}

/**
 * Lock every waiting task downstream of `ids` (dependents, their dependents, …), in id order:
 * what a failure cancels. Walks the dependency edge index only.
 */
export async function lockWaitingDownstream(tx: Tx, ids: readonly string[]): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  return tx<TaskRow[]>`
    with recursive down(id) as (
      select task_id from task_deps where depends_on_id = any(${tx.array(ids as string[])}::uuid[])
      union
      select d.task_id from task_deps d join down on d.depends_on_id = down.id
    )
    select t.* from tasks t where t.id in (select id from down) and t.status = 'waiting'
    order by t.id for update of t`;
}

/** Lock the tasks a failure of `root` cancelled (cancelled_by = root), in id order. */
export async function lockCancelledBy(tx: Tx, root: string): Promise<TaskRow[]> {
  return tx<TaskRow[]>`
    select * from tasks where cancelled_by = ${root} and status = 'cancelled' order by id for update`;
}
