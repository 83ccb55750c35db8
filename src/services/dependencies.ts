// What a task's change means for the tasks around it (docs/workflows.md), in the transaction of
// that change: a completion releases the dependents whose dependencies are now all completed; a
// failure, timeout or cancel cancels the whole waiting downstream; a manual retry revives what
// its failure cancelled; and every workflow run touched re-derives its status (with its event).
//
// Exactly once across replicas: the dependents are locked (store/dependencies.ts protocol) in a
// statement after the change, so of two dependencies completing at the same instant on two
// replicas, the second to lock the dependent sees the first committed and is the one to release
// it; the release itself is a compare-and-set from `waiting`.
import { decideDependencyCancel, decideRelease, decideRevive, type DependencyState } from '../core/dependencies.js';
import { isTerminal, REDRIVABLE_STATUSES, type Change, type TaskRow, type TaskStatus } from '../core/task.js';
import { decideRunStatus, runToApi, type RunRow } from '../core/workflow.js';
import type { Tx } from '../store/db.js';
import { dependencyStates, lockCancelledBy, lockWaitingDependents, lockWaitingDownstream } from '../store/dependencies.js';
import { insertRunEvent } from '../store/events.js';
import { applyChanges } from '../store/tasks.js';
import { lockRuns, runTaskStatuses, updateRunStatus } from '../store/workflows.js';

export interface Settled {
  /** Changes written to other tasks (releases, cancels, revivals). */
  changes: Change[];
  /** Runs whose status changed. */
  runs: RunRow[];
}

/** Whether a written change can matter to other tasks or to a run (else the one-statement path suffices). */
export function needsSettling(c: Change): boolean {
  if (c.next.status === c.before.status) return false;
  const ends = isTerminal(c.next.status) && !isTerminal(c.before.status);
  const redriven = REDRIVABLE_STATUSES.includes(c.before.status) && !isTerminal(c.next.status);
  return (ends || redriven) && (c.before.has_dependents || c.before.workflow_run_id !== null || redriven);
}

const stateOf = (r: TaskRow): DependencyState => ({
  id: r.id,
  status: r.status,
  result: r.result,
  step_id: r.step_id,
  workflow_run_id: r.workflow_run_id,
  cancelled_by: r.cancelled_by,
});

/** Settle the consequences of `written` (already applied in `tx`). */
export async function settle(tx: Tx, written: readonly Change[], now: Date): Promise<Settled> {
  const out: Change[] = [];
  const relevant = written.filter(needsSettling);
  if (relevant.length === 0) return { changes: [], runs: [] };

  // 1. Completions release the dependents that no longer wait for anything.
  const completed = relevant.filter((c) => c.next.status === 'completed' && c.next.has_dependents).map((c) => c.next.id);
  if (completed.length) {
    const dependents = await lockWaitingDependents(tx, completed);
    const states = await dependencyStates(
      tx,
      dependents.flatMap((d) => d.depends_on),
    );
    const releases = dependents.map((d) => decideRelease(d, states, now)).filter((c): c is Change => c !== undefined);
    out.push(...(await applied(tx, releases, now)));
  }

  // 2. Failures cancel the whole waiting downstream, each task blamed on its direct dependency
  //    and remembering the root (whose retry revives it).
  const failed = relevant.filter((c) => isTerminal(c.next.status) && c.next.status !== 'completed' && c.next.has_dependents);
  if (failed.length) {
    const down = await lockWaitingDownstream(
      tx,
      failed.map((c) => c.next.id),
    );
    const cause = new Map<string, { status: TaskStatus; root: string }>(
      failed.map((c) => [c.next.id, { status: c.next.status, root: c.next.cancelled_by ?? c.next.id }]),
    );
    const cancels: Change[] = [];
    let pending = down;
    // Downstream order is not topological: sweep until no task finds a failed direct dependency.
    while (pending.length) {
      const rest: TaskRow[] = [];
      for (const t of pending) {
        const dep = t.depends_on.find((d) => cause.has(d));
        if (!dep) {
          rest.push(t);
          continue;
        }
        const why = cause.get(dep)!;
        cancels.push(decideDependencyCancel(t, { id: dep, status: why.status }, why.root, now));
        cause.set(t.id, { status: 'cancelled', root: why.root });
      }
      if (rest.length === pending.length) break; // the rest wait on something else (not downstream after all)
      pending = rest;
    }
    out.push(...(await applied(tx, cancels, now)));
  }

  // 3. A manual retry revives the tasks its failure cancelled.
  const redriven = relevant.filter((c) => REDRIVABLE_STATUSES.includes(c.before.status) && !isTerminal(c.next.status));
  for (const r of redriven) {
    const victims = await lockCancelledBy(tx, r.next.id);
    if (victims.length === 0) continue;
    const states = await dependencyStates(
      tx,
      victims.flatMap((v) => v.depends_on),
    );
    for (const v of victims) states.set(v.id, stateOf(v));
    const revivals = victims.map((v) => decideRevive(v, r.next.id, states, now)).filter((c): c is Change => c !== undefined);
    out.push(...(await applied(tx, revivals, now)));
  }

  // 4. Every run touched re-derives its status from its tasks (read after the writes above).
  const runIds = [...new Set([...relevant, ...out].map((c) => c.next.workflow_run_id).filter((id): id is string => id !== null))];
  const runs = await lockRuns(tx, runIds);
  const statuses = await runTaskStatuses(
    tx,
    runs.map((r) => r.id),
  );
  const changedRuns: RunRow[] = [];
  for (const run of runs) {
    const taskStatuses = statuses.get(run.id) ?? new Map();
    const d = decideRunStatus(run, taskStatuses.values(), now);
    if (d.next === run) continue;
    await updateRunStatus(tx, d.next);
    if (d.event) await insertRunEvent(tx, d.event, runToApi(d.next, taskStatuses), now);
    changedRuns.push(d.next);
  }
  return { changes: out, runs: changedRuns };
}

/** Apply decided changes to rows locked by this transaction; returns those written. */
async function applied(tx: Tx, changes: Change[], now: Date): Promise<Change[]> {
  if (changes.length === 0) return [];
  const written = await applyChanges(tx, changes, now);
  return changes.filter((c) => written.has(c.next.id));
}
