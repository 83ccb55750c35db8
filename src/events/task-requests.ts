// `swarm.task.request` → a task, validated exactly as POST /api/v1/tasks (services/tasks.ts).
// `data` is the POST body plus `requester` (the agent asking, X-Agent-ID rules). The envelope id
// doubles as the Idempotency-Key (`nats:<id>`), so a redelivered request creates one task. With a
// reply subject, the requester gets the task (or the contract error body) back.
import type { Msg } from '@nats-io/nats-core';
import type { DispatchContext } from '../context.js';
import { DispatchError } from '../errors.js';
import { createTask, parseCreateTaskBody } from '../services/tasks.js';
import type { Task } from '../core/task.js';
import { AGENT_ID_RULE, isAgentId, isObject } from '../core/ids.js';

const KEY = /^[A-Za-z0-9._:@-]{1,200}$/;

export class InvalidTaskRequest extends DispatchError {
  constructor(message: string, details?: unknown) {
    super('validation_failed', 400, message, details);
  }
}

export interface TaskRequest {
  requester: string;
  body: unknown;
  idempotencyKey?: string;
}

/** Parse the envelope; the body itself is validated by parseCreateTaskBody. */
export function parseTaskRequest(payload: string): TaskRequest {
  let env: unknown;
  try {
    env = JSON.parse(payload);
  } catch {
    throw new InvalidTaskRequest('payload is not JSON');
  }
  if (!isObject(env)) throw new InvalidTaskRequest('envelope is not an object');
  const { id, data } = env;
  if (!isObject(data)) throw new InvalidTaskRequest('envelope has no data object');
  const { requester: given, submitter, ...rest } = data;
  const requester = given ?? submitter;
  const body = v1Aliases(rest);
  if (!isAgentId(requester)) {
    throw new InvalidTaskRequest(`data.requester must be ${AGENT_ID_RULE}`, [{ field: 'requester', message: `is required: ${AGENT_ID_RULE}` }]);
  }
  return { requester, body, ...(typeof id === 'string' && KEY.test(id) ? { idempotencyKey: `nats:${id}` } : {}) };
}

/**
 * The swarm's v1 request dialect (docs/callbacks.md): `required_capabilities` for capabilities,
 * `metadata` for context, `timeout_seconds` for timeout_ms / 1000, `source` ignored (`submitter`
 * for requester is handled by the caller). The canonical field wins when both are given.
 */
export function v1Aliases(data: Record<string, unknown>): Record<string, unknown> {
  const { source: _source, required_capabilities, metadata, timeout_seconds, ...body } = data;
  if (required_capabilities !== undefined && body.capabilities === undefined) body.capabilities = required_capabilities;
  if (metadata !== undefined && body.context === undefined) body.context = metadata;
  if (timeout_seconds !== undefined && body.timeout_ms === undefined) {
    if (typeof timeout_seconds !== 'number' || !Number.isFinite(timeout_seconds) || timeout_seconds <= 0) {
      throw new InvalidTaskRequest('data.timeout_seconds must be a positive number', [{ field: 'timeout_seconds', message: 'must be a positive number' }]);
    }
    body.timeout_ms = Math.max(1, Math.round(timeout_seconds * 1000));
  }
  return body;
}

export type TaskRequestOutcome = { ok: true; task: Task; created: boolean } | { ok: false; error: DispatchError };

/** Handle one request message; never throws for bad input (returns the error instead). */
export async function handleTaskRequest(ctx: DispatchContext, payload: string): Promise<TaskRequestOutcome> {
  try {
    const req = parseTaskRequest(payload);
    const body = parseCreateTaskBody(req.body);
    const { task, created } = await createTask(ctx, req.requester, body, req.idempotencyKey);
    return { ok: true, task, created };
  } catch (err) {
    if (err instanceof DispatchError) return { ok: false, error: err };
    throw err;
  }
}

export function replyTo(msg: Msg, out: TaskRequestOutcome): void {
  if (!msg.reply) return;
  const body = out.ok
    ? out.task
    : { error: out.error.message, code: out.error.code, ...(out.error.details !== undefined ? { details: out.error.details } : {}) };
  msg.respond(JSON.stringify(body));
}
