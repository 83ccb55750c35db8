// Admin agent routes (CONTRACT §4): the merged agent view and the persisted drain flag.
//   GET    /api/v1/agents             neighbours' view (cached) + active tasks + drain flags
//   POST   /api/v1/agents/:id/drain   no new assignments; running work continues
//   DELETE /api/v1/agents/:id/drain
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../app.js';
import { activeCounts, listAgentRows, setDrained } from '../../store/agents.js';

const ErrorResponse = Type.Object(
  {
    error: Type.String(),
    code: Type.String({ description: 'Stable snake_case code (CONTRACT §2)' }),
    details: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

const errors = (...statuses: number[]): Record<number, TSchema> =>
  Object.fromEntries([...statuses, 401, 429, 500].map((s) => [s, { ...ErrorResponse, description: `Error (${s})` }]));

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

const AgentListSchema = Type.Object({ agents: Type.Array(AgentSchema) }, { additionalProperties: false });
const DrainSchema = Type.Object({ id: Type.String(), drained: Type.Boolean() }, { additionalProperties: false });
const AgentParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:@-]{1,128}$', description: 'Agent id' }) },
  { additionalProperties: false },
);
const ADMIN_SECURITY = [{ agentId: [] as string[], adminToken: [] as string[] }];

export function agentRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get('/api/v1/agents', {
      config: { admin: true },
      schema: {
        operationId: 'listAgents',
        summary: 'List agents',
        description: 'Admin. The neighbours\' merged view (from cache: never waits for a neighbour) with each agent\'s active tasks, limit and drain flag. Agents known only to Dispatch (drained, or holding tasks) are listed with state "unknown".',
        tags: ['agents'],
        security: ADMIN_SECURITY,
        response: { 200: AgentListSchema, ...errors() },
      },
    }, async () => {
      const [counts, rows] = await Promise.all([activeCounts(ctx.sql), listAgentRows(ctx.sql)]);
      const max = ctx.config.assignment.max_concurrent_per_agent;
      const drained = new Map(rows.map((r) => [r.id, r.drained]));
      const known = ctx.agents.cachedAgents();
      const ids = new Set(known.map((a) => a.id));
      const extra = [...new Set([...rows.map((r) => r.id), ...counts.keys()])].filter((id) => !ids.has(id));
      const agents = [
        ...known,
        ...extra.map((id) => ({ id, name: id, capabilities: [] as string[], state: 'unknown', ownerIds: [] as string[] })),
      ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return {
        agents: agents.map((a) => ({
          id: a.id,
          name: a.name,
          capabilities: a.capabilities,
          state: a.state,
          ...(a.ownerIds.length ? { owner_ids: a.ownerIds } : {}),
          active_tasks: counts.get(a.id) ?? 0,
          max_concurrent: max,
          drained: drained.get(a.id) ?? false,
        })),
      };
    });

    const drainRoute = (drained: boolean) => ({
      config: { admin: true },
      schema: {
        operationId: drained ? 'drainAgent' : 'undrainAgent',
        summary: drained ? 'Drain an agent' : 'Lift an agent\'s drain',
        description: drained
          ? 'Admin. The agent gets no new assignments; its running work continues. Persisted in the database: survives restarts and is shared by replicas. Any valid agent id is accepted (an agent can be drained before it appears).'
          : 'Admin. The agent may be assigned work again.',
        tags: ['agents'],
        security: ADMIN_SECURITY,
        params: AgentParams,
        response: { 200: DrainSchema, ...errors(400) },
      },
    });

    app.post('/api/v1/agents/:id/drain', drainRoute(true), async (req) => {
      const row = await setDrained(ctx.sql, req.params.id, true, ctx.clock.now());
      req.log.info({ agent: row.id }, 'agent drained');
      return { id: row.id, drained: row.drained };
    });

    app.delete('/api/v1/agents/:id/drain', drainRoute(false), async (req) => {
      const row = await setDrained(ctx.sql, req.params.id, false, ctx.clock.now());
      req.log.info({ agent: row.id }, 'agent drain lifted');
      ctx.signals.emit('assign-needed');
      return { id: row.id, drained: row.drained };
    });
  };
}
