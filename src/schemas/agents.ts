// TypeBox schemas of the admin agent routes (GET /api/v1/agents, drain/undrain).
import { Type } from '@sinclair/typebox';
import { AgentIdString } from './common.js';

export const AgentSchema = Type.Object(
  {
    id: Type.String({ description: 'Agent id (PromptForge persona slug = Warren agent name)' }),
    name: Type.String(),
    capabilities: Type.Array(Type.String(), { description: 'Lower-case capability tags' }),
    state: Type.String({ description: 'ready | sleeping | starting | degraded | unknown (not known to the availability source)' }),
    owner_ids: Type.Optional(Type.Array(Type.String(), { description: 'Owners known (from cache) to hold this agent' })),
    active_tasks: Type.Integer({ minimum: 0, description: 'Assigned + running tasks' }),
    max_concurrent: Type.Integer({ minimum: 1 }),
    drained: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const AgentListSchema = Type.Object({ agents: Type.Array(AgentSchema) }, { additionalProperties: false });
export const DrainSchema = Type.Object({ id: Type.String(), drained: Type.Boolean() }, { additionalProperties: false });
export const AgentParams = Type.Object({ id: { ...AgentIdString, description: 'Agent id' } }, { additionalProperties: false });
