// TypeBox schemas of the admin agent routes (GET /api/v1/agents, drain/undrain).
import { Type } from '@sinclair/typebox';
import { AgentIdString } from './common.js';
import { named } from './components.js';

export const AgentSchema = named(
  'Agent',
  Type.Object(
    {
      id: Type.String({ description: 'Agent id (PromptForge persona slug = Warren agent name)' }),
      name: Type.String(),
      capabilities: Type.Array(Type.String(), { description: 'Lower-case capability tags' }),
      state: Type.String({ description: 'ready | sleeping | starting | degraded | unknown (not known to the availability source)' }),
      owner_ids: Type.Optional(Type.Array(Type.String(), { description: 'Owners known (from cache) to hold this agent' })),
      active_tasks: Type.Integer({ minimum: 0, description: 'Assigned + running tasks' }),
      max_concurrent: Type.Integer({ minimum: 1 }),
      drained: Type.Boolean(),
      record: Type.Object(
        {
          completed: Type.Integer({ minimum: 0 }),
          failed: Type.Integer({ minimum: 0, description: 'Failed attempts (retried or final)' }),
          timed_out: Type.Integer({ minimum: 0, description: 'Attempts that timed out (retried or final)' }),
          success_rate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
            description: 'completed / finished attempts in the window; null with none (scored as 1.0)',
          }),
          avg_duration_ms: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
            description: 'Mean assignment-to-completion time of the completed attempts',
          }),
        },
        {
          additionalProperties: false,
          description: "The agent's last assignment.track_record_size finished attempts (wake timeouts and agent-lost re-queues not counted)",
        },
      ),
    },
    { additionalProperties: false },
  ),
);

export const AgentListSchema = named('AgentList', Type.Object({ agents: Type.Array(AgentSchema) }, { additionalProperties: false }));
export const DrainSchema = named('Drain', Type.Object({ id: Type.String(), drained: Type.Boolean() }, { additionalProperties: false }));
export const AgentParams = Type.Object({ id: { ...AgentIdString, description: 'Agent id' } }, { additionalProperties: false });

export const IssueTokenBody = named(
  'IssueTokenRequest',
  Type.Object(
    { label: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'What the token is for (shown in the list)' })) },
    { additionalProperties: false },
  ),
);
export const IssuedTokenSchema = named(
  'IssuedToken',
  Type.Object(
    {
      id: Type.String({ format: 'uuid' }),
      agent: Type.String(),
      token: Type.String({ description: 'The token: shown once, never again (only its SHA-256 is stored)' }),
      created_at: Type.String({ format: 'date-time' }),
      label: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
);
export const TokenSchema = named(
  'Token',
  Type.Object(
    {
      id: Type.String({ format: 'uuid' }),
      agent: Type.String(),
      label: Type.Union([Type.String(), Type.Null()]),
      created_at: Type.String({ format: 'date-time' }),
      last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Recorded at most once a minute' }),
    },
    { additionalProperties: false },
  ),
);
export const TokenListSchema = named('TokenList', Type.Object({ tokens: Type.Array(TokenSchema) }, { additionalProperties: false }));
export const TokenParams = Type.Object(
  { id: { ...AgentIdString, description: 'Agent id' }, token_id: Type.String({ format: 'uuid', description: 'Token id' }) },
  { additionalProperties: false },
);
