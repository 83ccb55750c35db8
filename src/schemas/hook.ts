// TypeBox schemas of the signed webhook route (openapi.yaml; docs/webhooks.md). The body is not
// described by a schema: it is read raw (what the sender signed) and parsed after the signature check.
import { Type, type TSchema } from '@sinclair/typebox';
import { errorResponses } from './common.js';
import { TaskSchema } from './task.js';
import { RunSchema } from './workflow.js';

export const HookParams = Type.Object(
  { source: Type.String({ minLength: 1, maxLength: 100, description: 'A source configured under intake: (unknown → 404)' }) },
  { additionalProperties: false },
);

/** The security scheme of the route in openapi.yaml (components.securitySchemes). */
export const HOOK_SIGNATURE_SCHEME = {
  type: 'apiKey',
  in: 'header',
  name: 'X-Hub-Signature-256',
  description:
    "Per source: the header named by intake.<source>.signature_header (GitHub's X-Hub-Signature-256 shown) carries sha256=<hex of HMAC-SHA256(intake.<source>.secret, raw body)>. No X-Agent-ID.",
} as const;
export const HOOK_SECURITY = [{ hookSignature: [] as string[] }];

export const HookRequestBody = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      'The payload: a JSON object (any Content-Type), read as raw bytes for the signature check, then parsed. Placeholders {{a.b.0.c}} of the source template are filled from it; the task (or run) gets it whole as context.payload.',
  },
);

export const HookCreated = Type.Union([
  Type.Object({ task: TaskSchema }, { additionalProperties: false }),
  Type.Object({ run: RunSchema }, { additionalProperties: false }),
]);

export const HookReplayed = Type.Union([
  Type.Object({ task: TaskSchema }, { additionalProperties: false }),
  Type.Object({ run: RunSchema }, { additionalProperties: false }),
  Type.Object(
    { duplicate: Type.Literal(true, { description: 'The first task/run of this delivery id is no longer stored (retention)' }) },
    { additionalProperties: false },
  ),
]);

export const HookIgnored = Type.Object({ ignored: Type.Literal(true) }, { additionalProperties: false });

/** Every status the route can answer (no 415: any Content-Type is read as bytes). */
export function hookResponses(): Record<number, TSchema> {
  const errors = errorResponses(400, 404, 413, 422);
  return {
    201: { ...HookCreated, description: 'Created: the task of a task source, or the run of a workflow source' } as TSchema,
    200: { ...HookReplayed, description: 'A repeated delivery id: the task/run the first delivery created, nothing new' } as TSchema,
    202: { ...HookIgnored, description: 'The event type (event_header) is not in the source’s events: acknowledged, nothing stored' } as TSchema,
    ...errors,
    400: { ...errors[400]!, description: 'validation_failed: the body is not a JSON object, or the configured delivery header is missing' } as TSchema,
    401: { ...errors[401]!, description: 'invalid_signature: the signature header is missing, malformed or does not match the raw body' } as TSchema,
    404: { ...errors[404]!, description: 'not_found: no such source (or its workflow is not stored)' } as TSchema,
    422: {
      ...errors[422]!,
      description:
        'invalid_payload: the payload fills the template into a task (or run context) that POST /api/v1/tasks would refuse; details lists the problems',
    } as TSchema,
    429: { ...errors[429]!, description: 'rate_limited: the per-client-address token bucket of the hook route is empty; see Retry-After' } as TSchema,
  };
}
