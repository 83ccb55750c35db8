// SQL of schedules (docs/schedules.md): the schedule rows, the per-occurrence claims
// (schedule_runs, unique on (schedule_id, occurrence) for the timetable), the due-schedule lock
// the firer takes, and the NOTIFY that wakes every replica's firer when a timetable changes.
import type { Calendar, CatchUpPolicy, OverlapPolicy } from '../core/schedule.js';
import type { TaskStatus } from '../core/task.js';
import type { Db, Tx } from './db.js';

export const SCHEDULES_CHANNEL = 'dispatch_schedules';

export interface ScheduleRow {
  id: string;
  name: string;
  requester: string;
  cron: string | null;
  calendar: Calendar | null;
  timezone: string;
  start_at: Date | null;
  end_at: Date | null;
  task: Record<string, unknown> | null;
  workflow: { key: string; context?: Record<string, unknown> } | null;
  overlap: OverlapPolicy;
  catch_up: CatchUpPolicy;
  start_within_ms: number | null;
  paused: boolean;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_task_id: string | null;
  last_run_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ScheduleRunRow {
  schedule_id: string;
  occurrence: Date;
  fired_at: Date;
  outcome: 'fired' | 'skipped';
  reason: string | null;
  task_id: string | null;
  run_id: string | null;
  manual: boolean;
}

const notify = (db: Db) => db`select pg_notify(${SCHEDULES_CHANNEL}, '')`;

const jsonCols = (db: Db, row: Partial<ScheduleRow>) => ({
  ...row,
  ...('calendar' in row ? { calendar: row.calendar === null ? null : db.json(row.calendar as never) } : {}),
  ...('task' in row ? { task: row.task === null ? null : db.json(row.task as never) } : {}),
  ...('workflow' in row ? { workflow: row.workflow === null ? null : db.json(row.workflow as never) } : {}),
});

/** Insert a schedule and wake the firers (at commit); undefined when (requester, name) is taken. */
export async function insertSchedule(tx: Tx, row: ScheduleRow): Promise<ScheduleRow | undefined> {
  const [stored] = await tx<ScheduleRow[]>`
    insert into schedules ${tx(jsonCols(tx, row) as never)} on conflict (requester, name) do nothing returning *`;
  if (stored) await notify(tx);
  return stored;
}

/** Lock the schedule `name` of `requester`, if any (a workflow's own schedule, schedules.dir). */
export async function lockScheduleByName(tx: Tx, requester: string, name: string): Promise<ScheduleRow | undefined> {
  const [row] = await tx<ScheduleRow[]>`select * from schedules where requester = ${requester} and name = ${name} for update`;
  return row;
}

export async function getSchedule(db: Db, id: string): Promise<ScheduleRow | undefined> {
  const [row] = await db<ScheduleRow[]>`select * from schedules where id = ${id}`;
  return row;
}

/** Lock one schedule (PATCH, trigger, DELETE wait here for a firing in flight). */
export async function lockSchedule(tx: Tx, id: string): Promise<ScheduleRow | undefined> {
  const [row] = await tx<ScheduleRow[]>`select * from schedules where id = ${id} for update`;
  return row;
}

/** Write decided fields of a locked schedule and wake the firers; undefined on a (requester, name) conflict. */
export async function updateSchedule(tx: Tx, id: string, fields: Partial<ScheduleRow>): Promise<ScheduleRow | undefined> {
  const cols = jsonCols(tx, fields);
  const [clash] =
    fields.name !== undefined
      ? await tx`select 1 from schedules where requester = (select requester from schedules where id = ${id}) and name = ${fields.name} and id <> ${id}`
      : [];
  if (clash) return undefined;
  const [row] = await tx<ScheduleRow[]>`update schedules set ${tx(cols as never, Object.keys(cols) as never)} where id = ${id} returning *`;
  await notify(tx);
  return row;
}

/** Delete a schedule and its history (after any firing in flight: the row lock). The tasks stay. */
export async function deleteSchedule(tx: Tx, id: string): Promise<boolean> {
  const [row] = await tx`select id from schedules where id = ${id} for update`;
  if (!row) return false;
  await tx`delete from schedule_runs where schedule_id = ${id}`;
  await tx`delete from schedules where id = ${id}`;
  return true;
}

export type ListedSchedule = ScheduleRow & { cursor_ts: string };

export async function listSchedules(
  db: Db,
  f: { requester?: string; paused?: boolean; after?: { createdAt: string; id: string }; limit: number },
): Promise<ListedSchedule[]> {
  const conds = [db`true`];
  if (f.requester !== undefined) conds.push(db`requester = ${f.requester}`);
  if (f.paused !== undefined) conds.push(db`paused = ${f.paused}`);
  if (f.after) conds.push(db`(created_at, id) < (${f.after.createdAt}::timestamptz, ${f.after.id}::uuid)`);
  const where = conds.reduce((acc, c) => db`${acc} and ${c}`);
  return db<ListedSchedule[]>`
    select *, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_ts
    from schedules where ${where} order by created_at desc, id desc limit ${f.limit}`;
}

/**
 * Lock at most `limit` schedules due at `now` (earliest first, through schedules_due_idx). Rows
 * another replica is firing are skipped, never waited for; one it fired after this statement's
 * snapshot is re-checked on the new row version and left out (its next_run_at moved on).
 */
export async function lockDueSchedules(tx: Tx, now: Date, limit: number): Promise<ScheduleRow[]> {
  return tx<ScheduleRow[]>`
    select * from schedules where not paused and next_run_at is not null and next_run_at <= ${now}
    order by next_run_at limit ${limit} for update skip locked`;
}

/** Which of these (schedule, occurrence) pairs are already claimed by the timetable. */
export async function claimedOccurrences(tx: Tx, pairs: { scheduleId: string; occurrence: Date }[]): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const rows = await tx<{ schedule_id: string; occurrence: Date }[]>`
    select r.schedule_id, r.occurrence from schedule_runs r
    join unnest(${tx.array(pairs.map((p) => p.scheduleId))}::uuid[], ${tx.array(pairs.map((p) => p.occurrence.toISOString()))}::timestamptz[]) as q(id, at)
      on r.schedule_id = q.id and r.occurrence = q.at and not r.manual`;
  return new Set(rows.map((r) => occurrenceKey(r.schedule_id, r.occurrence)));
}

export const occurrenceKey = (scheduleId: string, at: Date) => `${scheduleId}|${at.getTime()}`;

/**
 * Record occurrences (claims), in one statement. A timetable occurrence already claimed is a
 * conflict: nothing of the batch may then commit, so the count is returned for the caller to check.
 */
export async function insertScheduleRuns(tx: Tx, runs: ScheduleRunRow[]): Promise<number> {
  if (runs.length === 0) return 0;
  const res = await tx`
    insert into schedule_runs (schedule_id, occurrence, fired_at, outcome, reason, task_id, run_id, manual)
    select * from unnest(
      ${tx.array(runs.map((r) => r.schedule_id))}::uuid[], ${tx.array(runs.map((r) => r.occurrence.toISOString()))}::timestamptz[],
      ${tx.array(runs.map((r) => r.fired_at.toISOString()))}::timestamptz[], ${tx.array(runs.map((r) => r.outcome))}::text[],
      ${tx.array(runs.map((r) => r.reason) as string[])}::text[], ${tx.array(runs.map((r) => r.task_id) as string[])}::uuid[],
      ${tx.array(runs.map((r) => r.run_id) as string[])}::uuid[], ${tx.array(runs.map((r) => r.manual))}::boolean[])
    on conflict (schedule_id, occurrence) where not manual do nothing`;
  return res.count;
}

export interface Advance {
  id: string;
  /** The next_run_at the firing read (compare-and-set). */
  expected: Date;
  next: Date | null;
  last_run_at: Date | null;
  last_task_id: string | null;
  last_run_id: string | null;
}

/** Move each schedule's timer on, only if it still holds the next_run_at the firing planned from. Returns how many moved. */
export async function advanceSchedules(tx: Tx, advances: Advance[], now: Date): Promise<number> {
  if (advances.length === 0) return 0;
  const res = await tx`
    update schedules s set next_run_at = a.next, last_run_at = a.last_run_at, last_task_id = a.last_task_id, last_run_id = a.last_run_id, updated_at = ${now}
    from unnest(
      ${tx.array(advances.map((a) => a.id))}::uuid[], ${tx.array(advances.map((a) => a.expected.toISOString()))}::timestamptz[],
      ${tx.array(advances.map((a) => a.next?.toISOString() ?? null) as string[])}::timestamptz[],
      ${tx.array(advances.map((a) => a.last_run_at?.toISOString() ?? null) as string[])}::timestamptz[],
      ${tx.array(advances.map((a) => a.last_task_id) as string[])}::uuid[], ${tx.array(advances.map((a) => a.last_run_id) as string[])}::uuid[]
    ) as a(id, expected, next, last_run_at, last_task_id, last_run_id)
    where s.id = a.id and s.next_run_at = a.expected`;
  return res.count;
}

/** After a manual trigger: its task/run becomes the previous occurrence's (overlap). */
export async function setLastFired(tx: Tx, id: string, f: { last_task_id: string | null; last_run_id: string | null }, now: Date): Promise<void> {
  await tx`update schedules set last_task_id = ${f.last_task_id}, last_run_id = ${f.last_run_id}, updated_at = ${now} where id = ${id}`;
}

export async function taskStatusesOf(db: Db, ids: string[]): Promise<Map<string, TaskStatus>> {
  if (ids.length === 0) return new Map();
  const rows = await db<{ id: string; status: TaskStatus }[]>`select id, status from tasks where id = any(${db.array(ids)}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r.status]));
}

export async function runStatusesOf(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db<{ id: string; status: string }[]>`select id, status from workflow_runs where id = any(${db.array(ids)}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** The earliest timer of an active schedule (the firer sleeps until then). */
export async function earliestNextRun(db: Db): Promise<Date | null> {
  const [r] = await db<{ at: Date | null }[]>`select min(next_run_at) as at from schedules where not paused and next_run_at is not null`;
  return r?.at ?? null;
}

export async function scheduleRunRows(db: Db, id: string, limit: number): Promise<ScheduleRunRow[]> {
  return db<ScheduleRunRow[]>`select * from schedule_runs where schedule_id = ${id} order by seq desc limit ${limit}`;
}
