// Schedule use cases (docs/schedules.md): create/list/get/patch/delete, preview, history, a
// manual trigger, and the firing of due occurrences (the firer in src/schedules/firer.ts).
//
// Exactly once: an occurrence is claimed by its schedule_runs row, unique on (schedule_id,
// occurrence). The firing transaction locks the due schedules (skip locked: a replica never
// waits for another's firing), checks which occurrences are already claimed, creates the tasks
// and runs, inserts the claims (a conflict rolls the whole firing back: nothing is created
// twice), and advances next_run_at with a compare-and-set on the value it planned from — one
// transaction, so a kill at any point leaves either all of it or none of it.
import { announceEvents } from './announce.js';
import { randomUUID } from 'node:crypto';
import { canonical } from '../core/ids.js';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Config } from '../config.js';
import type { ServiceContext } from '../context.js';
import { checkTimetable, nextOccurrence, nextOccurrences, planFiring, type Problem, type Timetable } from '../core/schedule.js';
import { decideCreate, type NewTask } from '../core/decisions.js';
import { templateFields, templateProblems } from './new-task.js';
import { isTerminal, type EventDraft, type Task, type TaskRow, type TaskStatus } from '../core/task.js';
import { insertTaskRows } from '../store/tasks.js';
import type { Run } from '../core/workflow.js';
import { DefinitionFilesError, DispatchError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { LIMITS, type CreateTaskBody } from '../schemas/task.js';
import { CreateScheduleBody, type ListSchedulesQuery, type PatchScheduleBody } from '../schemas/schedule.js';
import { inTransaction, type Db, type Sql, type Tx } from '../store/db.js';
import {
  advanceSchedules,
  claimedOccurrences,
  deleteSchedule,
  getSchedule,
  insertSchedule,
  insertScheduleRuns,
  listSchedules,
  lockDueSchedules,
  lockSchedule,
  lockScheduleByName,
  occurrenceKey,
  runStatusesOf,
  scheduleRunRows,
  setLastFired,
  taskStatusesOf,
  updateSchedule,
  type Advance,
  type ScheduleRow,
  type ScheduleRunRow,
} from '../store/schedules.js';
import { latestWorkflow } from '../store/workflows.js';
import { createTask, decodeCursor, encodeCursor, parseCreateTaskBody, type Actor } from './tasks.js';
import { getRunById, startRunIn } from './workflows.js';

export interface Schedule {
  id: string;
  name: string;
  requester: string;
  cron: string | null;
  calendar: ScheduleRow['calendar'];
  timezone: string;
  start_at: string | null;
  end_at: string | null;
  task: Record<string, unknown> | null;
  workflow: ScheduleRow['workflow'];
  overlap: ScheduleRow['overlap'];
  catch_up: ScheduleRow['catch_up'];
  start_within_ms: number | null;
  paused: boolean;
  next_run_at: string | null;
  last_run_at: string | null;
  created_at: string;
  updated_at: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function scheduleToApi(r: ScheduleRow): Schedule {
  return {
    id: r.id,
    name: r.name,
    requester: r.requester,
    cron: r.cron,
    calendar: r.calendar,
    timezone: r.timezone,
    start_at: iso(r.start_at),
    end_at: iso(r.end_at),
    task: r.task,
    workflow: r.workflow,
    overlap: r.overlap,
    catch_up: r.catch_up,
    start_within_ms: r.start_within_ms,
    paused: r.paused,
    next_run_at: iso(r.next_run_at),
    last_run_at: iso(r.last_run_at),
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
  };
}

const timetableOf = (r: Pick<ScheduleRow, 'cron' | 'calendar' | 'timezone' | 'start_at' | 'end_at'>): Timetable => ({
  cron: r.cron,
  calendar: r.calendar,
  timezone: r.timezone,
  start_at: r.start_at,
  end_at: r.end_at,
});

type Draft = Omit<ScheduleRow, 'id' | 'requester' | 'next_run_at' | 'last_run_at' | 'last_task_id' | 'last_run_id' | 'created_at' | 'updated_at'>;

/** Every problem of a schedule as it would be stored (400 with details; nothing stored). */
async function check(
  db: Db,
  d: Draft,
  defaultTimeoutMs: number,
  httpWork?: Config['http_work'],
  given: Problem[] = [],
  rename: (field: string) => string = (f) => f,
): Promise<void> {
  const problems: Problem[] = [...given, ...checkTimetable(d).map((p) => ({ ...p, field: rename(p.field) }))];
  if ((d.task === null) === (d.workflow === null))
    problems.push({ field: d.task ? 'workflow' : 'task', message: 'exactly one of task and workflow is required' });
  if (d.task) {
    try {
      problems.push(...templateProblems(parseCreateTaskBody(d.task), defaultTimeoutMs, 'task.', httpWork));
    } catch (err) {
      const details =
        err instanceof DispatchError && Array.isArray(err.details) ? (err.details as Problem[]) : [{ field: 'body', message: (err as Error).message }];
      problems.push(...details.map((p) => ({ field: `task.${p.field}`, message: p.message })));
    }
  }
  if (d.workflow) {
    if (d.start_within_ms !== null) problems.push({ field: 'start_within_ms', message: 'applies to a task template only, not to a workflow' });
    if (d.workflow.context && Buffer.byteLength(JSON.stringify(d.workflow.context), 'utf8') > LIMITS.contextBytes)
      problems.push({ field: 'workflow.context', message: `must be at most ${LIMITS.contextBytes} bytes serialized` });
    if (!(await latestWorkflow(db, d.workflow.key))) problems.push({ field: 'workflow.key', message: `no workflow "${d.workflow.key}"` });
  }
  if (problems.length) throw new ValidationError(`schedule is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
}

const exists = (name: string) => new DispatchError('schedule_exists', 409, `you already have a schedule named "${name}"`, { name });
const date = (s: string | null | undefined) => (s ? new Date(s) : null);

/**
 * The task template of a Wordware event's `flow` (§19.2): titled by the schedule's name, a call
 * POSTing {inputs: input, version} to the flow's api with the `wordware` credential.
 */
export function wordwareTemplate(name: string, flow: NonNullable<CreateScheduleBody['flow']>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (flow.input !== undefined) body.inputs = flow.input;
  if (flow.version !== undefined) body.version = flow.version;
  return { title: name, call: { url: flow.api, method: 'POST', credential: 'wordware', body } };
}

/**
 * A create body as the schedule it describes, the Wordware form (`flow`, `schedule`) mapped onto
 * `task` and `calendar`, a missing time zone taken from schedules.default_timezone; with the
 * problems of a body that mixes the two forms.
 */
function draftOf(body: CreateScheduleBody, defaultTimezone: string): { draft: Draft; problems: Problem[]; rename: (field: string) => string } {
  const problems: Problem[] = [];
  if (body.flow !== undefined && (body.task != null || body.workflow != null))
    problems.push({ field: 'flow', message: 'exactly one of task, workflow and flow is required' });
  if (body.schedule !== undefined && (body.cron != null || body.calendar != null))
    problems.push({ field: 'schedule', message: 'exactly one of cron, calendar and schedule is required' });
  const draft: Draft = {
    name: body.name,
    cron: body.cron ?? null,
    calendar: body.schedule ?? body.calendar ?? null,
    timezone: body.timezone ?? defaultTimezone,
    start_at: date(body.start_at),
    end_at: date(body.end_at),
    task: body.flow ? wordwareTemplate(body.name, body.flow) : ((body.task as Record<string, unknown> | null | undefined) ?? null),
    workflow: body.workflow ?? null,
    overlap: body.overlap ?? 'skip',
    catch_up: body.catch_up ?? 'latest',
    start_within_ms: body.start_within_ms ?? null,
    paused: body.paused ?? false,
  };
  // Problems of the calendar are named as the body named it.
  const rename = (f: string) => (body.schedule !== undefined ? f.replace(/^calendar/, 'schedule') : f);
  return { draft, problems, rename };
}

export async function createSchedule(ctx: Pick<ServiceContext, 'sql' | 'clock' | 'config'>, requester: string, body: CreateScheduleBody): Promise<Schedule> {
  const now = ctx.clock.now();
  const { draft, problems, rename } = draftOf(body, ctx.config.schedules.default_timezone);
  await check(ctx.sql, draft, ctx.config.assignment.default_timeout_ms, ctx.config.http_work, problems, rename);
  const row: ScheduleRow = {
    ...draft,
    id: randomUUID(),
    requester,
    next_run_at: nextOccurrence(timetableOf(draft), now.getTime()),
    last_run_at: null,
    last_task_id: null,
    last_run_id: null,
    created_at: now,
    updated_at: now,
  };
  const stored = await inTransaction(ctx.sql, (tx) => insertSchedule(tx, row));
  if (!stored) throw exists(body.name);
  return scheduleToApi(stored);
}

/** The requester of the schedules schedules.dir keeps. */
export const FILES_REQUESTER = 'dispatch:files';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const checkScheduleBody = addFormats(new Ajv({ allErrors: true, strict: false })).compile<CreateScheduleBody>(CreateScheduleBody);

/**
 * schedules.dir (§19.2): every `*.json` there (the Wordware dispatcher's Events/ folder) creates
 * or updates the schedule of its `name`, requester dispatch:files. Every file is checked first —
 * JSON, the create schema, the schedule's own rules — and any problem stops the start
 * (DefinitionFilesError: exit 2) with every file and problem named and nothing stored. An update
 * replaces every field from the file and recomputes next_run_at when the timetable changed or
 * the schedule is resumed. Files that disappeared leave their schedules alone.
 */
export async function loadScheduleDir(ctx: Pick<ServiceContext, 'sql' | 'clock' | 'config' | 'logger'>, dir: string): Promise<number> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const problems: string[] = [];
  const drafts: { file: string; draft: Draft }[] = [];
  const names = new Map<string, string>();
  for (const file of files) {
    const at = (list: Problem[]) => problems.push(`${file}: ${list.map((p) => `${p.field} ${p.message}`).join('; ')}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    } catch (err) {
      at([{ field: 'file', message: `is not JSON: ${(err as Error).message}` }]);
      continue;
    }
    if (!checkScheduleBody(parsed)) {
      at(
        (checkScheduleBody.errors ?? []).map((e) => {
          const extra =
            (e.params as { additionalProperty?: string; missingProperty?: string }).additionalProperty ??
            (e.params as { missingProperty?: string }).missingProperty;
          const base = e.instancePath.slice(1).replace(/\//g, '.');
          return {
            field: [base, extra].filter(Boolean).join('.') || 'body',
            message: extra && e.keyword === 'additionalProperties' ? 'is not an accepted field' : (e.message ?? 'is invalid'),
          };
        }),
      );
      continue;
    }
    const { draft, problems: own, rename } = draftOf(parsed, ctx.config.schedules.default_timezone);
    try {
      await check(ctx.sql, draft, ctx.config.assignment.default_timeout_ms, ctx.config.http_work, own, rename);
    } catch (err) {
      if (!(err instanceof DispatchError)) throw err;
      at(Array.isArray(err.details) ? (err.details as Problem[]) : [{ field: 'body', message: err.message }]);
      continue;
    }
    const twin = names.get(draft.name);
    if (twin) {
      at([{ field: 'name', message: `"${draft.name}" is also the name in ${twin}` }]);
      continue;
    }
    names.set(draft.name, file);
    drafts.push({ file, draft });
  }
  if (problems.length) throw new DefinitionFilesError(dir, problems, 'schedules.dir');
  const now = ctx.clock.now();
  await inTransaction(ctx.sql, async (tx) => {
    for (const { file, draft } of drafts) {
      const outcome = await applyFileSchedule(tx, draft, now);
      if (outcome !== 'unchanged') ctx.logger.info({ schedule: draft.name, file, outcome }, 'schedule file applied');
    }
  });
  return drafts.length;
}

/** Create or update the schedules.dir schedule of `d.name` (under its row lock: two replicas starting at once apply it in turn). */
async function applyFileSchedule(tx: Tx, d: Draft, now: Date): Promise<'created' | 'updated' | 'unchanged'> {
  const existing = await lockScheduleByName(tx, FILES_REQUESTER, d.name);
  const next = nextOccurrence(timetableOf(d), now.getTime());
  if (!existing) {
    const row: ScheduleRow = {
      ...d,
      id: randomUUID(),
      requester: FILES_REQUESTER,
      next_run_at: next,
      last_run_at: null,
      last_task_id: null,
      last_run_id: null,
      created_at: now,
      updated_at: now,
    };
    if (await insertSchedule(tx, row)) return 'created';
    // Another replica inserted it since the lock found nothing: update that one.
    return applyFileSchedule(tx, d, now);
  }
  const norm = (v: unknown) => (v instanceof Date ? v.toISOString() : canonical(v));
  const same = (k: keyof Draft) => norm(existing[k]) === norm(d[k]);
  const fields = Object.keys(d) as (keyof Draft)[];
  if (fields.every(same)) return 'unchanged';
  const retime = TIMETABLE_FIELDS.some((f) => !same(f)) || (existing.paused && !d.paused);
  await updateSchedule(tx, existing.id, { ...d, updated_at: now, ...(retime ? { next_run_at: next } : {}) });
  return 'updated';
}

export async function getScheduleById(ctx: Pick<ServiceContext, 'sql'>, id: string): Promise<Schedule> {
  const row = await getSchedule(ctx.sql, id);
  if (!row) throw new NotFoundError('schedule');
  return scheduleToApi(row);
}

export async function listSchedulesPage(
  ctx: Pick<ServiceContext, 'sql'>,
  q: ListSchedulesQuery,
): Promise<{ schedules: Schedule[]; next_cursor: string | null }> {
  const limit = q.limit ?? LIMITS.listLimitDefault;
  const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
  const rows = await listSchedules(ctx.sql, {
    ...(q.requester !== undefined ? { requester: q.requester } : {}),
    ...(q.paused !== undefined ? { paused: q.paused === 'true' } : {}),
    ...(after ? { after } : {}),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { schedules: page.map(scheduleToApi), next_cursor: rows.length > limit && last ? encodeCursor(last.cursor_ts, last.id) : null };
}

const mayChange = (row: ScheduleRow, actor: Actor) => {
  if (row.requester !== actor.agentId && !actor.isAdmin) throw new ForbiddenError(`only the requester of schedule ${row.id} or an admin may change it`);
};

const TIMETABLE_FIELDS = ['cron', 'calendar', 'timezone', 'start_at', 'end_at'] as const;

/**
 * PATCH: any writable field. Setting cron clears calendar (and the reverse), setting task clears
 * workflow (and the reverse). A changed timetable, or a resume, recomputes next_run_at from now
 * (occurrences while paused are not caught up); other changes keep it.
 */
export async function patchSchedule(
  ctx: Pick<ServiceContext, 'sql' | 'clock' | 'config'>,
  actor: Actor,
  id: string,
  body: PatchScheduleBody,
): Promise<Schedule> {
  const now = ctx.clock.now();
  const out = await inTransaction(ctx.sql, async (tx) => {
    const row = await lockSchedule(tx, id);
    if (!row) throw new NotFoundError('schedule');
    mayChange(row, actor);
    const d: Draft = {
      name: body.name ?? row.name,
      cron: body.cron !== undefined ? body.cron : body.calendar ? null : row.cron,
      calendar: body.calendar !== undefined ? body.calendar : body.cron ? null : row.calendar,
      timezone: body.timezone ?? row.timezone,
      start_at: body.start_at !== undefined ? date(body.start_at) : row.start_at,
      end_at: body.end_at !== undefined ? date(body.end_at) : row.end_at,
      task: body.task !== undefined ? (body.task as Record<string, unknown> | null) : body.workflow ? null : row.task,
      workflow: body.workflow !== undefined ? body.workflow : body.task ? null : row.workflow,
      overlap: body.overlap ?? row.overlap,
      catch_up: body.catch_up ?? row.catch_up,
      start_within_ms: body.start_within_ms !== undefined ? body.start_within_ms : row.start_within_ms,
      paused: body.paused ?? row.paused,
    };
    await check(tx, d, ctx.config.assignment.default_timeout_ms, ctx.config.http_work);
    const retime = TIMETABLE_FIELDS.some((f) => body[f] !== undefined) || (row.paused && !d.paused);
    const fields: Partial<ScheduleRow> = { ...d, updated_at: now, ...(retime ? { next_run_at: nextOccurrence(timetableOf(d), now.getTime()) } : {}) };
    const updated = await updateSchedule(tx, id, fields);
    if (!updated) throw exists(d.name);
    return updated;
  });
  return scheduleToApi(out);
}

export async function removeSchedule(ctx: Pick<ServiceContext, 'sql'>, actor: Actor, id: string): Promise<void> {
  const row = await getSchedule(ctx.sql, id);
  if (!row) throw new NotFoundError('schedule');
  mayChange(row, actor);
  const gone = await inTransaction(ctx.sql, (tx) => deleteSchedule(tx, id));
  if (!gone) throw new NotFoundError('schedule');
}

export async function previewSchedule(ctx: Pick<ServiceContext, 'sql' | 'clock'>, id: string, count: number): Promise<{ occurrences: string[] }> {
  const row = await getSchedule(ctx.sql, id);
  if (!row) throw new NotFoundError('schedule');
  return { occurrences: nextOccurrences(timetableOf(row), ctx.clock.now().getTime(), count).map((d) => d.toISOString()) };
}

export interface ScheduleRun {
  occurrence: string;
  fired_at: string;
  outcome: 'fired' | 'skipped';
  reason?: string;
  task_id?: string;
  run_id?: string;
  manual: boolean;
}

export async function scheduleHistory(ctx: Pick<ServiceContext, 'sql'>, id: string, limit: number): Promise<{ runs: ScheduleRun[] }> {
  if (!(await getSchedule(ctx.sql, id))) throw new NotFoundError('schedule');
  const rows = await scheduleRunRows(ctx.sql, id, limit);
  return {
    runs: rows.map((r) => ({
      occurrence: r.occurrence.toISOString(),
      fired_at: r.fired_at.toISOString(),
      outcome: r.outcome,
      ...(r.reason !== null ? { reason: r.reason } : {}),
      ...(r.task_id !== null ? { task_id: r.task_id } : {}),
      ...(r.run_id !== null ? { run_id: r.run_id } : {}),
      manual: r.manual,
    })),
  };
}

type FireCtx = Pick<
  ServiceContext,
  'sql' | 'clock' | 'config' | 'metrics' | 'signals' | 'logger' | 'random' | 'agents' | 'slots' | 'versions' | 'reports' | 'creates'
>;

/**
 * The task an occurrence of a template makes (a validated create body without dependencies or
 * parent: decideCreate's simple path), as createTask would build it.
 */
function templateTask(ctx: Pick<ServiceContext, 'config'>, s: ScheduleRow, occurrence: Date): NewTask {
  const body = s.task as CreateTaskBody;
  return {
    id: randomUUID(),
    requester: s.requester,
    ...templateFields(body, ctx.config.assignment.default_timeout_ms),
    parent_id: null,
    not_before: null,
    depends_on: [],
    workflow_run_id: null,
    step_id: null,
    schedule_id: s.id,
    scheduled_for: occurrence,
    start_by: s.start_within_ms !== null ? new Date(occurrence.getTime() + s.start_within_ms) : null,
  };
}

/** One occurrence's task or run, in the firing transaction. */
async function fireOne(ctx: FireCtx, tx: Tx, s: ScheduleRow, occurrence: Date, now: Date): Promise<{ task?: Task; runId?: string; pending: boolean }> {
  if (s.task) {
    const { task } = await createTask({ ...ctx, sql: ctx.sql }, s.requester, s.task as CreateTaskBody, undefined, {
      tx,
      fields: {
        schedule_id: s.id,
        scheduled_for: occurrence,
        start_by: s.start_within_ms !== null ? new Date(occurrence.getTime() + s.start_within_ms) : null,
      },
    });
    return { task, pending: task.status === 'pending' };
  }
  const rows = await startRunIn(ctx, tx, s.requester, s.workflow!.key, s.workflow!.context ?? {}, now);
  return { runId: rows[0]?.workflow_run_id ?? undefined, pending: rows.some((r) => r.status === 'pending') };
}

/** Trigger: one occurrence now, outside the timetable (overlap not applied; it becomes the previous occurrence). */
export async function triggerSchedule(ctx: FireCtx, actor: Actor, id: string): Promise<{ task: Task } | { run: Run }> {
  const now = ctx.clock.now();
  const out = await inTransaction(ctx.sql, async (tx) => {
    const s = await lockSchedule(tx, id);
    if (!s) throw new NotFoundError('schedule');
    mayChange(s, actor);
    const fired = await fireOne(ctx, tx, s, now, now);
    await insertScheduleRuns(tx, [
      {
        schedule_id: id,
        occurrence: now,
        fired_at: now,
        outcome: 'fired',
        reason: 'trigger',
        task_id: fired.task?.id ?? null,
        run_id: fired.runId ?? null,
        manual: true,
      },
    ]);
    await setLastFired(tx, id, { last_task_id: fired.task?.id ?? null, last_run_id: fired.runId ?? null }, now);
    return fired;
  });
  if (out.pending) ctx.signals.emit('assign-needed');
  if (out.task) {
    ctx.metrics.tasksCreated.inc();
    return { task: out.task };
  }
  return { run: await getRunById(ctx, out.runId!) };
}

export interface FiringResult {
  schedules: number;
  fired: number;
  skipped: number;
  /** A full batch: there may be more due now. */
  full: boolean;
}

const RUN_TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Fire what is due at `now` for at most `batch` schedules, in one transaction (see the top of
 * this file). Occurrences are decided by core/schedule.ts planFiring (catch_up, on-time window).
 */
export async function fireDue(ctx: FireCtx, sql: Sql, now: Date, batch: number): Promise<FiringResult> {
  const grace = ctx.config.schedules.catch_up_grace_ms;
  const res = await inTransaction(sql, async (tx) => {
    const due = await lockDueSchedules(tx, now, batch);
    if (due.length === 0) return { schedules: 0, fired: 0, skipped: 0, created: 0, pending: false };
    const plans = due.map((s) => ({ s, plan: planFiring({ ...timetableOf(s), catch_up: s.catch_up }, s.next_run_at!, now, grace) }));
    const claimed = await claimedOccurrences(
      tx,
      plans.flatMap(({ s, plan }) => plan.fire.map((o) => ({ scheduleId: s.id, occurrence: o }))),
    );
    const skippers = due.filter((s) => s.overlap === 'skip');
    const taskSt = await taskStatusesOf(
      tx,
      skippers.map((s) => s.last_task_id).filter((x): x is string => x !== null),
    );
    const runSt = await runStatusesOf(
      tx,
      skippers.map((s) => s.last_run_id).filter((x): x is string => x !== null),
    );
    const runs: ScheduleRunRow[] = [];
    const advances: Advance[] = [];
    const newRows: TaskRow[] = [];
    const newEvents: EventDraft[] = [];
    let created = 0;
    let pending = false;
    for (const { s, plan } of plans) {
      let lastTask = s.last_task_id;
      let lastRun = s.last_run_id;
      let lastAt = s.last_run_at;
      // What the previous occurrence left running (a task or run purged by retention counts as ended).
      let live: string | null = null;
      if (s.overlap === 'skip') {
        const ts: TaskStatus | undefined = lastTask ? taskSt.get(lastTask) : undefined;
        const rs = lastRun ? runSt.get(lastRun) : undefined;
        if (ts && !isTerminal(ts)) live = `task ${lastTask} is ${ts}`;
        else if (rs && !RUN_TERMINAL.has(rs)) live = `run ${lastRun} is ${rs}`;
      }
      for (const occurrence of plan.fire) {
        if (claimed.has(occurrenceKey(s.id, occurrence))) continue;
        const base = { schedule_id: s.id, occurrence, fired_at: now, manual: false };
        if (live) {
          runs.push({ ...base, outcome: 'skipped', reason: `overlap: the previous occurrence's ${live}`, task_id: null, run_id: null });
          continue;
        }
        created++;
        lastAt = occurrence;
        if (s.task) {
          // Task templates of the whole batch are inserted in one statement below.
          const d = decideCreate(templateTask(ctx, s, occurrence), now);
          newRows.push(d.row);
          newEvents.push(...d.events);
          lastTask = d.row.id;
          lastRun = null;
          pending = true;
          if (s.overlap === 'skip') live = `task ${lastTask} is pending`;
        } else {
          const fired = await fireOne(ctx, tx, s, occurrence, now);
          pending ||= fired.pending;
          lastTask = null;
          lastRun = fired.runId ?? null;
          if (s.overlap === 'skip') live = `run ${lastRun} is running`;
        }
        runs.push({ ...base, outcome: 'fired', reason: null, task_id: lastTask, run_id: lastRun });
      }
      advances.push({ id: s.id, expected: s.next_run_at!, next: plan.next, last_run_at: lastAt, last_task_id: lastTask, last_run_id: lastRun });
    }
    if (newRows.length) await insertTaskRows(tx, newRows, newEvents, now);
    // A claim that conflicts, or a timer another writer moved, undoes the whole firing.
    if ((await insertScheduleRuns(tx, runs)) !== runs.length) throw new Error('schedule occurrence already claimed; firing rolled back');
    if ((await advanceSchedules(tx, advances, now)) !== advances.length) throw new Error('schedule next_run_at moved during firing; rolled back');
    return {
      schedules: due.length,
      fired: runs.filter((r) => r.outcome === 'fired').length,
      skipped: runs.filter((r) => r.outcome === 'skipped').length,
      created,
      pending,
    };
  });
  if (res.created) {
    announceEvents(ctx);
    ctx.metrics.tasksCreated.inc(res.created);
  }
  if (res.pending) ctx.signals.emit('assign-needed');
  return { schedules: res.schedules, fired: res.fired, skipped: res.skipped, full: res.schedules >= batch };
}
