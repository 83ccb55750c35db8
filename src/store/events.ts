// The outbox: lifecycle events in the envelope of docs/events.md (task events, and run events
// of docs/workflows.md), inserted in the transaction of the change they describe. The relay
// (events/) publishes the rows in the to-publish queue (task_events_unpublished), oldest first, on swarm.<kind>.<id>.<type>.
import { randomUUID } from 'node:crypto';
import { deliveryUrlOf } from '../core/callbacks.js';
import { dlqReasonOf, type DlqReason } from '../core/dlq.js';
import type { EventDraft, EventType, Task } from '../core/task.js';
import type { Run, RunEventType } from '../core/workflow.js';
import type { Db } from './db.js';

export type { EventDraft } from '../core/task.js';

export interface EventEnvelope {
  id: string;
  type: `task.${EventType}`;
  source: 'dispatch';
  timestamp: string;
  correlation_id: string;
  /** Chronicle's keys (docs/callbacks.md, the swarm's dialects): event_id = id, event_type = type. */
  event_id: string;
  event_type: `task.${EventType}`;
  /** The task's workflow run when it has one, else the task id. */
  trace_id: string;
  metadata: { title: string; owner: string | null; agent: string | null; status: Task['status']; error: string | null };
  data: { task: Task } & Record<string, unknown>;
}

export function buildEnvelope(draft: EventDraft, now: Date, id: string = randomUUID()): EventEnvelope {
  const t = draft.task;
  const agent = typeof draft.extra?.agent === 'string' ? draft.extra.agent : t.assignee;
  return {
    id,
    type: `task.${draft.type}`,
    source: 'dispatch',
    timestamp: now.toISOString(),
    correlation_id: t.id,
    event_id: id,
    event_type: `task.${draft.type}`,
    trace_id: t.workflow_run_id ?? t.id,
    metadata: { title: t.title, owner: t.owner, agent, status: t.status, error: t.error },
    data: { task: t, ...(draft.extra ?? {}) },
  };
}

export interface RunEnvelope {
  id: string;
  type: `run.${RunEventType}`;
  source: 'dispatch';
  timestamp: string;
  correlation_id: string;
  event_id: string;
  event_type: `run.${RunEventType}`;
  trace_id: string;
  metadata: { title: string; owner: null; agent: null; status: Run['status']; error: null };
  data: { run: Run };
}

export function buildRunEnvelope(type: RunEventType, run: Run, now: Date, id: string = randomUUID()): RunEnvelope {
  return {
    id,
    type: `run.${type}`,
    source: 'dispatch',
    timestamp: now.toISOString(),
    correlation_id: run.id,
    event_id: id,
    event_type: `run.${type}`,
    trace_id: run.id,
    metadata: { title: run.workflow_key, owner: null, agent: null, status: run.status, error: null },
    data: { run },
  };
}

/**
 * The NATS subject of an outbox row: swarm.task.<task id>.<type>, swarm.run.<run id>.<type>, or
 * for a swarm-dlq entry (migration 0011, type = its reason) dlq.task.<reason>.
 */
export function subjectOf(kind: 'task' | 'run' | 'dlq', id: string, type: string): string {
  if (kind === 'dlq') return `dlq.task.${type}`;
  return `swarm.${kind}.${id}.${type}`;
}

/** A run event into the outbox (kind 'run', its id in task_id: the outbox's correlation column). */
export async function insertRunEvent(db: Db, type: RunEventType, run: Run, now: Date): Promise<RunEnvelope> {
  const env = buildRunEnvelope(type, run, now);
  await db`
    with ev as (
      insert into task_events (id, task_id, type, envelope, created_at, kind)
      values (${env.id}, ${run.id}, ${type}, ${db.json(env as never)}, ${now}, 'run')
      returning seq, id, task_id
    )
    ${queueEvents(db, db`ev`)}`;
  return env;
}

/**
 * Task fields a task never changes after its create: a stored event leaves them out and
 * dispatch_task_envelope (migrations/0017) takes them from the tasks row. Keep the two lists equal
 * (test/events-storage.test.ts compares envelopes as written with the ones rebuilt).
 */
export const IMMUTABLE_TASK_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'title',
  'description',
  'requester',
  'owner',
  'scope',
  'capabilities',
  'timeout_ms',
  'parent_id',
  'depends_on',
  'workflow_run_id',
  'step_id',
  'schedule_id',
  'scheduled_for',
  'created_at',
]);

/** Fields the rebuild defaults to null, so a stored event leaves them out when they are null. */
const NULL_BY_DEFAULT: ReadonlySet<string> = new Set([
  'assignee',
  'progress',
  'result',
  'error',
  'not_before',
  'start_by',
  'callback_url',
  'callback_events',
  'assigned_at',
  'started_at',
  'completed_at',
]);

const IMMUTABLE_LIST = [...IMMUTABLE_TASK_FIELDS];
const NULL_BY_DEFAULT_LIST = [...NULL_BY_DEFAULT];

/** What a task event row stores of its envelope (the rest is rebuilt on read: migrations/0017). */
export function storedForm(env: EventEnvelope): string {
  // A copy of the task with the left-out fields set to undefined (JSON.stringify skips them): the
  // copy keeps the task's hidden class, where adding the kept fields one by one to an empty object
  // built a dictionary for every event.
  const task: Record<string, unknown> = { ...env.data.task };
  for (const k of IMMUTABLE_LIST) task[k] = undefined;
  for (const k of NULL_BY_DEFAULT_LIST) if (task[k] === null) task[k] = undefined;
  // The data's other fields, then the slim task: added one by one to a literal, never as
  // `{ ...extra, task }` (a spread's copy plus a new field is a new V8 map every call: withVersion).
  const data: Record<string, unknown> = {};
  for (const k of Object.keys(env.data)) if (k !== 'task') data[k] = (env.data as Record<string, unknown>)[k];
  data.task = task;
  return JSON.stringify({ id: env.id, type: env.type, timestamp: env.timestamp, data });
}

/**
 * JSON texts (stored envelopes) as one text[] parameter: sent joined by newlines, split by Postgres.
 * JSON.stringify never writes a raw newline (it escapes it), so the split is exact; and the texts
 * skip postgres.js's array-literal escaping (two regex passes and a copy of every quote-heavy
 * envelope, the largest allocation site of a lifecycle), Postgres its unescaping.
 */
export function jsonTextArray(db: Db, texts: readonly string[]) {
  return db`string_to_array(${texts.join('\n')}::text, E'\\n')`;
}

/**
 * The events' columns as parallel arrays for `unnest`: one statement text whatever the number of
 * events, so Postgres prepares it once per connection (a VALUES list of n rows would be a new
 * statement, described and cached anew, for every n).
 */
export function eventColumns(drafts: EventDraft[], now: Date) {
  const envelopes = drafts.map((d) => buildEnvelope(d, now));
  return {
    envelopes,
    ids: envelopes.map((e) => e.id),
    taskIds: envelopes.map((e) => e.correlation_id),
    types: drafts.map((d) => d.type as string),
    /** The whole envelope, as published. */
    json: envelopes.map((e) => JSON.stringify(e)),
    /** What the row stores. */
    stored: envelopes.map(storedForm),
    /** Where each event is to be delivered (core/callbacks.ts deliveryUrlOf), or null: written by deliveryRows. */
    urls: drafts.map((d) => deliveryUrlOf(d.type, d.task)),
    /** Why each event is dead-lettered (core/dlq.ts dlqReasonOf), or null: written by dlqRows. */
    dlq: drafts.map((d): DlqReason | null => dlqReasonOf(d.type, d.task, d.extra)),
  };
}

type Columns = ReturnType<typeof eventColumns>;

/**
 * The events of `cols` (those of `cols[k]` inserted at `at[k]`) that `pick` gives a value, in
 * order: what deliveryRows and dlqRows write beside them.
 */
function picked<T>(cols: readonly Columns[], at: readonly Date[], pick: (c: Columns, i: number) => T | null) {
  const out: { c: Columns; i: number; value: T; at: string }[] = [];
  cols.forEach((c, k) =>
    c.ids.forEach((_, i) => {
      const value = pick(c, i);
      if (value !== null) out.push({ c, i, value, at: at[k]!.toISOString() });
    }),
  );
  return out;
}

/**
 * The swarm-dlq entries of the events a statement inserts (docs/callbacks.md), as two more CTEs of
 * that statement — the entries (kind `dlq`, built by dispatch_dlq_entry, migration 0065) and their
 * to-publish queue rows — or nothing when no event ends its task badly: the events of `cols[i]`
 * (inserted at `at[i]`) that dlqReasonOf gave a reason and that the statement's event-insert CTE
 * `inserted` (returning seq, id, task_id) really inserted. Read after `inserted`, so each entry's seq
 * follows its event's. What the trigger of migrations 0011–0035 did, until 0065 dropped it.
 */
export function dlqRows(db: Db, cols: readonly Columns[], at: readonly Date[], inserted: ReturnType<Db>) {
  const rows = picked(cols, at, (c, i) => c.dlq[i]!);
  if (rows.length === 0) return db``;
  return db`, dq as (
    insert into task_events (id, task_id, type, envelope, created_at, kind)
    select x.id, src.task_id, x.reason, dispatch_dlq_entry(x.id, src.task_id, src.seq, x.reason, x.type, x.stored::jsonb, x.whole::jsonb), x.at, 'dlq'
    from unnest(${db.array(rows.map(() => randomUUID()))}::uuid[], ${db.array(rows.map((r) => r.c.ids[r.i]!))}::uuid[],
      ${db.array(rows.map((r) => r.value))}::text[], ${db.array(rows.map((r) => r.c.types[r.i]!))}::text[],
      ${jsonTextArray(
        db,
        rows.map((r) => r.c.stored[r.i]!),
      )}, ${jsonTextArray(
        db,
        rows.map((r) => r.c.json[r.i]!),
      )}, ${db.array(rows.map((r) => r.at))}::timestamptz[]) as x(id, event_id, reason, type, stored, whole, at)
    join ${inserted} as src on src.id = x.event_id
    order by src.seq
    returning seq, id, task_id
  ), dq_queue as (${queueEvents(db, db`dq`)})`;
}

/**
 * The callback deliveries of the events a statement inserts (docs/callbacks.md), as one more CTE
 * of that statement — `, dl as (insert into deliveries …)`, or nothing when no event is wanted:
 * the rows of the events of `cols[i]` (inserted at `at[i]`) that deliveryUrlOf gave a URL and that
 * the statement's event-insert CTE `inserted` (returning id) really inserted. What the trigger of
 * migration 0011 did after each insert, until 0064 dropped it.
 */
export function deliveryRows(db: Db, cols: readonly Columns[], at: readonly Date[], inserted: ReturnType<Db>) {
  const rows = picked(cols, at, (c, i) => c.urls[i]!);
  if (rows.length === 0) return db``;
  return db`, dl as (
    insert into deliveries (task_id, event_id, type, url, next_attempt_at, created_at)
    select x.task_id, x.event_id, x.type, x.url, x.at, x.at
    from unnest(${db.array(rows.map((r) => r.c.taskIds[r.i]!))}::uuid[], ${db.array(rows.map((r) => r.c.ids[r.i]!))}::uuid[],
      ${db.array(rows.map((r) => r.c.types[r.i]!))}::text[], ${db.array(rows.map((r) => r.value))}::text[], ${db.array(rows.map((r) => r.at))}::timestamptz[])
      as x(task_id, event_id, type, url, at)
    where x.event_id in (select id from ${inserted})
    on conflict (event_id) do nothing)`;
}

/**
 * Events a write committed, for the relay's fast path (events/fast-path.ts): the writer hands them
 * over after its commit, so the envelopes go out without the relay reading them back. `before`:
 * ids of earlier events of the same tasks that were still unpublished when the write ran (the
 * fast path publishes a task's events only after all of them are published, so they stay in order), by task.
 */
export interface CommittedEvents {
  rows: { id: string; taskId: string; type: string; json: string }[];
  before: Map<string, string[]>;
  /** Callback deliveries the write added (deliveryRows): the sender is poked after the commit. */
  deliveries: number;
}

export const committedEvents = (): CommittedEvents => ({ rows: [], before: new Map(), deliveries: 0 });

/**
 * A select-list fragment: the ids of the events of the task `taskId` (a column of the statement)
 * still waiting to be published — read in the statement's snapshot, so not the events the same
 * statement inserts. What a write returns as its sink's `before`.
 */
export function unpublishedOf(db: Db, taskId: ReturnType<Db>) {
  return db`(select coalesce(array_agg(p.id::text), '{}') from task_events_unpublished p where p.task_id = ${taskId})`;
}

/** Record a task's earlier unpublished events (as the write statement returned them). */
export function addBefore(sink: CommittedEvents, taskId: string, ids: readonly string[] | null | undefined): void {
  if (ids && ids.length > 0) sink.before.set(taskId, [...(sink.before.get(taskId) ?? []), ...ids]);
}

/** Add the events in `cols` (those of tasks in `written`, or all) to a sink. */
export function collectEvents(sink: CommittedEvents | undefined, cols: ReturnType<typeof eventColumns>, written?: ReadonlySet<string>): void {
  if (!sink) return;
  for (let i = 0; i < cols.ids.length; i++) {
    const taskId = cols.taskIds[i]!;
    if (written && !written.has(taskId)) continue;
    sink.rows.push({ id: cols.ids[i]!, taskId, type: cols.types[i]!, json: cols.json[i]! });
    if (cols.urls[i] !== null) sink.deliveries++;
  }
}

/**
 * Queue the events a statement just inserted for publishing (the outbox's to-publish queue,
 * migration 0016): `from` names the statement's event-insert CTE, which returns seq, id and task_id.
 * Every statement that inserts events does this itself (no trigger since migration 0022).
 */
export function queueEvents(db: Db, from: ReturnType<Db>) {
  return db`insert into task_events_unpublished (seq, id, task_id) select seq, id, task_id from ${from}`;
}

/**
 * As eventRowsFragment, for the events of several writes each at its own instant (grouped
 * writes: the created_at of `cols[i]`'s events is `at[i]`). Aliased `e`.
 */
export function eventRowsAt(db: Db, cols: readonly ReturnType<typeof eventColumns>[], at: readonly Date[]) {
  const flat = <K extends 'ids' | 'taskIds' | 'types' | 'stored'>(k: K) => cols.flatMap((c) => c[k]);
  const createdAt = cols.flatMap((c, i) => c.ids.map(() => at[i]!.toISOString()));
  return db`
    select e.id, e.task_id, e.type, e.envelope::jsonb, e.created_at
    from unnest(${db.array(flat('ids'))}::uuid[], ${db.array(flat('taskIds'))}::uuid[], ${db.array(flat('types'))}::text[],
      ${jsonTextArray(db, flat('stored'))}, ${db.array(createdAt)}::timestamptz[]) as e(id, task_id, type, envelope, created_at)`;
}

/** `select … from unnest(…)` rows for `insert into task_events (id, task_id, type, envelope, created_at)`. */
export function eventRowsFragment(db: Db, cols: ReturnType<typeof eventColumns>, now: Date) {
  return db`
    select e.id, e.task_id, e.type, e.envelope::jsonb, ${now}::timestamptz
    from unnest(${db.array(cols.ids)}::uuid[], ${db.array(cols.taskIds)}::uuid[], ${db.array(cols.types)}::text[], ${jsonTextArray(db, cols.stored)})
      as e(id, task_id, type, envelope)`;
}

/** Events (with their callback deliveries and swarm-dlq entries) into the outbox on their own: test factories and tools; the services' writes insert theirs in their own statements. */
export async function insertEvents(tx: Db, drafts: EventDraft[], now: Date): Promise<EventEnvelope[]> {
  if (drafts.length === 0) return [];
  const cols = eventColumns(drafts, now);
  await tx`
    with ev as (
      insert into task_events (id, task_id, type, envelope, created_at) ${eventRowsFragment(tx, cols, now)}
      returning seq, id, task_id
    ), q as (${queueEvents(tx, tx`ev`)}) ${deliveryRows(tx, [cols], [now], tx`ev`)} ${dlqRows(tx, [cols], [now], tx`ev`)}
    select 1`;
  return cols.envelopes;
}

export async function eventsOfTask(db: Db, taskId: string): Promise<EventEnvelope[]> {
  const rows = await db<{ envelope: EventEnvelope }[]>`
    select dispatch_task_envelope(e) as envelope from task_events e where e.task_id = ${taskId} and e.kind = 'task' order by e.seq`;
  return rows.map((r) => r.envelope);
}
