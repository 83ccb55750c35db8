// Workflow use cases (docs/workflows.md): store a definition (versioned, checked for unknown
// steps and cycles), start a run (every step's task, edge and the run in one transaction), read
// and list runs, cancel a run.
import { announceChanges, announceEvents } from './announce.js';
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import * as yaml from 'js-yaml';
import type { ServiceContext } from '../context.js';
import { decideCreate, decidePatch, type NewTask } from '../core/decisions.js';
import { templateFields, templateProblems, type TaskTemplate } from './new-task.js';
import type { DependencyState } from '../core/dependencies.js';
import { canonical, isObject } from '../core/ids.js';
import { ACTIVE_STATUSES, type Change, type TaskRow } from '../core/task.js';
import {
  checkDefinition,
  checkTrigger,
  normaliseStep,
  runToApi,
  RUN_STATUSES,
  triggerScheduleName,
  WORKFLOW_KEY_SOURCE,
  type Run,
  type RunOrigin,
  type RunRow,
  type RunStatus,
  type StepDefinition,
  type StepInput,
  type Trigger,
} from '../core/workflow.js';
import { nextOccurrence } from '../core/schedule.js';
import { insertSchedule, lockScheduleByName, updateSchedule } from '../store/schedules.js';
import { DefinitionFilesError, DispatchError, InvalidTransitionError, NotFoundError, ValidationError, ForbiddenError } from '../errors.js';
import { recordTransition } from '../observability/metrics.js';
import { LIMITS } from '../schemas/task.js';
import { WorkflowBody, type DispatchRunBody, type ListRunsQuery, type StartRunBody } from '../schemas/workflow.js';
import { inTransaction, type Tx } from '../store/db.js';
import { insertEdges } from '../store/dependencies.js';
import { insertRunEvent } from '../store/events.js';
import { applyChanges, insertTaskRows } from '../store/tasks.js';
import {
  getRun,
  insertRun,
  latestWorkflow,
  listLatestWorkflows,
  listRunRows,
  lockLiveRunTasks,
  putWorkflow,
  runTaskStatuses,
  type WorkflowRow,
} from '../store/workflows.js';
import { settle } from './dependencies.js';
import { IDEMPOTENCY_WINDOW_MS } from './housekeeping.js';
import { decodeCursor, encodeCursor, type Actor } from './tasks.js';
import { claimKey, RUN_KEYS } from '../store/idempotency.js';

export interface Workflow {
  key: string;
  version: number;
  description: string | null;
  trigger: Trigger | null;
  steps: StepDefinition[];
  created_by: string;
  created_at: string;
  updated_at: string;
}

const toApi = (w: WorkflowRow): Workflow => ({
  key: w.key,
  version: w.version,
  description: w.description,
  trigger: w.trigger ?? null,
  steps: w.steps,
  created_by: w.created_by,
  created_at: w.first_created_at.toISOString(),
  updated_at: w.created_at.toISOString(),
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Store a definition under `key`: a new key is version 1 (`created`), a changed definition the
 * next version (`updated`), an identical one changes nothing (`unchanged`). The graph is checked
 * first: 400 validation_failed for unknown or duplicate ids, 400 workflow_cycle naming the cycle.
 */
export async function putWorkflowDefinition(
  ctx: Pick<ServiceContext, 'sql' | 'clock' | 'config'>,
  author: string,
  key: string,
  body: WorkflowBody,
): Promise<{ workflow: Workflow; outcome: 'created' | 'updated' | 'unchanged' }> {
  if (body.key !== undefined && body.key !== key) {
    throw new ValidationError(`body key "${body.key}" does not match the path key "${key}"`, [{ field: 'key', message: 'must equal the key in the path' }]);
  }
  const defaultTimeoutMs = ctx.config.assignment.default_timeout_ms;
  const normalised = body.steps.map((s, i) => normaliseStep(s as StepInput, i));
  const steps: StepDefinition[] = normalised.map((n) => n.step);
  const trigger = (body.trigger ?? null) as Trigger | null;
  const check = checkDefinition({ key, steps });
  const problems = [
    ...normalised.flatMap((n) => n.problems),
    ...(!check.ok && check.kind === 'invalid' ? check.problems : []),
    ...steps.flatMap((s, i) =>
      s.task
        ? templateProblems(s.task as TaskTemplate, defaultTimeoutMs, `steps.${i}.task.`, ctx.config.http_work)
        : // A call step's call, checked as its task will be (the timeout bound is named below, as the seed form places it).
          templateProblems({ title: s.id, call: s.call } as TaskTemplate, defaultTimeoutMs, `steps.${i}.`, ctx.config.http_work).filter(
            (p) => !p.field.endsWith('timeout_ms'),
          ),
    ),
    ...steps.flatMap((s, i) =>
      s.call?.timeout_ms !== undefined && s.call.timeout_ms > defaultTimeoutMs
        ? [{ field: `steps.${i}.timeout_ms`, message: `must be at most the task timeout_ms (${defaultTimeoutMs})` }]
        : [],
    ),
    ...(trigger ? checkTrigger(trigger) : []),
  ];
  if (problems.length) {
    throw new ValidationError(`workflow is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
  }
  if (!check.ok && check.kind === 'cycle') {
    throw new DispatchError('workflow_cycle', 400, `workflow has a cycle: ${check.cycle.join(' → ')}`, { cycle: check.cycle });
  }
  const description = body.description ?? null;
  // A definition without a trigger hashes as it did before triggers existed (no new version for it).
  const hash = sha256(canonical({ description, steps, ...(trigger ? { trigger } : {}) }));
  const now = ctx.clock.now();
  const res = await inTransaction(ctx.sql, async (tx) => {
    const put = await putWorkflow(tx, { key, description, trigger, steps, hash, created_by: author }, now);
    if (put.outcome !== 'unchanged') await ownTriggerSchedule(tx, key, trigger, now);
    return put;
  });
  return { workflow: toApi(res.row), outcome: res.outcome };
}

/** Who owns the schedules of workflows' trigger.cron (their runs' requester). */
export const TRIGGER_SCHEDULE_REQUESTER = 'dispatch:workflows';

/**
 * The schedule a workflow's trigger.cron owns (§19.1), in the transaction storing a new version:
 * `workflow:<key>` (requester dispatch:workflows, catch_up latest, overlap skip) created, or
 * updated to the new cron and time zone and resumed; paused by a version without trigger.cron.
 * A changed timetable or a resume recomputes next_run_at from now.
 */
async function ownTriggerSchedule(tx: Tx, key: string, trigger: Trigger | null, now: Date): Promise<void> {
  const name = triggerScheduleName(key);
  const existing = await lockScheduleByName(tx, TRIGGER_SCHEDULE_REQUESTER, name);
  if (!trigger?.cron) {
    if (existing && !existing.paused) await updateSchedule(tx, existing.id, { paused: true, updated_at: now });
    return;
  }
  const timetable = { cron: trigger.cron, calendar: null, timezone: trigger.timezone ?? 'UTC', start_at: null, end_at: null };
  const next = nextOccurrence(timetable, now.getTime());
  if (!existing) {
    await insertSchedule(tx, {
      id: randomUUID(),
      name,
      requester: TRIGGER_SCHEDULE_REQUESTER,
      ...timetable,
      task: null,
      workflow: { key },
      overlap: 'skip',
      catch_up: 'latest',
      start_within_ms: null,
      paused: false,
      next_run_at: next,
      last_run_at: null,
      last_task_id: null,
      last_run_id: null,
      created_at: now,
      updated_at: now,
    });
    return;
  }
  const retime = existing.cron !== timetable.cron || existing.calendar !== null || existing.timezone !== timetable.timezone || existing.paused;
  await updateSchedule(tx, existing.id, {
    ...timetable,
    task: null,
    workflow: { key },
    paused: false,
    updated_at: now,
    ...(retime ? { next_run_at: next } : {}),
  });
}

export async function getWorkflow(ctx: Pick<ServiceContext, 'sql'>, key: string): Promise<Workflow> {
  const row = await latestWorkflow(ctx.sql, key);
  if (!row) throw new NotFoundError('workflow');
  return toApi(row);
}

export async function listWorkflows(ctx: Pick<ServiceContext, 'sql'>): Promise<Workflow[]> {
  return (await listLatestWorkflows(ctx.sql)).map(toApi);
}

/** The tasks of a new run: one per step, waiting on its steps' tasks, the roots pending. */
export function planRun(
  ctx: Pick<ServiceContext, 'config'>,
  wf: Pick<WorkflowRow, 'key' | 'version' | 'steps'>,
  requester: string,
  runContext: Record<string, unknown>,
  now: Date,
  ids: { run: string; task: (stepId: string) => string },
  origin: Partial<RunOrigin> = {},
): { run: RunRow; rows: TaskRow[]; events: Change['events'] } {
  const taskIds = new Map(wf.steps.map((s) => [s.id, ids.task(s.id)]));
  const dependedOn = new Set(wf.steps.flatMap((s) => s.depends_on ?? []));
  // Siblings are all new (none completed), so each step with dependencies starts waiting.
  const siblings = new Map<string, DependencyState>(
    wf.steps.map((s) => [
      taskIds.get(s.id)!,
      {
        id: taskIds.get(s.id)!,
        status: 'pending',
        result: null,
        step_id: s.id,
        workflow_run_id: ids.run,
        cancelled_by: null,
      },
    ]),
  );
  const rows: TaskRow[] = [];
  const events: Change['events'] = [];
  for (const s of wf.steps) {
    // A call step's task is titled by its step id; with no body of its own its call sends the
    // task's context, {context: <run context>, upstream: {<step id>: <result>}} (upstream filled
    // when its dependencies complete, like every step's).
    const t: TaskTemplate = s.call ? { title: s.id, call: s.call as TaskTemplate['call'] } : (s.task as TaskTemplate);
    const task: NewTask = {
      id: taskIds.get(s.id)!,
      requester,
      ...templateFields(t, ctx.config.assignment.default_timeout_ms),
      context: s.call ? { context: runContext, upstream: {} } : { ...(t.context ?? {}), ...runContext },
      parent_id: null,
      not_before: null,
      depends_on: (s.depends_on ?? []).map((d) => taskIds.get(d)!),
      workflow_run_id: ids.run,
      step_id: s.id,
    };
    const d = decideCreate(task, now, siblings);
    rows.push({ ...d.row, has_dependents: dependedOn.has(s.id) });
    events.push(...d.events);
  }
  const run: RunRow = {
    id: ids.run,
    workflow_key: wf.key,
    version: wf.version,
    requester,
    user_id: origin.user_id ?? null,
    intent_id: origin.intent_id ?? null,
    trigger_event_id: origin.trigger_event_id ?? null,
    status: 'running',
    context: runContext,
    steps: wf.steps.map((s) => ({ step_id: s.id, task_id: taskIds.get(s.id)!, depends_on: s.depends_on ?? [] })),
    created_at: now,
    updated_at: now,
    completed_at: null,
  };
  return { run, rows, events };
}

/**
 * Start a run of the latest version of `key`: the run, one task per step (roots pending, the
 * rest waiting), their edges and their events — one transaction, the tasks in one statement.
 * With an Idempotency-Key the same key + requester within 24 h returns the original run.
 */
export async function startRun(
  ctx: Pick<ServiceContext, 'sql' | 'clock' | 'config' | 'metrics' | 'signals'>,
  requester: string,
  key: string,
  body: StartRunBody,
  idempotencyKey?: string,
  origin: Partial<RunOrigin> = {},
): Promise<{ run: Run; created: boolean }> {
  const runContext = body.context ?? {};
  if (Buffer.byteLength(JSON.stringify(runContext), 'utf8') > LIMITS.contextBytes) {
    throw new ValidationError('context is too large', [{ field: 'context', message: `must be at most ${LIMITS.contextBytes} bytes serialized` }]);
  }
  const now = ctx.clock.now();
  const runId = randomUUID();
  const out = await inTransaction(ctx.sql, async (tx: Tx) => {
    if (idempotencyKey !== undefined) {
      const bodyHash = sha256(canonical({ key, body }));
      const claim = await claimKey(
        tx,
        RUN_KEYS,
        { requester, key: idempotencyKey, body_hash: bodyHash, ref: runId, created_at: now },
        new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS),
      );
      if (!claim.claimed) {
        if (claim.existing.body_hash !== bodyHash) {
          throw new DispatchError('idempotency_conflict', 409, 'this Idempotency-Key was used with a different body', { run_id: claim.existing.ref });
        }
        return { runId: claim.existing.ref, created: false, rows: [] as TaskRow[] };
      }
    }
    return { runId, created: true, rows: await startRunIn(ctx, tx, requester, key, runContext, now, runId, origin) };
  });
  if (out.created) {
    announceEvents(ctx);
    ctx.metrics.tasksCreated.inc(out.rows.length);
    if (out.rows.some((r) => r.status === 'pending')) ctx.signals.emit('assign-needed');
  }
  return { run: await readRun(ctx, out.runId), created: out.created };
}

/**
 * The in-transaction part of a run's start (startRun, a schedule's firing): the run, its tasks,
 * edges and events in the caller's transaction. The caller counts and signals after its commit.
 */
export async function startRunIn(
  ctx: Pick<ServiceContext, 'config'>,
  tx: Tx,
  requester: string,
  key: string,
  runContext: Record<string, unknown>,
  now: Date,
  runId: string = randomUUID(),
  origin: Partial<RunOrigin> = {},
): Promise<TaskRow[]> {
  const wf = await latestWorkflow(tx, key);
  if (!wf) throw new NotFoundError('workflow');
  const plan = planRun(ctx, wf, requester, runContext, now, { run: runId, task: () => randomUUID() }, origin);
  await insertRun(tx, plan.run);
  const rows = await insertTaskRows(tx, plan.rows, plan.events, now);
  await insertEdges(tx, plan.rows);
  await insertRunEvent(tx, 'created', runToApi(plan.run, new Map(rows.map((r) => [r.id, r.status]))), now);
  return rows;
}

/**
 * The Wisely seed's dispatch body (§19.1): a run of `workflow_key` with context
 * {user_id, intent_id, payload} (null where not given), the run showing user_id and intent_id.
 */
export async function dispatchRun(
  ctx: Pick<ServiceContext, 'sql' | 'clock' | 'config' | 'metrics' | 'signals'>,
  requester: string,
  body: DispatchRunBody,
  idempotencyKey?: string,
): Promise<{ run: Run; created: boolean }> {
  const origin = { user_id: body.user_id ?? null, intent_id: body.intent_id ?? null };
  const context = { ...origin, payload: body.payload ?? null };
  return startRun(ctx, requester, body.workflow_key, { context }, idempotencyKey, origin);
}

async function readRun(ctx: Pick<ServiceContext, 'sql'>, id: string): Promise<Run> {
  const run = await getRun(ctx.sql, id);
  if (!run) throw new NotFoundError('run');
  const statuses = await runTaskStatuses(ctx.sql, [id]);
  return runToApi(run, statuses.get(id) ?? new Map());
}

export const getRunById = readRun;

export async function listRuns(ctx: Pick<ServiceContext, 'sql'>, q: ListRunsQuery): Promise<{ runs: Run[]; next_cursor: string | null }> {
  const limit = q.limit ?? LIMITS.listLimitDefault;
  const statuses = q.status?.split(',').filter((s): s is RunStatus => (RUN_STATUSES as readonly string[]).includes(s));
  const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
  const rows = await listRunRows(ctx.sql, {
    ...(q.workflow_key !== undefined ? { workflowKey: q.workflow_key } : {}),
    ...(statuses?.length ? { statuses } : {}),
    ...(q.requester !== undefined ? { requester: q.requester } : {}),
    ...(after ? { after } : {}),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const taskStatuses = await runTaskStatuses(
    ctx.sql,
    page.map((r) => r.id),
  );
  const last = page[page.length - 1];
  return {
    runs: page.map((r) => runToApi(r, taskStatuses.get(r.id) ?? new Map())),
    next_cursor: rows.length > limit && last ? encodeCursor(last.cursor_ts, last.id) : null,
  };
}

/**
 * Cancel a run (requester or admin): every task of it that is not finished is cancelled (their
 * waiting dependents with them), and the run becomes cancelled — or stays failed when a task
 * already failed. A completed or cancelled run → 409.
 */
export async function cancelRun(ctx: Pick<ServiceContext, 'sql' | 'clock' | 'metrics' | 'signals'>, actor: Actor, id: string): Promise<Run> {
  const run = await getRun(ctx.sql, id);
  if (!run) throw new NotFoundError('run');
  if (run.requester !== actor.agentId && !actor.isAdmin) throw new ForbiddenError(`only the requester of run ${id} or an admin may cancel it`);
  if (run.status === 'completed' || run.status === 'cancelled') throw new InvalidTransitionError(id, run.status, 'cancelled', `run ${id} is ${run.status}`);
  const now = ctx.clock.now();
  const written = await inTransaction(ctx.sql, async (tx: Tx) => {
    // Tasks first, then the run (the locking protocol of store/dependencies.ts).
    const changes = (await lockLiveRunTasks(tx, id)).map((row) => decidePatch(row, { status: 'cancelled' }, now, LIMITS.contextBytes));
    const applied = await applyChanges(tx, changes, now);
    const done = changes.filter((c) => applied.has(c.next.id));
    const settled = await settle(tx, done, now);
    return [...done, ...settled.changes];
  });
  announceChanges(ctx, written);
  for (const c of written) recordTransition(ctx.metrics, c.next);
  if (written.some((c) => ACTIVE_STATUSES.includes(c.before.status))) ctx.signals.emit('assign-needed', 'freed');
  return readRun(ctx, id);
}

/**
 * Store every definition in `dir` (*.yaml, *.yml, *.json; the key is the file's `key`, else its
 * name) as `author`, so a team keeps its workflows in git. Any file that does not parse or
 * validate stops the start with every problem listed.
 */
export async function loadWorkflowDir(ctx: Pick<ServiceContext, 'sql' | 'clock' | 'logger' | 'config'>, dir: string): Promise<number> {
  const problems: string[] = [];
  let stored = 0;
  const files = readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
  for (const file of files) {
    try {
      const { key, body } = parseDefinitionFile(path.join(dir, file));
      const { workflow, outcome } = await putWorkflowDefinition(ctx, 'dispatch', key, body);
      if (outcome !== 'unchanged') ctx.logger.info({ workflow: workflow.key, version: workflow.version, file }, 'workflow loaded');
      stored++;
    } catch (err) {
      const details =
        err instanceof DispatchError && Array.isArray(err.details)
          ? `: ${(err.details as { field: string; message: string }[]).map((p) => `${p.field} ${p.message}`).join('; ')}`
          : '';
      problems.push(`${file}: ${(err as Error).message}${details}`);
    }
  }
  if (problems.length) throw new DefinitionFilesError(dir, problems, 'workflows.dir');
  return stored;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const checkWorkflowBody = addFormats(new Ajv({ allErrors: true, strict: false, useDefaults: true })).compile<WorkflowBody>(WorkflowBody);

function parseDefinitionFile(file: string): { key: string; body: WorkflowBody } {
  const parsed = yaml.load(readFileSync(file, 'utf8'), { schema: yaml.JSON_SCHEMA }) as unknown;
  const fallbackKey = path.basename(file).replace(/\.(ya?ml|json)$/, '');
  const key = isObject(parsed) && typeof parsed.key === 'string' ? parsed.key : fallbackKey;
  if (!checkWorkflowBody(parsed)) {
    const problems = (checkWorkflowBody.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    throw new Error(`not a workflow definition: ${problems.join('; ')}`);
  }
  if (!new RegExp(WORKFLOW_KEY_SOURCE).test(key)) throw new Error(`key "${key}" must be 1..100 chars of a-z 0-9 _ . -`);
  return { key, body: parsed };
}
