// Flow control routes (CONTRACT §20, docs/flow-control.md):
//   PUT    /api/v1/flow/limits/:key       admin: set the api limit of a pattern
//   GET    /api/v1/flow/limits            admin: the limits in force
//   DELETE /api/v1/flow/limits/:key       admin: remove the api limit (the config one, if any, applies again)
//   GET    /api/v1/flow/keys/:key         a key's tokens, active count, limit, pause
//   POST   /api/v1/flow/keys/:key/pause   start nothing of the key until `until` (≤ 24 h ahead)
//   DELETE /api/v1/flow/keys/:key/pause
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../context.js';
import { deleteLimit, keyView, listLimits, pauseKey, putLimit, unpauseKey } from '../../services/flow.js';
import { FlowKeyParams, FlowKeySchema, FlowLimitBody, FlowLimitListSchema, FlowLimitParams, FlowLimitSchema, PauseBody } from '../../schemas/flow.js';
import { adminRoute, agentRoute } from '../../schemas/common.js';

export function flowRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['flow'];

    app.put(
      '/api/v1/flow/limits/:key',
      {
        config: { admin: true },
        schema: {
          ...adminRoute(
            {
              operationId: 'putFlowLimit',
              summary: 'Set a flow limit',
              description:
                'Admin. The limit of a pattern (an exact flow key, or a prefix ending in *): every distinct key it matches gets its own token bucket (rate per per_ms, at most burst) and/or concurrency. The longest matching pattern applies to a key; this api limit overrides a config limit (flow.limits) of the same pattern. Stored in the database: shared by replicas at their next tick.',
              tags,
            },
            { 200: { ...FlowLimitSchema, description: 'The limit as stored (source api)' } },
            400,
            413,
            415,
          ),
          params: FlowLimitParams,
          body: FlowLimitBody,
        },
      },
      async (req) => putLimit(ctx, req.params.key, req.body),
    );

    app.get(
      '/api/v1/flow/limits',
      {
        config: { admin: true },
        schema: adminRoute(
          { operationId: 'listFlowLimits', summary: 'List flow limits', description: 'Admin. The limits in force, by pattern.', tags },
          { 200: { ...FlowLimitListSchema, description: 'The limits' } },
        ),
      },
      async () => listLimits(ctx),
    );

    app.delete(
      '/api/v1/flow/limits/:key',
      {
        config: { admin: true },
        schema: {
          ...adminRoute(
            {
              operationId: 'deleteFlowLimit',
              summary: 'Remove an api flow limit',
              description: "Admin. Removes the pattern's api limit; a config limit of the same pattern applies again. 404 when the pattern has no api limit.",
              tags,
            },
            { 204: Type.Null({ description: 'Removed' }) },
            400,
            404,
          ),
          params: FlowLimitParams,
        },
      },
      async (req, reply) => {
        await deleteLimit(ctx, req.params.key);
        return reply.code(204).send();
      },
    );

    app.get(
      '/api/v1/flow/keys/:key',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'getFlowKey',
              summary: "A flow key's state",
              description:
                'Its limit (the longest matching pattern), the tokens in its bucket now, its active tasks and its pause. Any key may be asked: one never used shows a full bucket.',
              tags,
            },
            { 200: { ...FlowKeySchema, description: 'The key now' } },
            400,
          ),
          params: FlowKeyParams,
        },
      },
      async (req) => keyView(ctx, req.params.key),
    );

    app.post(
      '/api/v1/flow/keys/:key/pause',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'pauseFlowKey',
              summary: 'Pause a flow key',
              description:
                "The key (exactly this key, not a pattern) starts nothing until `until` (in the future, at most 24 h ahead); its pending tasks wait and start from the first tick after it. E.g. an agent that got its model's 429 pauses the key until the reset. A later pause replaces an earlier one.",
              tags,
            },
            { 200: { ...FlowKeySchema, description: 'The key, paused' } },
            400,
            413,
            415,
          ),
          params: FlowKeyParams,
          body: PauseBody,
        },
      },
      async (req) => pauseKey(ctx, req.params.key, req.body.until),
    );

    app.delete(
      '/api/v1/flow/keys/:key/pause',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'unpauseFlowKey',
              summary: "Lift a flow key's pause",
              description: 'Its tasks may start at once (204 also when it was not paused).',
              tags,
            },
            { 204: Type.Null({ description: 'Not paused' }) },
            400,
          ),
          params: FlowKeyParams,
        },
      },
      async (req, reply) => {
        await unpauseKey(ctx, req.params.key);
        return reply.code(204).send();
      },
    );
  };
}
