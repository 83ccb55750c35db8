// SQL of the call executor (CONTRACT §18, docs/calls.md): its due page of call tasks, the tasks
// assigned to endpoint agents, and the claim — ONE compare-and-set statement that starts the
// attempts it was given (each row still the version it was read at, and still pending or
// assigned as read), with their events. Two replicas reading the same rows both try; the row's
// version lets exactly one claim each attempt, so no attempt's request is ever sent twice.
import { inTransaction, type Sql } from './db.js';
import { flowGuard, flowTake, type FlowStart } from './flow.js';
import type { CommittedEvents } from './events.js';
import { applyWrites, type VersionedRow, type Write } from './tasks.js';

/**
 * Due call tasks in order (priority desc, oldest first), at most `limit` (index
 * tasks_calls_due_idx), leaving out the hosts at their per-host limit on this replica
 * (`fullHosts`; a path call counts under `baseHost`, the host of http_work.base_url).
 */
export async function dueCalls(db: Sql, now: Date, limit: number, fullHosts: readonly string[], baseHost: string | null): Promise<VersionedRow[]> {
  if (limit <= 0) return [];
  const hosts = fullHosts.length ? db`and coalesce(call_host, ${baseHost ?? ''}) <> all(${db.array([...fullHosts])}::text[])` : db``;
  return db<VersionedRow[]>`
    select *, xmin::text as version from tasks
    where status = 'pending' and call is not null and (not_before is null or not_before <= ${now}) ${hosts}
    order by priority desc, created_at, id limit ${limit}`;
}

/** Tasks assigned to endpoint agents (§18.2) and not yet pushed, oldest assignment first (index tasks_active_idx). */
export async function assignedToEndpoints(db: Sql, agents: readonly string[], limit: number): Promise<VersionedRow[]> {
  if (agents.length === 0 || limit <= 0) return [];
  return db<VersionedRow[]>`
    select *, xmin::text as version from tasks
    where status = 'assigned' and assignee = any(${db.array([...agents])}::text[])
    order by assigned_at, id limit ${limit}`;
}

/**
 * Claim attempts decided by core/calls.ts (decideCallStart, decideEndpointStart) in ONE statement:
 * each row compare-and-set on its version and guard, its events inserted and queued with it.
 * Answers each claim's new version, or undefined where another replica (or a cancel) got there first.
 */
export async function claimAttempts(
  db: Sql,
  writes: readonly Write[],
  sinks: readonly CommittedEvents[],
  flow?: { starts: readonly FlowStart[]; now: Date },
): Promise<(string | undefined)[]> {
  if (writes.length === 0) return [];
  if (!flow || flow.starts.every((f) => f.key === null)) return applyWrites(db, writes, sinks);
  // Call tasks obey their flow key (§20): in one transaction, lock the keys and ask which starts
  // their limits and pauses allow (store/flow.ts flowGuard), claim those, and take the tokens of
  // what was claimed. A refused start stays pending for a later run.
  return inTransaction(db, async (tx) => {
    for (const s of sinks) {
      s.rows.length = 0; // a deadlock retry starts over
      s.before.clear();
    }
    const outcomes = await flowGuard(tx, flow.starts, flow.now);
    const allowed = outcomes.flatMap((o, i) => (o === 'ok' ? [i] : []));
    const versions = await applyWrites(
      tx,
      allowed.map((i) => writes[i]!),
      allowed.map((i) => sinks[i]!),
    );
    await flowTake(
      tx,
      allowed.filter((_, j) => versions[j] !== undefined).map((i) => flow.starts[i]!),
      flow.now,
    );
    const out: (string | undefined)[] = writes.map(() => undefined);
    allowed.forEach((i, j) => (out[i] = versions[j]));
    return out;
  });
}

/** When the earliest pending call task not yet due comes due (null: none), so the executor sleeps until then. */
export async function nextCallDue(db: Sql, now: Date): Promise<Date | null> {
  const [r] = await db<{ at: Date | null }[]>`
    select min(not_before) as at from tasks where status = 'pending' and call is not null and not_before > ${now}`;
  return r?.at ?? null;
}
