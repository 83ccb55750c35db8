// Admin agent routes (openapi.yaml): the merged agent view and the persisted drain flag.
//   GET    /api/v1/agents             neighbours' view (cached) + active tasks + drain flags
//   POST   /api/v1/agents/:id/drain   no new assignments; running work continues
//   DELETE /api/v1/agents/:id/drain
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../context.js';
import { listAgents, setDrain } from '../../services/agents.js';
import { AgentListSchema, AgentParams, DrainSchema } from '../../schemas/agents.js';
import { adminRoute } from '../../schemas/common.js';

export function agentRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/api/v1/agents',
      {
        config: { admin: true },
        schema: adminRoute(
          {
            operationId: 'listAgents',
            summary: 'List agents',
            description:
              'Admin. The neighbours\' merged view (from cache: never waits for a neighbour) with each agent\'s active tasks, limit and drain flag. Agents known only to Dispatch (drained, or holding tasks) are listed with state "unknown".',
            tags: ['agents'],
          },
          { 200: { ...AgentListSchema, description: 'The agents' } },
        ),
      },
      async () => ({ agents: await listAgents(ctx) }),
    );

    const drainRoute = (drained: boolean) => ({
      config: { admin: true },
      schema: {
        ...adminRoute(
          {
            operationId: drained ? 'drainAgent' : 'undrainAgent',
            summary: drained ? 'Drain an agent' : "Lift an agent's drain",
            description: drained
              ? 'Admin. The agent gets no new assignments; its running work continues. Persisted in the database: survives restarts and is shared by replicas. Any valid agent id is accepted (an agent can be drained before it appears).'
              : 'Admin. The agent may be assigned work again.',
            tags: ['agents'],
          },
          { 200: { ...DrainSchema, description: 'The drain flag as stored' } },
          400,
        ),
        params: AgentParams,
      },
    });

    app.post('/api/v1/agents/:id/drain', drainRoute(true), async (req) => setDrain(ctx, req.params.id, true));
    app.delete('/api/v1/agents/:id/drain', drainRoute(false), async (req) => setDrain(ctx, req.params.id, false));
  };
}
