// Admin agent routes (openapi.yaml): the merged agent view and the persisted drain flag.
//   GET    /api/v1/agents             neighbours' view (cached) + active tasks + drain flags
//   POST   /api/v1/agents/:id/drain   no new assignments; running work continues
//   DELETE /api/v1/agents/:id/drain
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../context.js';
import { listAgents, setDrain } from '../../services/agents.js';
import { AgentListSchema, AgentParams, DrainSchema, IssuedTokenSchema, IssueTokenBody, TokenListSchema, TokenParams } from '../../schemas/agents.js';
import { issueToken, listAgentTokens, revokeAgentToken } from '../../services/tokens.js';
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

    const tokenDoc = (operationId: string, summary: string, description: string) => ({ operationId, summary, description, tags: ['agents'] });

    app.post(
      '/api/v1/agents/:id/tokens',
      {
        config: { admin: true, emptyBody: true },
        schema: {
          ...adminRoute(
            tokenDoc(
              'issueAgentToken',
              'Issue an agent token',
              "Admin. The token (at least 32 random bytes) is in this answer only; Dispatch keeps its SHA-256. In auth.mode=token it is the agent's identity on every /api/v1 request.",
            ),
            { 201: { ...IssuedTokenSchema, description: 'Issued' } },
            400,
            413,
            415,
          ),
          params: AgentParams,
          body: IssueTokenBody,
        },
      },
      async (req, reply) => reply.code(201).send(await issueToken(ctx, req.params.id, req.body?.label)),
    );

    app.get(
      '/api/v1/agents/:id/tokens',
      {
        config: { admin: true },
        schema: {
          ...adminRoute(
            tokenDoc('listAgentTokens', "List an agent's tokens", 'Admin. Live tokens, oldest first: metadata only, never the token.'),
            { 200: { ...TokenListSchema, description: 'Tokens' } },
            400,
          ),
          params: AgentParams,
        },
      },
      async (req) => ({ tokens: await listAgentTokens(ctx, req.params.id) }),
    );

    app.delete(
      '/api/v1/agents/:id/tokens/:token_id',
      {
        config: { admin: true },
        schema: {
          ...adminRoute(
            tokenDoc(
              'revokeAgentToken',
              'Revoke an agent token',
              'Admin. Refused from the moment this answers on this replica, and on every other within 1 s (NOTIFY, and a 1 s cache bound).',
            ),
            { 204: Type.Null({ description: 'Revoked' }) },
            400,
            404,
          ),
          params: TokenParams,
        },
      },
      async (req, reply) => {
        await revokeAgentToken(ctx, ctx.tokens, req.params.id, req.params.token_id);
        return reply.code(204).send();
      },
    );
  };
}
