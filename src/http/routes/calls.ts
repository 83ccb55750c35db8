// GET /api/v1/tasks/:id/attempts: a task's attempts (CONTRACT §18.1, docs/calls.md).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../context.js';
import { taskAttempts } from '../../services/calls.js';
import { agentRoute, IdParams } from '../../schemas/common.js';
import { AttemptListSchema } from '../../schemas/task.js';

export function callRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/v1/tasks/:id/attempts',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'taskAttempts',
              summary: "The task's attempts, oldest first",
              description:
                "Every task's, not only call tasks': one per assignment, from its lifecycle events (an attempt opens at `assigned` and ends at completed, failed, timeout, cancelled or reassigned; reassigned after a wake timeout counts as timed_out, after an agent was lost as failed). A call task's (and an endpoint push's) attempts carry status_code (null: no answer), error (at most 4 KiB of the answer) and log (the streamed events, at most 16 KiB). Attempts whose events the retention purge removed are gone.",
            },
            { 200: { ...AttemptListSchema, description: 'Attempts, oldest first' } },
            400,
            404,
          ),
          params: IdParams,
        },
      },
      async (req) => ({ attempts: await taskAttempts(ctx, req.params.id) }),
    );
  };
}
