// TypeBox schema of a call (CONTRACT §18.1, docs/calls.md): an HTTP request Dispatch performs
// itself for a call task (a task, a workflow step or a template carrying `call`). Shared by the
// task API (create, templates) and the workflow definitions (whose steps also take the Wisely
// seed's string form: `call: "/path"` with method/timeout_ms/headers/credential beside it).
import { Type, type Static } from '@sinclair/typebox';
import { CALL_BOUNDS, CALL_METHOD_NAMES } from '../core/call-spec.js';
import { named } from './components.js';

/** Bounds of a call's fields (the attempt's are core/call-spec.ts CALL_BOUNDS). */
const CALL_LIMITS = {
  urlMax: 2048,
  headersMax: 32,
  headerNameMax: 128,
  headerValueMax: 4096,
  credentialMax: 64,
  timeoutMsMin: 100,
} as const;

export const CallMethodSchema = Type.Union(
  CALL_METHOD_NAMES.map((m) => Type.Literal(m)),
  { description: 'Default POST' },
);

export const CallUrl = Type.String({
  minLength: 1,
  maxLength: CALL_LIMITS.urlMax,
  pattern: '^([Hh][Tt][Tt][Pp][Ss]?://|/)',
  description: 'An absolute http(s) URL, or a path joined to http_work.base_url',
});

export const CallHeaders = Type.Record(
  Type.String({ minLength: 1, maxLength: CALL_LIMITS.headerNameMax, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }),
  Type.String({ maxLength: CALL_LIMITS.headerValueMax }),
  { maxProperties: CALL_LIMITS.headersMax, description: 'Extra request headers; Authorization, X-Idempotency-Key and X-Dispatch-* are Dispatch’s' },
);

export const CallCredential = Type.String({
  minLength: 1,
  maxLength: CALL_LIMITS.credentialMax,
  pattern: '^[A-Za-z0-9_.-]+$',
  description: 'A name in http_work.credentials: sent as Authorization: Bearer <secret> (never logged or returned)',
});

export const CallTimeoutMs = Type.Integer({
  minimum: CALL_LIMITS.timeoutMsMin,
  maximum: 2_147_483_647,
  description: `Per attempt, 100..the task timeout_ms; default ${CALL_BOUNDS.timeoutMsDefault}`,
});

export const CallSchema = named(
  'Call',
  Type.Object(
    {
      url: CallUrl,
      method: Type.Optional(CallMethodSchema),
      headers: Type.Optional(CallHeaders),
      credential: Type.Optional(CallCredential),
      body: Type.Optional(Type.Unknown({ description: "JSON sent as the request body; default the task's context; none for GET" })),
      timeout_ms: Type.Optional(CallTimeoutMs),
    },
    {
      additionalProperties: false,
      description:
        'An HTTP request Dispatch performs for the task (CONTRACT §18.1, docs/calls.md): assignee dispatch:http, never an agent. Every attempt sends Authorization (the credential, else http_work.service_token), X-Idempotency-Key: <task id> (the same on every attempt), X-Dispatch-Task-Id, X-Dispatch-Attempt. 2xx → completed with the body (non-JSON: {status, body}); {"ok": false}, 408/425/429/5xx, a connection error → retried (Retry-After honoured); the timeout → timeout; other statuses → failed at once; text/event-stream and application/x-ndjson answers → a progress report per event, the last one the result. Refused at create: a path without http_work.base_url, an unknown credential, a reserved header, timeout_ms above the task timeout (400 validation_failed); a host resolving to a loopback, private or link-local address not in http_work.allowed_hosts (400 call_not_allowed)',
    },
  ),
);
export type Call = Static<typeof CallSchema>;
