// Signed webhooks in (docs/webhooks.md): POST /api/v1/hooks/:source from a system that cannot
// send X-Agent-ID. A delivery is judged in this order, each step refusing with nothing stored:
//   unknown source 404 → signature 401 → body a JSON object 400 → event not listed 202 ignored →
//   delivery id missing 400 → filled task/run invalid 422 → claim the delivery id and create
//   the task or run in ONE transaction (a repeated id → 200 with the first) → 201.
// The HMAC is computed over the raw bytes, before any parsing, and compared in constant time.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ServiceContext } from '../context.js';
import { announceEvents } from './announce.js';
import type { IntakeSource } from '../config.js';
import { decideCreate } from '../core/decisions.js';
import { templateFields } from './new-task.js';
import { acceptsEvent, DELIVERY_ID_MAX, fillTemplate, signatureBytes } from '../core/hooks.js';
import { isObject } from '../core/ids.js';
import { rowToTask, type Task, type TaskRow } from '../core/task.js';
import type { Run } from '../core/workflow.js';
import { DispatchError, NotFoundError, ValidationError } from '../errors.js';
import { findBodyProblem } from '../core/json-guard.js';
import { LIMITS, type CreateTaskBody } from '../schemas/task.js';
import { inTransaction, type Tx } from '../store/db.js';
import { claimDelivery, type DeliveryRecord } from '../store/hooks.js';
import { getTaskRow, insertTaskRow } from '../store/tasks.js';
import { parseCreateTaskBody } from './tasks.js';
import { getRunById, startRunIn } from './workflows.js';

export interface Delivery {
  source: string;
  /** Request headers (names lower-case, as Node gives them). */
  headers: Record<string, string | string[] | undefined>;
  /** The body exactly as received: what the sender signed. */
  rawBody: Buffer;
}

export type DeliveryResult =
  | { outcome: 'ignored'; event: string | undefined }
  | { outcome: 'created' | 'replayed'; task: Task }
  | { outcome: 'created' | 'replayed'; run: Run }
  /** A replay whose first task/run was deleted since (retention): nothing to return, nothing created. */
  | { outcome: 'replayed' };

function header(headers: Delivery['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return typeof v === 'string' ? v : undefined;
}

/** The configured source, own keys only (`/hooks/__proto__` is just unknown). */
export function hookSource(ctx: Pick<ServiceContext, 'config'>, name: string): IntakeSource | undefined {
  return Object.prototype.hasOwnProperty.call(ctx.config.intake, name) ? ctx.config.intake[name] : undefined;
}

/** HMAC-SHA256(secret, raw body) against the header's `sha256=<hex>`; equal lengths are compared in constant time, other lengths do not match. */
export function signatureMatches(secret: string, rawBody: Buffer, headerValue: string | undefined): boolean {
  const claimed = signatureBytes(headerValue);
  if (!claimed) return false;
  const actual = createHmac('sha256', secret).update(rawBody).digest();
  return claimed.length === actual.length && timingSafeEqual(actual, claimed);
}

function parsePayload(raw: Buffer): Record<string, unknown> {
  let payload: unknown;
  try {
    payload = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ValidationError('request body is not valid JSON');
  }
  if (!isObject(payload)) throw new ValidationError('request body must be a JSON object', [{ field: 'body', message: 'must be a JSON object' }]);
  const problem = findBodyProblem(payload);
  if (problem) throw new ValidationError(`body is invalid: ${problem.field} ${problem.message}`, [problem]);
  return payload;
}

/** A payload that fills the template into something POST /api/v1/tasks would refuse: the sender's request was fine, the result is not. */
function invalidPayload(err: unknown, what: string): never {
  if (err instanceof ValidationError) {
    throw new DispatchError('invalid_payload', 422, `the payload makes an invalid ${what}: ${err.message.replace(/^body is invalid: /, '')}`, err.details);
  }
  throw err;
}

export async function receiveDelivery(ctx: ServiceContext, d: Delivery): Promise<DeliveryResult> {
  const source = hookSource(ctx, d.source);
  if (!source) throw new NotFoundError('hook source');
  const log = ctx.logger.child({ component: 'hooks', source: d.source });

  if (!signatureMatches(source.secret, d.rawBody, header(d.headers, source.signature_header))) {
    log.warn({ bytes: d.rawBody.length }, 'webhook delivery refused: signature missing or wrong');
    throw new DispatchError(
      'invalid_signature',
      401,
      `signature missing or wrong: ${source.signature_header} must be sha256=<hex of HMAC-SHA256(secret, raw body)>`,
    );
  }
  const payload = parsePayload(d.rawBody);

  const event = source.event_header ? header(d.headers, source.event_header) : undefined;
  if (!acceptsEvent(source, event)) {
    log.debug({ event }, 'webhook event not listed: ignored');
    return { outcome: 'ignored', event };
  }

  let deliveryId: string | undefined;
  if (source.delivery_header) {
    deliveryId = header(d.headers, source.delivery_header)?.trim();
    if (!deliveryId || deliveryId.length > DELIVERY_ID_MAX) {
      throw new ValidationError(`${source.delivery_header} is required: the delivery id, 1..${DELIVERY_ID_MAX} characters`, [
        { field: source.delivery_header, message: `must be a delivery id of 1..${DELIVERY_ID_MAX} characters` },
      ]);
    }
  }

  const requester = source.requester ?? d.source;
  const now = ctx.clock.now();
  const claim = (tx: Tx, ids: Pick<DeliveryRecord, 'task_id' | 'run_id'>) =>
    deliveryId === undefined
      ? Promise.resolve({ claimed: true as const })
      : claimDelivery(tx, { source: d.source, delivery_id: deliveryId, created_at: now, ...ids });

  if (source.task) {
    const filled = fillTemplate(source.task, payload);
    let body: CreateTaskBody;
    try {
      body = parseCreateTaskBody({ ...filled, context: { ...(isObject(filled.context) ? filled.context : {}), payload } });
    } catch (err) {
      invalidPayload(err, 'task');
    }
    const id = randomUUID();
    const out = await inTransaction(ctx.sql, async (tx: Tx) => {
      const c = await claim(tx, { task_id: id, run_id: null });
      if (!c.claimed) return { created: false as const, taskId: c.existing.task_id, runId: c.existing.run_id };
      const { row, events } = decideCreate(newTask(ctx, id, requester, body), now);
      return { created: true as const, row: await insertTaskRow(tx, row, events, now) };
    });
    if (out.created) {
      announceEvents(ctx);
      ctx.metrics.tasksCreated.inc();
      if (out.row.status === 'pending') ctx.signals.emit('assign-needed');
      log.info({ delivery: deliveryId, event, task_id: out.row.id }, 'webhook delivery created a task');
      return { outcome: 'created', task: rowToTask(out.row) };
    }
    return replayed(ctx, out.taskId, out.runId);
  }

  const wf = source.workflow!;
  const runContext = { ...fillTemplate(wf.context ?? {}, payload), payload };
  if (Buffer.byteLength(JSON.stringify(runContext), 'utf8') > LIMITS.contextBytes) {
    invalidPayload(
      new ValidationError('context is too large', [{ field: 'context', message: `must be at most ${LIMITS.contextBytes} bytes serialized` }]),
      'run',
    );
  }
  const runId = randomUUID();
  const out = await inTransaction(ctx.sql, async (tx: Tx) => {
    const c = await claim(tx, { task_id: null, run_id: runId });
    if (!c.claimed) return { created: false as const, taskId: c.existing.task_id, runId: c.existing.run_id };
    return { created: true as const, rows: await startRunIn(ctx, tx, requester, wf.key, runContext, now, runId) };
  });
  if (out.created) {
    announceEvents(ctx);
    ctx.metrics.tasksCreated.inc(out.rows.length);
    if (out.rows.some((r: TaskRow) => r.status === 'pending')) ctx.signals.emit('assign-needed');
    log.info({ delivery: deliveryId, event, run_id: runId }, 'webhook delivery started a run');
    return { outcome: 'created', run: await getRunById(ctx, runId) };
  }
  return replayed(ctx, out.taskId, out.runId);
}

async function replayed(ctx: ServiceContext, taskId: string | null, runId: string | null): Promise<DeliveryResult> {
  if (taskId) {
    const row = await getTaskRow(ctx.sql, taskId);
    return row ? { outcome: 'replayed', task: rowToTask(row) } : { outcome: 'replayed' };
  }
  if (runId) {
    try {
      return { outcome: 'replayed', run: await getRunById(ctx, runId) };
    } catch (err) {
      if (err instanceof NotFoundError) return { outcome: 'replayed' };
      throw err;
    }
  }
  return { outcome: 'replayed' };
}

/** The new task of a validated body, as createTask builds it (a hook task has no parent and no dependencies: config-intake.ts). */
function newTask(ctx: Pick<ServiceContext, 'config'>, id: string, requester: string, body: CreateTaskBody) {
  return {
    id,
    requester,
    ...templateFields(body, ctx.config.assignment.default_timeout_ms),
    parent_id: null,
    not_before: body.not_before ? new Date(body.not_before) : null,
    depends_on: [],
    workflow_run_id: null,
    step_id: null,
  };
}
