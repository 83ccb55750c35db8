// Schemas of delivery without NATS (docs/waiting.md): the wait parameter, the long-poll answer,
// the SSE headers and the firehose filters.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { EVENT_TYPES } from '../core/task.js';
import { TaskSchema } from './task.js';
import { named } from './components.js';

export const MAX_WAIT_SECONDS = 60;
export const RUN_EVENT_TYPES = ['created', 'completed', 'failed', 'cancelled'] as const;
/** Every envelope type the firehose can carry. */
export const STREAM_EVENT_TYPES: readonly string[] = [...EVENT_TYPES.map((t) => `task.${t}`), ...RUN_EVENT_TYPES.map((t) => `run.${t}`)];

const Wait = Type.Integer({
  minimum: 0,
  maximum: MAX_WAIT_SECONDS,
  default: 0,
  description: 'Seconds to hold the request (0..60, default 0 = answer at once)',
});

export const WaitQuery = Type.Object({ wait: Type.Optional(Wait) }, { additionalProperties: false });
export type WaitQuery = Static<typeof WaitQuery>;

export const AssignmentListSchema = named(
  'AssignmentList',
  Type.Object(
    { tasks: Type.Array(TaskSchema, { maxItems: 100 }) },
    { additionalProperties: false, description: "The agent's assigned tasks, oldest assignment first, at most 100 (empty when the wait ran out)" },
  ),
);

export const StreamHeaders = Type.Object({
  accept: Type.Optional(Type.String({ description: 'text/event-stream for the SSE stream' })),
  'last-event-id': Type.Optional(Type.String({ maxLength: 128, description: 'Resume after this event id (SSE)' })),
});

const TYPE_LIST = `^(${STREAM_EVENT_TYPES.map((t) => t.replace('.', '\\.')).join('|')}|${EVENT_TYPES.join('|')})(,(${STREAM_EVENT_TYPES.map((t) => t.replace('.', '\\.')).join('|')}|${EVENT_TYPES.join('|')}))*$`;

export const FirehoseQuery = Type.Object(
  {
    type: Type.Optional(
      Type.String({
        pattern: TYPE_LIST,
        description: 'Comma list of envelope types (task.completed, run.failed, …); a bare task type (completed) means task.<type>',
      }),
    ),
    requester: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type FirehoseQuery = Static<typeof FirehoseQuery>;

const SSE_DESCRIPTION =
  'Server-sent events: frames `id: <event id>` / `event: <envelope type>` / `data: <envelope JSON>`, oldest first; a comment line every 15 s; resume with Last-Event-ID.';

/** A 200 whose body is text/event-stream (optionally also JSON with `json`). */
export function streamResponse(description: string, json?: TSchema): TSchema {
  return {
    description,
    content: {
      ...(json ? { 'application/json': { schema: json } } : {}),
      'text/event-stream': { schema: { type: 'string', description: SSE_DESCRIPTION } },
    },
  } as unknown as TSchema;
}
