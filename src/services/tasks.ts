// Task use cases behind the routes (and the NATS `swarm.task.request` consumer): create, list,
// get, patch/cancel, and the worker reports complete/fail/progress.
//
// Concurrency model: every write decides from the current row (404 → 403/409 → the change) and
// applies it as a compare-and-set whose lifecycle events land atomically with it. Worker reports
// (the hot path) read without a lock and apply with one optimistic statement on the row version
// (`casTransition`), re-deciding when another write won; PATCH locks the row in a short
// transaction and uses `transition()`. Metrics and in-process signals follow the commit, never
// precede it.
import { announceChanges } from './announce.js';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ServiceContext } from '../context.js';
import { templateFields } from './new-task.js';
import {
  decideAssignment,
  decideComplete,
  decideCreate,
  decideFail,
  decideInput,
  decideInputRequired,
  decidePatch,
  decideProgress,
  type Change,
  type NewTask,
} from '../core/decisions.js';
import { ACTIVE_STATUSES, TASK_STATUSES, rowToTask, type Task, type TaskRow, type TaskStatus } from '../core/task.js';
import { DispatchError, ForbiddenError, InvalidTransitionError, NotFoundError, ValidationError } from '../errors.js';
import {
  CreateTaskBody,
  LIMITS,
  type CompleteTaskBody,
  type FailTaskBody,
  type InputBody,
  type InputRequiredBody,
  type ListTasksQuery,
  type PatchTaskBody,
  type ProgressBody,
} from '../schemas/task.js';
import { recordTransition } from '../observability/metrics.js';
import { IDEMPOTENCY_WINDOW_MS } from './housekeeping.js';
import { committedEvents, eventsOfTask, type CommittedEvents, type EventEnvelope } from '../store/events.js';
import { decideTask } from '../core/assignment.js';
import { planPolicy, planTask } from '../assignment/views.js';
import {
  applyChanges,
  getTaskRow,
  getVersionedTaskRow,
  insertTaskMatched,
  applyWrite,
  insertTaskRow,
  listTaskRows,
  type MatchedCreate,
  lockTaskRow,
  taskExists,
  unversioned,
  writeOf,
} from '../store/tasks.js';
import { inTransaction, type Db, type Tx } from '../store/db.js';
import { dependencyStates, insertEdges, lockDependencies } from '../store/dependencies.js';
import type { DependencyState } from '../core/dependencies.js';
import { decideRedrive } from '../core/dependencies.js';
import { needsSettling, settle } from './dependencies.js';
import { canonical } from '../core/ids.js';
import { checkCallback } from './callbacks.js';
import { checkCall } from './calls.js';
import { claimKey, TASK_KEYS } from '../store/idempotency.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Who is asking: the validated X-Agent-ID and whether the admin token came with it. */
export interface Actor {
  agentId: string;
  isAdmin: boolean;
}

// ---------------------------------------------------------------------------------------------
// Validation shared by HTTP and NATS

const bodyAjv = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false });
addFormats(bodyAjv);
const checkCreateBody = bodyAjv.compile<CreateTaskBody>(CreateTaskBody);

export interface Problem {
  field: string;
  message: string;
}

function ajvProblems(errors: ErrorObject[] | null | undefined): Problem[] {
  return (errors ?? []).map((e) => {
    const params = e.params as Record<string, unknown>;
    const base = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '';
    const extra = (params.additionalProperty ?? params.missingProperty) as string | undefined;
    const field = extra ? [base, extra].filter(Boolean).join('.') : base || 'body';
    return { field, message: params.additionalProperty ? 'is not an accepted field' : (e.message ?? 'is invalid') };
  });
}

/**
 * Validate an untrusted create request exactly as POST /api/v1/tasks does (schema, then the
 * byte-size bounds); for the `swarm.task.request` consumer. Throws ValidationError.
 */
export function parseCreateTaskBody(input: unknown): CreateTaskBody {
  if (!checkCreateBody(input)) {
    const problems = ajvProblems(checkCreateBody.errors);
    throw new ValidationError(`body is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
  }
  checkSizes(input);
  return input;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

function checkSizes(body: { description?: string | null; context?: Record<string, unknown>; target?: unknown }): void {
  const problems: Problem[] = [];
  if (body.target !== undefined && bytes(JSON.stringify(body.target) ?? 'null') > LIMITS.targetBytes) {
    problems.push({ field: 'target', message: `must be at most ${LIMITS.targetBytes} bytes serialized` });
  }
  if (typeof body.description === 'string' && bytes(body.description) > LIMITS.descriptionBytes) {
    problems.push({ field: 'description', message: `must be at most ${LIMITS.descriptionBytes} bytes` });
  }
  if (body.context !== undefined && bytes(JSON.stringify(body.context)) > LIMITS.contextBytes) {
    problems.push({ field: 'context', message: `must be at most ${LIMITS.contextBytes} bytes serialized` });
  }
  if (problems.length) throw new ValidationError(`body is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
}

// ---------------------------------------------------------------------------------------------
// Create

/** A create inside the caller's transaction, with fields only Dispatch sets (schedule_id, scheduled_for, start_by). */
export interface CreateWithin {
  tx: Tx;
  fields?: Partial<Pick<NewTask, 'start_by' | 'schedule_id' | 'scheduled_for'>>;
}

export interface CreateResult {
  task: Task;
  /** false: an idempotent replay returned the original task. */
  created: boolean;
}

/**
 * Create a task from a validated body (run parseCreateTaskBody first for untrusted input that
 * did not go through the route schema). With an idempotency key, the same key + requester
 * within 24 h returns the original task; a different body → 409 idempotency_conflict.
 */
export async function createTask(
  ctx: ServiceContext,
  requester: string,
  body: CreateTaskBody,
  idempotencyKey?: string,
  within?: CreateWithin,
): Promise<CreateResult> {
  checkSizes(body);
  const callback = await checkCallback(ctx, body);
  await checkCall(ctx, body);
  const now = ctx.clock.now();
  const id = randomUUID();
  const dependsOn = body.depends_on ?? [];
  const decided = (deps?: Map<string, DependencyState>) =>
    decideCreate(
      {
        id,
        requester,
        ...templateFields(body, ctx.config.assignment.default_timeout_ms),
        parent_id: body.parent_id ?? null,
        not_before: body.not_before ? new Date(body.not_before) : null,
        depends_on: dependsOn,
        workflow_run_id: null,
        step_id: null,
        start_by: body.start_by ? new Date(body.start_by) : null,
        ...(body.input_timeout_ms !== undefined ? { input_timeout_ms: body.input_timeout_ms } : {}),
        ...within?.fields,
        ...callback,
      },
      now,
      deps,
    );
  const insert = async (db: Db, sink?: CommittedEvents) => {
    if (dependsOn.length === 0) {
      const { row, events } = decided();
      // A plain create outside a transaction may be taken by a free agent at once (§17).
      const match = db === ctx.sql ? syncMatch(ctx, row, now) : undefined;
      if (typeof match === 'string') ctx.metrics.syncMatches.inc({ outcome: match });
      if (!match || typeof match === 'string')
        return db === ctx.sql && sink ? ctx.creates.insert(row, events, now, sink) : insertTaskRow(db, row, events, now, sink);
      const agent = match.assigned.row.assignee!;
      // The slot is counted taken while the statement runs, so creates arriving meanwhile plan
      // against the other agents instead of all asking the database for the same one.
      ctx.slots.taken(agent, now.getTime(), match.assigned.row.assigned_woke === true);
      let outcome: Awaited<ReturnType<typeof insertTaskMatched>>['outcome'] | undefined;
      try {
        const res = await insertTaskMatched(db, { pending: { row, events }, ...match }, now, sink);
        outcome = res.outcome;
        ctx.metrics.syncMatches.inc({ outcome });
        const stored = res.row;
        if (outcome === 'assigned') {
          ctx.versions.put(stored, stored.version);
          if (match.assigned.row.assigned_woke) ctx.agents.wake(agent);
          recordTransition(ctx.metrics, stored);
        } else if (outcome === 'at_limit' || outcome === 'drained') ctx.slots.refused(agent);
        else ctx.slots.queued();
        return unversioned(stored);
      } finally {
        if (outcome !== 'assigned') ctx.slots.released(agent);
      }
    }
    const tx = db as Tx;
    const deps = await lockDependencies(tx, dependsOn);
    const missing = dependsOn.filter((d) => !deps.has(d));
    if (missing.length) {
      throw new ValidationError(
        `depends_on names tasks that do not exist: ${missing.join(', ')}`,
        missing.map((m) => ({ field: `depends_on.${dependsOn.indexOf(m)}`, message: `task ${m} does not exist` })),
      );
    }
    const { row, events } = decided(deps);
    const stored = await insertTaskRow(tx, row, events, now, sink);
    await insertEdges(tx, [stored]);
    return stored;
  };
  const inTx = async (tx: Tx, sink?: CommittedEvents) => {
    if (idempotencyKey !== undefined) {
      const bodyHash = createHash('sha256').update(canonical(body)).digest('hex');
      const claim = await claimKey(
        tx,
        TASK_KEYS,
        { requester, key: idempotencyKey, body_hash: bodyHash, ref: id, created_at: now },
        new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS),
      );
      if (!claim.claimed) {
        if (claim.existing.body_hash !== bodyHash) {
          throw new DispatchError('idempotency_conflict', 409, 'this Idempotency-Key was used with a different body', {
            task_id: claim.existing.ref,
          });
        }
        const original = await getTaskRow(tx, claim.existing.ref);
        if (!original) throw new Error(`idempotency key points at missing task ${claim.existing.ref}`);
        return { row: original, created: false };
      }
    }
    if (body.parent_id && !(await taskExists(tx, body.parent_id))) {
      throw new ValidationError('parent_id does not name an existing task', [{ field: 'parent_id', message: 'does not name an existing task' }]);
    }
    return { row: await insert(tx, sink), created: true };
  };
  // Inside the caller's transaction (a schedule's firing): the caller counts and signals after its commit.
  if (within) return { task: rowToTask((await inTx(within.tx)).row), created: true };
  // The common create (no key, no parent, no dependencies) is one atomic statement, no transaction.
  // Either way its events go out on the relay's fast path once it committed (a new task: no
  // earlier events to wait for).
  const sink = committedEvents();
  const out =
    idempotencyKey === undefined && !body.parent_id && dependsOn.length === 0
      ? { row: await insert(ctx.sql, sink), created: true }
      : await ctx.sql.begin((tx) => inTx(tx, sink));
  ctx.signals.emit('events-committed', sink);
  if (out.created) {
    ctx.metrics.tasksCreated.inc();
    if (out.row.status === 'pending') ctx.signals.emit('assign-needed');
  }
  return { task: rowToTask(out.row), created: out.created };
}

/**
 * The sync match of a new pending task (CONTRACT §17, docs/scheduler.md "Sync match"): planned as
 * the next tick would plan it, against the agents as this replica last knew them (AgentSlots) and
 * the directory's cache — no read, no neighbour call. Undefined when the task is not one to match
 * (off, a call, a flow key, not due yet); `no_view` when nothing recent is known or creates wait
 * behind a refusal, `no_agent` when no agent as last known can take it. The database has the last
 * word either way.
 */
function syncMatch(ctx: ServiceContext, row: TaskRow, now: Date): Omit<MatchedCreate, 'pending'> | 'no_view' | 'no_agent' | undefined {
  // A call task is the executor's (src/calls/), never an agent's. A task with a flow key is never
  // sync-matched: its key's limits and pause are guarded where every start of the key is
  // (dispatch_assign, under the key's row lock); the create pokes the scheduler, which assigns it
  // within a tick (docs/flow-control.md).
  if (
    !ctx.config.assignment.sync_match ||
    row.call !== null ||
    row.flow_key !== null ||
    row.status !== 'pending' ||
    (row.not_before !== null && row.not_before > now)
  )
    return undefined;
  const agents = ctx.slots.current(now.getTime());
  if (!agents) return 'no_view';
  // One task: its decision as a plan of one would make it (planAssignments' working copies of the agents only matter from a second task on).
  const d = decideTask(planTask(row), agents, planPolicy(ctx.config, ctx.agents.known()));
  if (d?.kind !== 'assign') return 'no_agent';
  const c = decideAssignment(row, { agent: d.agent, score: d.score, woke: d.wake }, now, ctx.config.assignment.wake_timeout_ms);
  const tags = agents.find((a) => a.id === d.agent)?.capabilities.map((t) => t.toLowerCase()) ?? [];
  return { assigned: { row: c.next, events: c.events }, agentTags: tags, maxConcurrent: ctx.config.assignment.max_concurrent_per_agent };
}

// ---------------------------------------------------------------------------------------------
// Read

export async function getTask(ctx: ServiceContext, id: string): Promise<Task> {
  const row = await getTaskRow(ctx.sql, id);
  if (!row) throw new NotFoundError('task');
  return rowToTask(row);
}

export async function taskEvents(ctx: ServiceContext, id: string): Promise<EventEnvelope[]> {
  if (!(await taskExists(ctx.sql, id))) throw new NotFoundError('task');
  return eventsOfTask(ctx.sql, id);
}

// Cursor: base64url(JSON {t: created_at with µs, i: id}) + "." + a truncated HMAC. The HMAC key is
// not a secret: it only makes a cursor that was edited by hand fail loudly (400) rather than
// silently point somewhere else.
const CURSOR_KEY = 'dispatch-list-cursor-v1';
const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const cursorMac = (payload: string) => createHmac('sha256', CURSOR_KEY).update(payload).digest().subarray(0, 12);

export function encodeCursor(createdAt: string, id: string): string {
  const payload = Buffer.from(JSON.stringify({ t: createdAt, i: id })).toString('base64url');
  return `${payload}.${cursorMac(payload).toString('base64url')}`;
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const bad = () =>
    new ValidationError('cursor is invalid: pass next_cursor from a previous page unchanged', [
      { field: 'cursor', message: 'is not a cursor issued by this service' },
    ]);
  const [payload, mac, ...rest] = cursor.split('.');
  if (!payload || !mac || rest.length) throw bad();
  const given = Buffer.from(mac);
  const want = Buffer.from(cursorMac(payload).toString('base64url'));
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const p = parsed as { t?: unknown; i?: unknown };
  if (typeof p.t !== 'string' || !CURSOR_TS.test(p.t) || typeof p.i !== 'string' || !UUID_RE.test(p.i)) throw bad();
  return { createdAt: p.t, id: p.i };
}

export interface TaskPage {
  tasks: Task[];
  next_cursor: string | null;
}

export async function listTasks(ctx: ServiceContext, q: ListTasksQuery): Promise<TaskPage> {
  const limit = q.limit ?? LIMITS.listLimitDefault;
  let statuses: TaskStatus[] | undefined;
  if (q.status !== undefined) {
    const parts = q.status.split(',').map((s) => s.trim());
    const unknown = parts.filter((s) => !TASK_STATUSES.includes(s as TaskStatus));
    if (unknown.length || parts.length === 0) {
      throw new ValidationError(`status has unknown value(s): ${unknown.join(', ')}`, [
        { field: 'status', message: `must be a comma list of ${TASK_STATUSES.join(', ')}` },
      ]);
    }
    statuses = [...new Set(parts)] as TaskStatus[];
  }
  const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
  const rows = await listTaskRows(ctx.sql, {
    ...(statuses ? { statuses } : {}),
    ...(q.requester !== undefined ? { requester: q.requester } : {}),
    ...(q.assignee !== undefined ? { assignee: q.assignee } : {}),
    ...(q.scope !== undefined ? { scope: q.scope } : {}),
    ...(q.owner !== undefined ? { owner: q.owner } : {}),
    ...(q.workflow_run_id !== undefined ? { workflowRunId: q.workflow_run_id } : {}),
    ...(q.schedule_id !== undefined ? { scheduleId: q.schedule_id } : {}),
    ...(after ? { after } : {}),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    tasks: page.map(rowToTask),
    next_cursor: rows.length > limit && last ? encodeCursor(last.cursor_ts, last.id) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Writes: load the row, decide (core/decisions.ts), compare-and-set exactly what was decided.

/** A write and what it set off around it (dependents released or cancelled, runs re-derived). */
export interface Written {
  change: Change;
  others: Change[];
}

/**
 * Decide on the locked row and apply in the same transaction (the guard cannot lose), settling
 * its consequences for dependents and runs there too: PATCH, manual retry, and reports that
 * lost their optimistic rounds.
 */
async function writeLocked(ctx: ServiceContext, id: string, decide: (row: TaskRow) => Change): Promise<Written> {
  const { written, sink } = await inTransaction(ctx.sql, async (tx: Tx) => {
    // A fresh sink per attempt: inTransaction retries a deadlocked transaction.
    const sink = committedEvents();
    ctx.versions.forget(id);
    const row = await lockTaskRow(tx, id);
    if (!row) throw new NotFoundError('task');
    const c = decide(row);
    if (!(await applyChanges(tx, [c], c.next.updated_at, sink)).has(id)) throw new InvalidTransitionError(id, row.status, c.next.status);
    const settled = await settle(tx, [c], c.next.updated_at);
    return { written: { change: c, others: settled.changes }, sink };
  });
  // The task's own events on the fast path; what settling wrote for others (their events, a run's)
  // goes through the relay: wake it, and the other replicas (events/wakes.ts).
  ctx.signals.emit('events-committed', sink);
  ctx.signals.emit('events-written');
  return written;
}

/** Optimistic rounds before a report falls back to the row lock (each lost round means another write won). */
const CAS_ROUNDS = 4;

/**
 * The worker reports' write: read the row with its version (no lock), decide, and apply with one
 * optimistic compare-and-set statement that also inserts the events — two round trips and no
 * held lock, where the locked path needs five; ONE when this replica wrote the row last (its
 * assignment, sync match or the previous report: store/versions.ts), since the version it then
 * got stands in for the read. A decision that refuses on such a remembered row is made again on
 * a fresh read before the refusal is answered. A round lost to a concurrent write reads and
 * decides again (so a report racing a re-assignment sees the new state and gets its 409/403);
 * after CAS_ROUNDS lost rounds it takes the row lock instead. A report that ends a task with
 * dependents or in a workflow run applies the same compare-and-set inside a transaction that
 * then settles the dependents and the run (services/dependencies.ts).
 */
export async function writeReport(ctx: ServiceContext, id: string, decide: (row: TaskRow) => Change): Promise<Written> {
  let remembered = ctx.versions.take(id);
  for (let round = 0; round < CAS_ROUNDS; round++) {
    const read = remembered ?? (await getVersionedTaskRow(ctx.sql, id));
    const fresh = remembered === undefined;
    remembered = undefined;
    if (!read) throw new NotFoundError('task');
    let c: Change;
    try {
      c = decide(unversioned(read));
    } catch (err) {
      if (fresh) throw err;
      round--; // the remembered row may be out of date: decide again on the row as it is
      continue;
    }
    const write = writeOf(c, read.version);
    if (!needsSettling(c)) {
      const sink = committedEvents();
      const version = await ctx.reports.write(write, sink);
      if (version !== undefined) {
        ctx.versions.put(c.next, version);
        ctx.signals.emit('events-committed', sink);
        return { change: c, others: [] };
      }
      continue;
    }
    const done = await inTransaction(ctx.sql, async (tx: Tx) => {
      const sink = committedEvents();
      if ((await applyWrite(tx, write, c.next.updated_at, sink)) === undefined) return undefined;
      return { written: { change: c, others: (await settle(tx, [c], c.next.updated_at)).changes }, sink };
    });
    if (done) {
      ctx.versions.forget(id);
      ctx.signals.emit('events-committed', done.sink);
      ctx.signals.emit('events-written'); // what settling wrote (as writeLocked)
      return done.written;
    }
  }
  return writeLocked(ctx, id, decide);
}

/** A task that left assigned/running through this replica frees its agent's slot for the sync match. */
export function freeSlot(ctx: ServiceContext, before: TaskRow, next: TaskRow): void {
  if (before.assignee && ACTIVE_STATUSES.includes(before.status) && !ACTIVE_STATUSES.includes(next.status)) ctx.slots.freed(before.assignee);
}

/** Metrics and wake-ups for what a write set off around it (after the commit). */
export function afterSettled(ctx: ServiceContext, others: Change[]): void {
  announceChanges(ctx, others);
  for (const o of others) recordTransition(ctx.metrics, o.next);
  if (others.some((o) => o.next.status === 'pending')) ctx.signals.emit('assign-needed');
}

/**
 * A call task is performed by Dispatch (§18.1): no report over the API or NATS applies to it,
 * whoever claims to be its assignee (403 not_assignee).
 */
function worker(row: TaskRow): TaskRow {
  if (row.call !== null) throw new DispatchError('not_assignee', 403, `task ${row.id} is a call task: Dispatch performs it, no agent reports on it`);
  return row;
}

export const backoffPolicy = (ctx: Pick<ServiceContext, 'config'>) => ({
  baseMs: ctx.config.assignment.retry_backoff_base_ms,
  maxMs: ctx.config.assignment.retry_backoff_max_ms,
});

export async function completeTask(ctx: ServiceContext, agent: string, id: string, body: CompleteTaskBody): Promise<Task> {
  const now = ctx.clock.now();
  const {
    change: { before, next },
    others,
  } = await writeReport(ctx, id, (row) => decideComplete(worker(row), agent, body.result, now));
  freeSlot(ctx, before, next);
  recordTransition(ctx.metrics, next);
  ctx.signals.emit('assign-needed', 'freed');
  afterSettled(ctx, others);
  return rowToTask(next);
}

export async function failTask(ctx: ServiceContext, agent: string, id: string, body: FailTaskBody): Promise<Task> {
  const now = ctx.clock.now();
  let retried = false;
  const {
    change: { before, next },
    others,
  } = await writeReport(ctx, id, (row) => {
    const c = decideFail(worker(row), agent, body, backoffPolicy(ctx), ctx.random, now);
    retried = c.retried;
    return c;
  });
  freeSlot(ctx, before, next);
  recordTransition(ctx.metrics, next, retried ? 'failed' : undefined);
  afterSettled(ctx, others);
  if (retried) ctx.signals.emit('assign-needed');
  else ctx.signals.emit('assign-needed', 'freed');
  return rowToTask(next);
}

export async function reportProgress(ctx: ServiceContext, agent: string, id: string, body: ProgressBody): Promise<Task> {
  const now = ctx.clock.now();
  const {
    change: { before, next },
  } = await writeReport(ctx, id, (row) => decideProgress(worker(row), agent, body, now));
  if (before.status !== next.status) recordTransition(ctx.metrics, next);
  return rowToTask(next);
}

export async function patchTask(ctx: ServiceContext, actor: Actor, id: string, body: PatchTaskBody): Promise<Task> {
  if (body.status === undefined && body.context === undefined && body.priority === undefined && body.target === undefined && body.duration_ms === undefined) {
    throw new ValidationError('nothing to change: give status, context, priority, target or duration_ms', [
      { field: 'body', message: 'must have at least one of status, context, priority, target, duration_ms' },
    ]);
  }
  checkSizes(body);
  const now = ctx.clock.now();
  const {
    change: { before, next },
    others,
  } = await writeLocked(ctx, id, (row) => {
    if (row.requester !== actor.agentId && !actor.isAdmin) {
      throw new ForbiddenError(`only the requester of task ${id} or an admin may change it`);
    }
    return decidePatch(row, body, now, LIMITS.contextBytes);
  });
  if (before.status !== next.status) {
    recordTransition(ctx.metrics, next);
    freeSlot(ctx, before, next);
    if (ACTIVE_STATUSES.includes(before.status)) ctx.signals.emit('assign-needed', 'freed');
  }
  afterSettled(ctx, others);
  return rowToTask(next);
}

/**
 * Manual retry (redrive) by the requester or an admin: a failed, timed-out or cancelled task goes
 * back to pending (or waiting, when its dependencies are not all completed), with a fresh retry
 * budget; the tasks its failure cancelled return to waiting, and its run to running.
 */
export async function retryTask(ctx: ServiceContext, actor: Actor, id: string): Promise<Task> {
  const now = ctx.clock.now();
  const {
    change: { next },
    others,
  } = await inTransaction(ctx.sql, async (tx: Tx) => {
    const row = await lockTaskRow(tx, id);
    if (!row) throw new NotFoundError('task');
    if (row.requester !== actor.agentId && !actor.isAdmin) {
      throw new ForbiddenError(`only the requester of task ${id} or an admin may retry it`);
    }
    const c = decideRedrive(row, await dependencyStates(tx, row.depends_on), now);
    if (!(await applyChanges(tx, [c], now)).has(id)) throw new InvalidTransitionError(id, row.status, c.next.status);
    return { change: c, others: (await settle(tx, [c], now)).changes };
  });
  announceChanges(ctx, [{ next }]);
  recordTransition(ctx.metrics, next);
  if (next.status === 'pending') ctx.signals.emit('assign-needed');
  afterSettled(ctx, others);
  return rowToTask(next);
}

// ---------------------------------------------------------------------------------------------
// Input required (§21.1, docs/agent-doors.md)

function checkJsonBytes(field: string, value: unknown, max: number): void {
  if (value !== undefined && bytes(JSON.stringify(value) ?? 'null') > max) {
    throw new ValidationError(`${field} must be at most ${max / 1024} KiB serialized`, [{ field, message: `must be at most ${max} bytes serialized` }]);
  }
}

/** The assignee of a running task asks its requester: input_required (the slot stays taken). */
export async function requestInput(ctx: ServiceContext, agent: string, id: string, body: InputRequiredBody): Promise<Task> {
  checkJsonBytes('schema', body.schema, LIMITS.inputSchemaBytes);
  const now = ctx.clock.now();
  const {
    change: { next },
  } = await writeReport(ctx, id, (row) => decideInputRequired(worker(row), agent, { question: body.question, schema: body.schema ?? null }, now));
  recordTransition(ctx.metrics, next);
  return rowToTask(next);
}

/** The requester (or an admin) answers: running again for the same assignee, event input_received. */
export async function answerTask(ctx: ServiceContext, actor: Actor, id: string, body: InputBody): Promise<Task> {
  checkJsonBytes('answer', body.answer, LIMITS.answerBytes);
  const now = ctx.clock.now();
  const {
    change: { next },
  } = await writeLocked(ctx, id, (row) => {
    if (row.requester !== actor.agentId && !actor.isAdmin) {
      throw new ForbiddenError(`only the requester of task ${id} or an admin may answer it`);
    }
    return decideInput(row, body.answer, now);
  });
  recordTransition(ctx.metrics, next);
  return rowToTask(next);
}
