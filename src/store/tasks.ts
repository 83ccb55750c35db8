// Task rows: mapping to the contract's Task, and the compare-and-set transition primitive that
// every state change goes through (events written in the same transaction).
import type { Task, TaskStatus, EventType } from '../core/task.js';
import type { Db, Sql, Tx } from './db.js';
import { buildEnvelope, eventColumns, eventRowsFragment, insertEvents, type EventDraft } from './events.js';

export interface TaskRow {
  id: string;
  title: string;
  description: string | null;
  requester: string;
  owner: string | null;
  scope: string | null;
  capabilities: string[];
  required_tags: string[];
  priority: number;
  status: TaskStatus;
  assignee: string | null;
  context: Record<string, unknown>;
  progress: Task['progress'];
  result: unknown;
  error: string | null;
  timeout_ms: number;
  max_retries: number;
  retry_count: number;
  attempt: number;
  parent_id: string | null;
  not_before: Date | null;
  deadline_at: Date | null;
  wake_deadline_at: Date | null;
  avoid_agent: string | null;
  unmatched_reason: string | null;
  queued_at: Date;
  created_at: Date;
  updated_at: Date;
  assigned_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function rowToTask(r: TaskRow): Task {
  return {
    id: r.id,
    title: r.title,
    description: r.description,
    requester: r.requester,
    owner: r.owner,
    scope: r.scope,
    capabilities: r.capabilities,
    priority: r.priority,
    status: r.status,
    assignee: r.assignee,
    context: r.context,
    progress: r.progress,
    result: r.result ?? null,
    error: r.error,
    timeout_ms: r.timeout_ms,
    max_retries: r.max_retries,
    retry_count: r.retry_count,
    parent_id: r.parent_id,
    not_before: iso(r.not_before),
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    assigned_at: iso(r.assigned_at),
    started_at: iso(r.started_at),
    completed_at: iso(r.completed_at),
  };
}

export async function getTaskRow(db: Db, id: string): Promise<TaskRow | undefined> {
  const [row] = await db<TaskRow[]>`select * from tasks where id = ${id}`;
  return row;
}

/** Columns a transition may write (never id/requester/created_at). */
export type TaskPatch = Partial<Omit<TaskRow, 'id' | 'requester' | 'created_at' | 'updated_at' | 'status'>>;

export interface TransitionSpec {
  id: string;
  /** Compare-and-set predicate: the task must be in one of these statuses. */
  from: readonly TaskStatus[];
  to: TaskStatus;
  /** When set, the task's assignee must also equal this (worker reports). */
  assignee?: string;
  set?: TaskPatch;
  /** Shallow-merged into `context` (jsonb ||), atomically. */
  mergeContext?: Record<string, unknown>;
  now: Date;
  /** Events describing the change, built from the updated row. */
  events?: (after: TaskRow) => EventDraft[];
}

export type TransitionResult =
  | { ok: true; row: TaskRow; task: Task }
  | { ok: false; current: TaskRow | undefined };

const JSON_COLUMNS = new Set(['context', 'progress', 'result']);

function patchValues(tx: Db, patch: TaskPatch): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    out[k] = JSON_COLUMNS.has(k) && v !== null ? tx.json(v as never) : v;
  }
  return out;
}

/**
 * Apply one lifecycle transition as a compare-and-set inside a transaction (the caller's, or a
 * new one), writing its events in the same transaction. A lost race returns the current row.
 */
export async function transition(db: Sql | Tx, spec: TransitionSpec): Promise<TransitionResult> {
  const run = async (tx: Tx): Promise<TransitionResult> => {
    const values = { ...patchValues(tx, spec.set ?? {}), status: spec.to, updated_at: spec.now };
    const merge = spec.mergeContext ? tx`, context = context || ${tx.json(spec.mergeContext as never)}` : tx``;
    const byAssignee = spec.assignee !== undefined ? tx`and assignee = ${spec.assignee}` : tx``;
    const [row] = await tx<TaskRow[]>`
      update tasks set ${tx(values)} ${merge}
      where id = ${spec.id} and status = any(${tx.array(spec.from as TaskStatus[])}::text[]) ${byAssignee}
      returning *`;
    if (!row) return { ok: false, current: await getTaskRow(tx, spec.id) };
    if (spec.events) await insertEvents(tx, spec.events(row), spec.now);
    return { ok: true, row, task: rowToTask(row) };
  };
  return 'savepoint' in db ? run(db as Tx) : (db as Sql).begin(run);
}

export type { EventDraft, EventType };

/** A task row with its row version (Postgres' xmin: it changes whenever the row is written). */
export type VersionedRow = TaskRow & { version: string };

/** The row without its version: what a change built from it starts from. */
export function unversioned(row: VersionedRow): TaskRow {
  const { version: _version, ...rest } = row;
  return rest;
}

export async function getVersionedTaskRow(db: Db, id: string): Promise<VersionedRow | undefined> {
  const [row] = await db<VersionedRow[]>`select *, xmin::text as version from tasks where id = ${id}`;
  return row;
}

/**
 * Optimistic compare-and-set of one transition against the row as it was read (`before`): ONE
 * statement updates the row only if it is still that version and inserts the events in the
 * same statement, so no transaction and no row lock are held across round trips. The events are
 * built from the row the update will produce (`before` + the patch), which is exact because the
 * version check guarantees nothing else changed it. Returns undefined when the row changed since
 * it was read: the caller reads again and decides again.
 */
export async function casTransition(db: Sql, before: VersionedRow, spec: Omit<TransitionSpec, 'id' | 'mergeContext'>): Promise<TaskRow | undefined> {
  const patch = Object.fromEntries(Object.entries(spec.set ?? {}).filter(([, v]) => v !== undefined));
  const expected: TaskRow = { ...unversioned(before), ...patch, status: spec.to, updated_at: spec.now };
  const values = { ...patchValues(db, patch), status: spec.to, updated_at: spec.now };
  const cols = eventColumns(spec.events?.(expected) ?? [], spec.now);
  const byAssignee = spec.assignee !== undefined ? db`and assignee = ${spec.assignee}` : db``;
  const [updated] = await db<TaskRow[]>`
    with upd as (
      update tasks set ${db(values)}
      where id = ${before.id} and xmin = ${before.version}::xid
        and status = any(${db.array(spec.from as TaskStatus[])}::text[]) ${byAssignee}
      returning *
    ), ev as (
      insert into task_events (id, task_id, type, envelope, created_at)
      ${eventRowsFragment(db, cols, spec.now)}
      where exists (select 1 from upd)
    )
    select * from upd`;
  return updated;
}

/** Lock a task row for the rest of the caller's transaction (PATCH, and worker reports that lost their optimistic rounds). */
export async function lockTaskRow(tx: Tx, id: string): Promise<TaskRow | undefined> {
  const [row] = await tx<TaskRow[]>`select * from tasks where id = ${id} for update`;
  return row;
}

export async function taskExists(db: Db, id: string): Promise<boolean> {
  const [row] = await db`select 1 from tasks where id = ${id}`;
  return row !== undefined;
}

/** The columns a new task is inserted with; the rest take their table defaults. */
/**
 * The SET clause that hands an active task (aliased `t`) back to the queue without spending a
 * retry: the lapsed agent is remembered in avoid_agent, deadlines and the unmatched reason are
 * cleared, and it re-queues now. Shared by the wake-timeout sweep and the stopped-agent requeue.
 */
export function requeueSet(tx: Tx, now: Date) {
  return tx`
    status = 'pending', avoid_agent = t.assignee, assignee = null,
    deadline_at = null, wake_deadline_at = null, unmatched_reason = null,
    queued_at = ${now}, updated_at = ${now}`;
}

/** What a create decides; every other column starts at its pending default. */
export type NewTaskRow = Pick<TaskRow,
  | 'id' | 'title' | 'description' | 'requester' | 'owner' | 'scope' | 'capabilities' | 'required_tags'
  | 'priority' | 'context' | 'timeout_ms' | 'max_retries' | 'parent_id' | 'not_before'>;

/**
 * Insert a pending task and its `created` event in ONE statement (a data-modifying CTE), so it is
 * atomic on its own: outside a transaction a create is a single round trip. The envelope is built
 * from the row as it will be stored (every column is known before the insert).
 */
export async function insertTaskRow(db: Db, task: NewTaskRow, now: Date): Promise<TaskRow> {
  const expected: TaskRow = {
    ...task,
    status: 'pending', assignee: null, progress: null, result: null, error: null,
    retry_count: 0, attempt: 0, deadline_at: null, wake_deadline_at: null, avoid_agent: null,
    unmatched_reason: null, queued_at: now, created_at: now, updated_at: now,
    assigned_at: null, started_at: null, completed_at: null,
  };
  const envelope = buildEnvelope({ type: 'created', task: rowToTask(expected) }, now);
  const values = { ...task, context: db.json(task.context as never), status: 'pending', queued_at: now, created_at: now, updated_at: now };
  const [row] = await db<TaskRow[]>`
    with t as (insert into tasks ${db(values as never)} returning *),
         e as (insert into task_events (id, task_id, type, envelope, created_at)
               select ${envelope.id}, t.id, 'created', ${db.json(envelope as never)}, ${now} from t)
    select * from t`;
  return row!;
}

export interface IdempotencyRecord {
  requester: string;
  key: string;
  body_hash: string;
  task_id: string;
  created_at: Date;
}

/**
 * Claim an idempotency key in the caller's transaction. Returns `claimed` when this call owns
 * the key (new, or the previous use is older than `expiredBefore`); otherwise the live record.
 * A concurrent claimer of the same key waits on the row until this transaction ends, so ten
 * simultaneous creates with one key produce one task.
 */
export async function claimIdempotencyKey(
  tx: Tx,
  rec: IdempotencyRecord,
  expiredBefore: Date,
): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRecord }> {
  // Two rounds: the live record can vanish between the insert and the select (pruned).
  for (let round = 0; round < 2; round++) {
    const [mine] = await tx<IdempotencyRecord[]>`
      insert into idempotency_keys ${tx(rec as never)}
      on conflict (requester, key) do update
        set body_hash = excluded.body_hash, task_id = excluded.task_id, created_at = excluded.created_at
        where idempotency_keys.created_at < ${expiredBefore}
      returning *`;
    if (mine) return { claimed: true };
    const [existing] = await tx<IdempotencyRecord[]>`
      select * from idempotency_keys where requester = ${rec.requester} and key = ${rec.key}`;
    if (existing) return { claimed: false, existing };
  }
  throw new Error(`idempotency key ${rec.key} could not be claimed`);
}

/**
 * Forget at most `limit` idempotency keys older than `before`, oldest first through the
 * created_at index (housekeeping loops in small statements). Returns how many went.
 */
export async function pruneIdempotencyKeys(db: Db, before: Date, limit: number): Promise<number> {
  const res = await db`
    delete from idempotency_keys where (requester, key) in (
      select requester, key from idempotency_keys where created_at < ${before}
      order by created_at limit ${limit})`;
  return res.count;
}

export interface ListFilter {
  statuses?: TaskStatus[];
  requester?: string;
  assignee?: string;
  scope?: string;
  owner?: string;
  /** Keyset position: rows strictly after (created_at, id) in newest-first order. */
  after?: { createdAt: string; id: string };
  limit: number;
}

export type ListedRow = TaskRow & { cursor_ts: string };

/**
 * Newest first, keyset on (created_at desc, id desc). `cursor_ts` is created_at at full
 * (microsecond) precision so a cursor never skips or repeats rows with the same millisecond.
 */
export async function listTaskRows(db: Db, f: ListFilter): Promise<ListedRow[]> {
  const conds = [];
  if (f.statuses?.length) conds.push(db`status = any(${db.array(f.statuses)}::text[])`);
  if (f.requester !== undefined) conds.push(db`requester = ${f.requester}`);
  if (f.assignee !== undefined) conds.push(db`assignee = ${f.assignee}`);
  if (f.scope !== undefined) conds.push(db`scope = ${f.scope}`);
  if (f.owner !== undefined) conds.push(db`owner = ${f.owner}`);
  if (f.after) conds.push(db`(created_at, id) < (${f.after.createdAt}::timestamptz, ${f.after.id}::uuid)`);
  const where = conds.length ? conds.reduce((acc, c, i) => (i === 0 ? db`where ${c}` : db`${acc} and ${c}`), db``) : db``;
  return db<ListedRow[]>`
    select *, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_ts
    from tasks ${where}
    order by created_at desc, id desc
    limit ${f.limit}`;
}
