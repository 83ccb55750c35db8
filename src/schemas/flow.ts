// TypeBox schemas of flow control (CONTRACT §20, docs/flow-control.md): limits and keys.
import { Type, type Static } from '@sinclair/typebox';
import { FLOW_BOUNDS, FLOW_KEY_SOURCE } from '../core/flow.js';
import { Timestamp } from './common.js';
import { named } from './components.js';

const KeyString = (description: string) => Type.String({ minLength: 1, maxLength: 200, pattern: FLOW_KEY_SOURCE, description });

export const FlowLimitParams = Type.Object(
  { key: KeyString('The pattern: an exact flow key, or a prefix ending in * (user:*; * alone matches every key)') },
  { additionalProperties: false },
);

export const FlowKeyParams = Type.Object({ key: KeyString('A flow key (exact: a pause applies to this key only)') }, { additionalProperties: false });

const int = (max: number, description: string) => Type.Integer({ minimum: 1, maximum: max, description });

const limitFields = {
  rate: Type.Optional(int(FLOW_BOUNDS.rateMax, 'Starts per per_ms per key (a token bucket; a token is taken at assignment). With per_ms')),
  per_ms: Type.Optional(int(FLOW_BOUNDS.perMsMax, 'The window of rate, 1..86400000 ms. With rate')),
  burst: Type.Optional(int(FLOW_BOUNDS.burstMax, 'Bucket capacity: starts at once after a quiet spell; default rate. Only with rate')),
  concurrency: Type.Optional(int(FLOW_BOUNDS.concurrencyMax, 'Tasks of one key assigned, running or input_required at once')),
};

export const FlowLimitBody = named(
  'FlowLimitRequest',
  Type.Object(limitFields, {
    additionalProperties: false,
    description: 'rate with per_ms (and optionally burst), and/or concurrency; at least one of rate and concurrency',
  }),
);
export type FlowLimitBody = Static<typeof FlowLimitBody>;

export const FlowLimitSchema = named(
  'FlowLimit',
  Type.Object(
    {
      key: Type.String({ description: 'The pattern' }),
      ...limitFields,
      source: Type.Union([Type.Literal('config'), Type.Literal('api')], {
        description: 'config (flow.limits) or api (PUT); an api limit overrides config for its key',
      }),
    },
    { additionalProperties: false, description: 'A limit; burst is shown with its default filled in' },
  ),
);

export const FlowLimitListSchema = named(
  'FlowLimitList',
  Type.Object(
    { limits: Type.Array(FlowLimitSchema) },
    { additionalProperties: false, description: 'The limits in force, by pattern: config limits not overridden, and api limits' },
  ),
);

export const FlowKeySchema = named(
  'FlowKey',
  Type.Object(
    {
      key: Type.String(),
      limit_key: Type.Union([Type.String(), Type.Null()], { description: 'The pattern whose limit applies (the longest match); null: none' }),
      tokens: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
        description: 'Tokens in the bucket now (fractional: refilled continuously); null: no rate',
      }),
      capacity: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: 'The burst; null: no rate' }),
      active: Type.Integer({ minimum: 0, description: 'Tasks of this key assigned, running or input_required' }),
      concurrency: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: 'null: no concurrency limit' }),
      paused_until: Type.Union([Timestamp, Type.Null()], { description: 'The key starts nothing until then; null: not paused' }),
    },
    { additionalProperties: false, description: "A flow key's state now" },
  ),
);

export const PauseBody = named(
  'FlowPauseRequest',
  Type.Object(
    { until: { ...Timestamp, description: 'In the future, at most 24 h ahead' } },
    { additionalProperties: false, description: 'Pause a key until an instant (e.g. the reset time of a 429 from the model it calls)' },
  ),
);
export type PauseBody = Static<typeof PauseBody>;
