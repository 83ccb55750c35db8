// GET /api/v1/tasks/:id/deliveries: a task's callback deliveries (docs/callbacks.md).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../context.js';
import { taskDeliveries } from '../../services/callbacks.js';
import { agentRoute, IdParams } from '../../schemas/common.js';
import { DeliveryListSchema } from '../../schemas/task.js';

export function deliveryRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/v1/tasks/:id/deliveries',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'taskDeliveries',
              summary: "The task's callback deliveries, oldest first",
              description:
                'One per event POSTed (or to be POSTed) to the callback_url: pending (next_attempt_at is when the next attempt is due), delivered (a 2xx answer) or failed (webhooks.max_attempts attempts without one).',
            },
            { 200: { ...DeliveryListSchema, description: 'Deliveries, oldest first' } },
            400,
            404,
          ),
          params: IdParams,
        },
      },
      async (req) => ({ deliveries: await taskDeliveries(ctx, req.params.id) }),
    );
  };
}
