// TypeBox schemas of trigger events (CONTRACT §19.1, docs/workflows.md "Triggers").
import { Type, type Static } from '@sinclair/typebox';
import { Timestamp, Uuid } from './common.js';
import { named } from './components.js';
import { LIMITS } from './task.js';
import { EventType } from './workflow.js';

export const TriggerEventBody = named(
  'TriggerEventRequest',
  Type.Object(
    {
      type: EventType,
      user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Whom the event is about' })),
      intent_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'The intent it concerns (Wisely)' })),
      payload: Type.Optional(Type.Unknown({ description: 'Any JSON, at most 256 KiB serialized' })),
    },
    { additionalProperties: false, description: 'An event that starts one run of every workflow whose trigger lists its type' },
  ),
);
export type TriggerEventBody = Static<typeof TriggerEventBody>;

export const TriggerEventAccepted = named(
  'TriggerEventAccepted',
  Type.Object(
    {
      event_id: Uuid,
      runs: Type.Array(Uuid, { description: 'The runs it started, one per listening workflow (latest version); [] when none listens' }),
    },
    { additionalProperties: false },
  ),
);

export const TriggerEventSchema = named(
  'TriggerEvent',
  Type.Object(
    {
      id: Uuid,
      type: Type.String(),
      requester: Type.String({ description: 'Who posted it (X-Agent-ID; over NATS the envelope requester or source, else dispatch:nats)' }),
      user_id: Type.Union([Type.String(), Type.Null()]),
      intent_id: Type.Union([Type.String(), Type.Null()]),
      payload: Type.Unknown({ description: 'Any JSON; null when none' }),
      runs: Type.Array(Uuid),
      created_at: Timestamp,
    },
    { additionalProperties: false, description: 'A trigger event and the runs it started' },
  ),
);

export const ListTriggerEventsQuery = Type.Object(
  {
    type: Type.Optional(EventType),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.listLimitMax, default: LIMITS.listLimitDefault })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page (opaque)' })),
  },
  { additionalProperties: false },
);
export type ListTriggerEventsQuery = Static<typeof ListTriggerEventsQuery>;

export const TriggerEventListSchema = named(
  'TriggerEventList',
  Type.Object(
    { events: Type.Array(TriggerEventSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) },
    { additionalProperties: false, description: 'Newest first' },
  ),
);
