// Task rows: reads, the create, and the one compare-and-set primitive (applyChanges) that every
// state change goes through with its events. What to write is decided in core/decisions.ts.
import type { Change } from '../core/decisions.js';
import type { EventDraft, TaskRow, TaskStatus } from '../core/task.js';
import type { Db, Tx } from './db.js';
import { statDeltas } from '../core/stats.js';
import { statDeltasInsert } from './stats.js';
import { recordOutcomes } from './fairness.js';
import { outcomeOf } from '../core/record.js';
import { composer, run } from './statement.js';
import {
  addBefore,
  collectEvents,
  unpublishedOf,
  eventColumns,
  deliveryRows,
  dlqRows,
  eventRowsAt,
  eventRowsFragment,
  jsonTextArray,
  queueEvents,
  type CommittedEvents,
} from './events.js';

export type { TaskRow } from '../core/task.js';

/**
 * A row as the driver read it, rebuilt as one object literal. The driver adds a row's 57 columns one
 * by one to an empty object, which V8 keeps as a dictionary: every later copy of it (each decision
 * spreads its row, a remembered version copies it) then cost ~11 µs, a literal's ~1 µs. The hot
 * reads (a tick's page, a report's read, the locked reads) hand out rows in this form.
 */
export function taskRowOf(r: TaskRow): TaskRow {
  return {
    id: r.id,
    title: r.title,
    description: r.description,
    requester: r.requester,
    owner: r.owner,
    scope: r.scope,
    capabilities: r.capabilities,
    required_tags: r.required_tags,
    priority: r.priority,
    status: r.status,
    assignee: r.assignee,
    context: r.context,
    progress: r.progress,
    result: r.result,
    error: r.error,
    timeout_ms: r.timeout_ms,
    max_retries: r.max_retries,
    retry_count: r.retry_count,
    attempt: r.attempt,
    parent_id: r.parent_id,
    not_before: r.not_before,
    depends_on: r.depends_on,
    workflow_run_id: r.workflow_run_id,
    step_id: r.step_id,
    callback_url: r.callback_url,
    callback_events: r.callback_events,
    has_dependents: r.has_dependents,
    cancelled_by: r.cancelled_by,
    start_by: r.start_by,
    schedule_id: r.schedule_id,
    scheduled_for: r.scheduled_for,
    deadline_at: r.deadline_at,
    wake_deadline_at: r.wake_deadline_at,
    heartbeat_timeout_ms: r.heartbeat_timeout_ms,
    heartbeat_deadline_at: r.heartbeat_deadline_at,
    input_timeout_ms: r.input_timeout_ms,
    input: r.input,
    input_deadline_at: r.input_deadline_at,
    call: r.call,
    call_host: r.call_host,
    start_at: r.start_at,
    duration_ms: r.duration_ms,
    dry_run: r.dry_run,
    target: r.target,
    flow_key: r.flow_key,
    assigned_score: r.assigned_score,
    assigned_woke: r.assigned_woke,
    avoid_agent: r.avoid_agent,
    unmatched_reason: r.unmatched_reason,
    queued_at: r.queued_at,
    created_at: r.created_at,
    updated_at: r.updated_at,
    assigned_at: r.assigned_at,
    started_at: r.started_at,
    completed_at: r.completed_at,
  };
}

/** As taskRowOf, with the row version. */
export function versionedRowOf(r: VersionedRow): VersionedRow {
  return withVersion(r, r.version);
}

/**
 * The row with a version, as a literal plus one field. Never `{ ...row, version }`: V8 (Node 20)
 * gives an object spread's copy a map outside the transition tree, so adding a field to it makes a
 * brand-new map (and descriptor array) every time — thousands per second of old-space garbage, and
 * every property access on such rows goes megamorphic (docs/benchmarks.md run 14).
 */
export function withVersion(r: TaskRow, version: string): VersionedRow {
  const row = taskRowOf(r) as VersionedRow;
  row.version = version;
  return row;
}

/** A change with the version it was decided on, kept a plain extension of the change (see withVersion). */
export function writeOf<V extends string | undefined>(c: Change, version: V): Change & { version: V } {
  const w = Object.assign({}, c) as Change & { version: V };
  w.version = version;
  return w;
}

export async function getTaskRow(db: Db, id: string): Promise<TaskRow | undefined> {
  const [row] = await db<TaskRow[]>`select * from tasks where id = ${id}`;
  return row && taskRowOf(row);
}

/** The rows of `ids`, in their order (undefined where there is none): one statement for many primary-key reads. */
export async function getTaskRows(db: Db, ids: readonly string[]): Promise<(TaskRow | undefined)[]> {
  const rows = await db<TaskRow[]>`select * from tasks where id = any(${db.array(ids as string[])}::uuid[])`;
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const r = byId.get(id);
    return r && taskRowOf(r);
  });
}

/** A task row with its row version (Postgres' xmin: it changes whenever the row is written). */
export type VersionedRow = TaskRow & { version: string };

/** The row without its version: what a change built from it starts from. */
export function unversioned(row: VersionedRow): TaskRow {
  return taskRowOf(row);
}

export async function getVersionedTaskRow(db: Db, id: string): Promise<VersionedRow | undefined> {
  const [row] = await db<VersionedRow[]>`select *, xmin::text as version from tasks where id = ${id}`;
  return row && versionedRowOf(row);
}

/** Lock a task row for the rest of the caller's transaction (PATCH, and worker reports that lost their optimistic rounds). */
export async function lockTaskRow(tx: Tx, id: string): Promise<TaskRow | undefined> {
  const [row] = await tx<TaskRow[]>`select * from tasks where id = ${id} for update`;
  return row && taskRowOf(row);
}

export async function taskExists(db: Db, id: string): Promise<boolean> {
  const [row] = await db`select 1 from tasks where id = ${id}`;
  return row !== undefined;
}

/**
 * Insert tasks decided by core/decisions.ts decideCreate, with their events, in ONE statement (a
 * data-modifying CTE): atomic on its own, so outside a transaction a create is a single round
 * trip, and a run's 200 steps are one statement too. Rows are stored exactly as decided: they
 * travel as JSON with every column, and jsonb_populate_recordset gives them the table's types.
 */
export async function insertTaskRows(db: Db, rows: TaskRow[], events: EventDraft[], now: Date, sink?: CommittedEvents): Promise<TaskRow[]> {
  const cols = eventColumns(events, now);
  const inserted = await db<TaskRow[]>`
    with t as (
      insert into tasks select * from jsonb_populate_recordset(null::tasks, ${db.json(rows as never)}::jsonb) returning *
    ), e as (
      insert into task_events (id, task_id, type, envelope, created_at)
      select e.* from (${eventRowsFragment(db, cols, now)}) e(id, task_id, type, envelope, created_at)
      where exists (select 1 from t)
      returning seq, id, task_id
    ), q as (${queueEvents(db, db`e`)}), st as (${statDeltasInsert(
      db,
      rows.flatMap((r) => statDeltas(null, r)),
      db`select id from t`,
    )}) ${deliveryRows(db, [cols], [now], db`e`)} ${dlqRows(db, [cols], [now], db`e`)}
    select * from t`;
  // New tasks: no earlier events to wait for.
  if (inserted.length > 0) collectEvents(sink, cols);
  return inserted.map(taskRowOf);
}

/**
 * Creates that arrived together (services/group-commit.ts), each decided with its own clock reading
 * and handed its own sink: ONE statement and one commit for all, the rows and events exactly as
 * decided (events with their own timestamps). Returns the rows as stored, in order.
 */
export async function insertNewTasks(db: Db, items: readonly { row: TaskRow; events: EventDraft[]; now: Date; sink: CommittedEvents }[]): Promise<TaskRow[]> {
  const perItem = items.map((i) => eventColumns(i.events, i.now));
  const inserted = await db<TaskRow[]>`
    with t as (
      insert into tasks select * from jsonb_populate_recordset(null::tasks, ${db.json(items.map((i) => i.row) as never)}::jsonb) returning *
    ), e as (
      insert into task_events (id, task_id, type, envelope, created_at)
      ${eventRowsAt(
        db,
        perItem,
        items.map((i) => i.now),
      )}
      where exists (select 1 from t)
      returning seq, id, task_id
    ), q as (${queueEvents(db, db`e`)}), st as (${statDeltasInsert(
      db,
      items.flatMap((i) => statDeltas(null, i.row)),
      db`select id from t`,
    )}) ${deliveryRows(
      db,
      perItem,
      items.map((i) => i.now),
      db`e`,
    )} ${dlqRows(
      db,
      perItem,
      items.map((i) => i.now),
      db`e`,
    )}
    select * from t`;
  // New tasks: no earlier events to wait for.
  items.forEach((it, i) => collectEvents(it.sink, perItem[i]!));
  const byId = new Map(inserted.map((r) => [r.id, taskRowOf(r)]));
  return items.map((it) => byId.get(it.row.id)!);
}

/** A create with a sync match (CONTRACT §17): the task as pending and as assigned, each with its events, both decided in core/. */
export interface MatchedCreate {
  pending: { row: TaskRow; events: EventDraft[] };
  assigned: { row: TaskRow; events: EventDraft[] };
  /** The chosen agent's capability tags, lower-case: which waiting tasks it could take instead. */
  agentTags: string[];
  maxConcurrent: number;
}

/** How many due pending tasks the sync match looks at before leaving a create to the scheduler. */
export const SYNC_MATCH_HEAD = 32;

/**
 * Insert a new task already assigned when its agent still has a free slot and nothing older waits
 * for it, else as pending — ONE round trip and one commit either way (dispatch_create_matched_diff,
 * migrations/0018 and 0069, which only guards: the agent row locked, drain and active count re-checked,
 * the head of the queue looked at). Returns the row as stored, with its version, and the outcome:
 * `assigned`, or why the task went pending instead.
 */
export async function insertTaskMatched(
  db: Db,
  m: MatchedCreate,
  now: Date,
  sink?: CommittedEvents,
): Promise<{ row: VersionedRow; outcome: 'assigned' | 'drained' | 'at_limit' | 'older_waiting' | 'backlog' }> {
  const cols = eventColumns([...m.pending.events, ...m.assigned.events], now);
  // Sent through store/statement.ts: the same fragments, without postgres.js's fragment objects.
  const [r] = await run<{ outcome: 'assigned' | 'drained' | 'at_limit' | 'older_waiting' | 'backlog'; version: string }>(
    db,
    matchedCreateStatement(composer(db), m, cols, now),
  );
  const assigned = r!.outcome === 'assigned';
  if (sink) {
    const n = assigned ? cols.ids.length : m.pending.events.length;
    for (let i = 0; i < n; i++) {
      sink.rows.push({ id: cols.ids[i]!, taskId: cols.taskIds[i]!, type: cols.types[i]!, json: cols.json[i]! });
      if (cols.urls[i] !== null) sink.deliveries++;
    }
  }
  return { row: withVersion(assigned ? m.assigned.row : m.pending.row, r!.version), outcome: r!.outcome };
}

/**
 * The columns where the task as stored unmatched differs from the task as stored matched, with the
 * unmatched values (null where it has none): dispatch_create_matched_diff (migration 0069) stores
 * `assigned || diff` when the match does not hold, so the task travels as one row, not two.
 */
export function pendingDiff(assigned: TaskRow, pending: TaskRow): Record<string, unknown> {
  const a = assigned as unknown as Record<string, unknown>;
  const p = pending as unknown as Record<string, unknown>;
  const diff: Record<string, unknown> = {};
  for (const k in a) {
    const x = a[k];
    const y = p[k];
    if (x === y || (x instanceof Date && y instanceof Date && x.getTime() === y.getTime())) continue;
    diff[k] = y ?? null;
  }
  for (const k in p) if (!(k in a) && p[k] !== undefined) diff[k] = p[k];
  return diff;
}

/**
 * insertTaskMatched's statement, composed on `sql`: composer(db) as it is sent, or db itself
 * (test/statement.test.ts renders it both ways and compares). Callback deliveries of its events,
 * when any is wanted: the pending events always inserted, the assigned ones only with the match
 * (the function's outcome).
 */
export function matchedCreateStatement(sql: Db, m: MatchedCreate, cols: ReturnType<typeof eventColumns>, now: Date) {
  const call = sql`dispatch_create_matched_diff(
      ${sql.json(m.assigned.row as never)}::jsonb, ${sql.json(pendingDiff(m.assigned.row, m.pending.row) as never)}::jsonb,
      ${sql.array(cols.ids)}::uuid[], ${sql.array(cols.types)}::text[], ${jsonTextArray(sql, cols.stored)}, ${m.pending.events.length}::int,
      ${sql.array(m.agentTags)}::text[], ${m.maxConcurrent}::int, ${SYNC_MATCH_HEAD}::int, ${now}::timestamptz)`;
  if (!cols.urls.some((u) => u !== null)) return sql`select * from ${call}`;
  const dl = deliveryRows(
    sql,
    [cols],
    [now],
    sql`(select u.id from unnest(${sql.array(cols.ids)}::uuid[]) with ordinality as u(id, ord)
        where u.ord <= ${m.pending.events.length} or (select outcome from m) = 'assigned') as ins`,
  );
  return sql`with m as (select * from ${call}) ${dl} select * from m`;
}

export async function insertTaskRow(db: Db, row: TaskRow, events: EventDraft[], now: Date, sink?: CommittedEvents): Promise<TaskRow> {
  const [stored] = await insertTaskRows(db, [row], events, now, sink);
  return stored!;
}

/** A decided change as the store applies it; `version` (the row's xmin as read) makes it optimistic. */
export type Write = Change & { version?: string };

/** The columns a decision changed (shallow: decisions build new values for what they change). */
function changedColumns(before: TaskRow, next: TaskRow): (keyof TaskRow)[] {
  return (Object.keys(next) as (keyof TaskRow)[]).filter((k) => {
    if (k === 'id') return false;
    const a = before[k];
    const b = next[k];
    if (a instanceof Date && b instanceof Date) return a.getTime() !== b.getTime();
    return a !== b;
  });
}

/** The finished attempts a set of writes' events record (core/record.ts), each event at its own clock reading. */
const outcomesOf = (writes: readonly Write[], nowOf: (w: Write) => Date) => writes.flatMap((w) => w.events.flatMap((e) => outcomeOf(e, nowOf(w)) ?? []));

const comma = (db: Db, parts: ReturnType<Db>[]) => parts.reduce((acc, p, i) => (i === 0 ? p : db`${acc}, ${p}`));

/**
 * Compare-and-set decided rows (core/decisions.ts) in ONE statement: each row is written only if
 * it still satisfies its decision's guard (status, assignee) and, for an optimistic write, is
 * still the version it was decided on (xmin); exactly the columns the decisions changed are set,
 * to exactly the decided values (the rows travel as JSON, jsonb_populate_recordset gives them the
 * table's types), and the events of the rows written are inserted in the same statement. Under a
 * row lock (PATCH, the sweeps) the guard cannot fail; optimistically (worker reports) a row that
 * changed since it was read is left alone and its id is missing from the result.
 */
export async function applyChanges(db: Db, writes: readonly Write[], now: Date, sink?: CommittedEvents): Promise<Set<string>> {
  if (writes.length === 0) return new Set();
  const keys = [...new Set(writes.flatMap((w) => changedColumns(w.before, w.next)))];
  if (keys.length === 0) return new Set(writes.map((w) => w.next.id));
  if (writes.length === 1) return new Set((await applyOne(db, writes[0]!, keys, now, sink)).keys());
  if (sink) throw new Error('applyChanges: a sink takes one write');
  const { written } = await writeMany(db, writes, () => now, false);
  return new Set(written.keys());
}

/**
 * Optimistic writes of distinct tasks that arrived together (worker reports while the previous
 * statement was in flight: services/group-commit.ts) in ONE statement and one commit: each row is
 * compare-and-set on its own guard and version exactly as applyWrite does it, the events of the
 * rows written are inserted with their own timestamps, and each write's sink gets its events and
 * its task's earlier unpublished ones. Answers, per write, the row's new version, or undefined
 * where its compare-and-set lost (the caller decides again on a fresh read).
 */
export async function applyWrites(db: Db, writes: readonly Write[], sinks: readonly CommittedEvents[]): Promise<(string | undefined)[]> {
  if (new Set(writes.map((w) => w.next.id)).size !== writes.length) throw new Error('applyWrites: one write per task');
  const { written, events } = await writeMany(db, writes, (w) => w.next.updated_at, true);
  return writes.map((w, i) => {
    const r = written.get(w.next.id);
    if (!r) return undefined;
    collectEvents(sinks[i], events[i]!);
    addBefore(sinks[i]!, w.next.id, r.before);
    return r.version;
  });
}

/**
 * The one multi-row compare-and-set statement behind applyChanges and applyWrites: each write's
 * guard and version, its events stamped `at(write)`, the queue, stats and track-record rows of
 * what was written. With `before`, each written task's earlier unpublished events too.
 */
async function writeMany(db: Db, writes: readonly Write[], at: (w: Write) => Date, before: boolean) {
  const keys = [...new Set(writes.flatMap((w) => changedColumns(w.before, w.next)))];
  const rows = writes.map((w) => Object.fromEntries([['id', w.next.id], ...keys.map((k) => [k, w.next[k]])]));
  const events = writes.map((w) => eventColumns(w.events, at(w)));
  const set = keys.length
    ? comma(
        db,
        keys.map((k) => db`${db(k)} = r.${db(k)}`),
      )
    : db`id = t.id`;
  const rec = recordOutcomes(db, outcomesOf(writes, at), db`select id from upd`);
  const earlier = before ? db`, ${unpublishedOf(db, db`upd.id`)} as before` : db``;
  const rowsWritten = await db<{ id: string; version: string; before?: string[] }[]>`
    with r as (
      select * from jsonb_populate_recordset(null::tasks, ${db.json(rows as never)}::jsonb)
    ), g as (
      select * from unnest(
        ${db.array(writes.map((w) => w.next.id))}::uuid[], ${db.array(writes.map((w) => w.version ?? null) as string[])}::text[],
        ${db.array(writes.map((w) => w.guard.statuses.join(',')))}::text[], ${db.array(writes.map((w) => w.guard.assignee ?? null) as string[])}::text[]
      ) as g(id, version, statuses, assignee)
    ), upd as (
      update tasks t set ${set}
      from r join g on g.id = r.id
      where t.id = r.id
        and t.status = any(string_to_array(g.statuses, ','))
        and (g.version is null or t.xmin = g.version::xid)
        and (g.assignee is null or t.assignee = g.assignee)
      returning t.id, t.xmin::text as version
    ), ev as (
      insert into task_events (id, task_id, type, envelope, created_at)
      ${eventRowsAt(
        db,
        events,
        writes.map((w) => at(w)),
      )}
      where e.task_id in (select id from upd)
      returning seq, id, task_id
    ), q as (${queueEvents(db, db`ev`)}), st as (${statDeltasInsert(
      db,
      writes.flatMap((w) => statDeltas(w.before, w.next)),
      db`select id from upd`,
    )}) ${deliveryRows(db, events, writes.map(at), db`ev`)} ${dlqRows(db, events, writes.map(at), db`ev`)}
    ${rec.cte}
    select upd.id, upd.version ${earlier} ${rec.ref} from upd`;
  return { written: new Map(rowsWritten.map((r) => [r.id, r])), events };
}

const JSON_COLUMNS = new Set<keyof TaskRow>(['context', 'progress', 'result', 'input', 'target', 'call']);

/**
 * The one-row case of applyChanges (every report, PATCH and retry): the same guard and events,
 * with the decided values bound as plain parameters rather than through jsonb_populate_recordset
 * and the guard arrays — a completion measured 2.8 → 2.5 ms per statement on a loaded 2-core box.
 */
/**
 * applyChanges for one write, answering the row's new version (xmin) when it was written, else
 * undefined (the compare-and-set lost): what a report remembers for the next one (store/versions.ts).
 */
export async function applyWrite(db: Db, w: Write, now: Date, sink?: CommittedEvents): Promise<string | undefined> {
  const keys = changedColumns(w.before, w.next);
  if (keys.length === 0) return w.version;
  return (await applyOne(db, w, keys, now, sink)).get(w.next.id);
}

async function applyOne(db: Db, w: Write, keys: (keyof TaskRow)[], now: Date, sink?: CommittedEvents): Promise<Map<string, string>> {
  const cols = eventColumns(w.events, now);
  // Sent through store/statement.ts: the same fragments, without postgres.js's fragment objects.
  const written = await run<{ id: string; version: string; before?: string[] }>(db, oneWriteStatement(composer(db), w, keys, now, cols, sink !== undefined));
  const ids = new Map(written.map((r) => [r.id, r.version]));
  if (sink && ids.size > 0) {
    collectEvents(sink, cols);
    addBefore(sink, written[0]!.id, written[0]!.before);
  }
  return ids;
}

/**
 * applyOne's statement, composed on `sql`: composer(db) as applyOne sends it, or db itself
 * (test/statement.test.ts renders it both ways and compares). With `withBefore`, the row also
 * names the task's events still unpublished before this statement (its own inserts are not
 * visible to the subquery: one snapshot for the whole statement).
 */
export function oneWriteStatement(sql: Db, w: Write, keys: (keyof TaskRow)[], now: Date, cols: ReturnType<typeof eventColumns>, withBefore: boolean) {
  const values: Record<string, unknown> = {};
  for (const k of keys) {
    const v = w.next[k];
    values[k] = JSON_COLUMNS.has(k) && v !== null && v !== undefined ? sql.json(v as never) : v;
  }
  const byVersion = w.version !== undefined ? sql`and xmin = ${w.version}::xid` : sql``;
  const byAssignee = w.guard.assignee !== undefined ? sql`and assignee = ${w.guard.assignee}` : sql``;
  const rec = recordOutcomes(
    sql,
    outcomesOf([w], () => now),
    sql`select id from upd`,
  );
  const before = withBefore ? sql`, ${unpublishedOf(sql, sql`upd.id`)} as before` : sql``;
  return sql`
    with upd as (
      update tasks set ${sql(values as never, keys as never)}
      where id = ${w.next.id} and status = any(${sql.array(w.guard.statuses as string[])}::text[]) ${byAssignee} ${byVersion}
      returning id, xmin::text as version
    ), ev as (
      insert into task_events (id, task_id, type, envelope, created_at)
      select e.* from (${eventRowsFragment(sql, cols, now)}) e(id, task_id, type, envelope, created_at)
      where exists (select 1 from upd)
      returning seq, id, task_id
    ), q as (${queueEvents(sql, sql`ev`)}), st as (${statDeltasInsert(sql, statDeltas(w.before, w.next), sql`select id from upd`)})
    ${deliveryRows(sql, [cols], [now], sql`ev`)} ${dlqRows(sql, [cols], [now], sql`ev`)} ${rec.cte}
    select id, version ${before} ${rec.ref} from upd`;
}

export interface ListFilter {
  statuses?: TaskStatus[];
  requester?: string;
  assignee?: string;
  scope?: string;
  owner?: string;
  workflowRunId?: string;
  scheduleId?: string;
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
  if (f.workflowRunId !== undefined) conds.push(db`workflow_run_id = ${f.workflowRunId}`);
  if (f.scheduleId !== undefined) conds.push(db`schedule_id = ${f.scheduleId}`);
  if (f.after) conds.push(db`(created_at, id) < (${f.after.createdAt}::timestamptz, ${f.after.id}::uuid)`);
  const where = conds.length ? conds.reduce((acc, c, i) => (i === 0 ? db`where ${c}` : db`${acc} and ${c}`), db``) : db``;
  return db<ListedRow[]>`
    select *, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_ts
    from tasks ${where}
    order by created_at desc, id desc
    limit ${f.limit}`;
}
