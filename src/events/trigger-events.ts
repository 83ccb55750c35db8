// `swarm.trigger.<type>` → a trigger event (CONTRACT §19.1), validated exactly as
// POST /api/v1/trigger-events. The message is the POST body itself, or a swarm envelope whose
// `data` is (with `requester` beside the body's fields, as for swarm.task.request). The subject's
// last token is the type; a body `type` must agree with it. The envelope id, else the
// Nats-Msg-Id header, doubles as the Idempotency-Key (`nats:<id>`), so a redelivered message, or
// one two replicas both receive, starts its runs once; a message with neither is a new event
// each time it arrives.
import { Ajv } from 'ajv';
import type { DispatchContext } from '../context.js';
import { DispatchError } from '../errors.js';
import { isAgentId, isObject } from '../core/ids.js';
import { postTriggerEvent, type TriggerEvent } from '../services/triggers.js';
import { TriggerEventBody } from '../schemas/trigger.js';
import { InvalidTaskRequest } from './task-requests.js';

export const TRIGGER_SUBJECT = 'swarm.trigger.*';
/** The runs' requester when the message names none. */
export const NATS_TRIGGER_REQUESTER = 'dispatch:nats';

const KEY = /^[A-Za-z0-9._:@-]{1,200}$/;
const checkBody = new Ajv({ allErrors: true, strict: false }).compile<TriggerEventBody>(TriggerEventBody);

export interface TriggerMessage {
  requester: string;
  body: TriggerEventBody;
  idempotencyKey?: string;
}

/** Parse and validate one message; throws InvalidTaskRequest (400 validation_failed) on anything malformed. */
export function parseTriggerMessage(subject: string, payload: string, msgId?: string): TriggerMessage {
  const type = subject.split('.')[2];
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new InvalidTaskRequest('payload is not JSON');
  }
  if (!isObject(parsed)) throw new InvalidTaskRequest('payload is not an object');
  const enveloped = isObject(parsed.data);
  const data = (enveloped ? parsed.data : parsed) as Record<string, unknown>;
  const { requester: given, ...rest } = data;
  const source = enveloped ? parsed.source : undefined;
  const requester = isAgentId(given) ? given : isAgentId(source) ? source : NATS_TRIGGER_REQUESTER;
  if (rest.type !== undefined && rest.type !== type) {
    throw new InvalidTaskRequest(`type "${String(rest.type)}" does not match the subject ${subject}`, [
      { field: 'type', message: `must equal the subject's last token "${type}"` },
    ]);
  }
  const body = { ...rest, type };
  if (!checkBody(body)) {
    const problems = (checkBody.errors ?? []).map((e) => ({
      field: e.instancePath.slice(1).replace(/\//g, '.') || 'body',
      message: e.message ?? 'is invalid',
    }));
    throw new InvalidTaskRequest(`body is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
  }
  const id = enveloped && typeof parsed.id === 'string' ? parsed.id : msgId;
  return { requester, body, ...(id !== undefined && KEY.test(id) ? { idempotencyKey: `nats:${id}` } : {}) };
}

export type TriggerOutcome = { ok: true; event: TriggerEvent; created: boolean } | { ok: false; error: DispatchError };

/** Handle one message; never throws for bad input (returns the error instead). */
export async function handleTriggerMessage(ctx: DispatchContext, subject: string, payload: string, msgId?: string): Promise<TriggerOutcome> {
  try {
    const m = parseTriggerMessage(subject, payload, msgId);
    const { event, created } = await postTriggerEvent(ctx, m.requester, m.body, m.idempotencyKey);
    return { ok: true, event, created };
  } catch (err) {
    if (err instanceof DispatchError) return { ok: false, error: err };
    throw err;
  }
}
