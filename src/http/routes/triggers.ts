// Trigger events (CONTRACT §19.1, docs/workflows.md "Triggers"). Routes only translate HTTP to
// the use cases in services/triggers.ts.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../context.js';
import { listTriggerEventsPage, postTriggerEvent } from '../../services/triggers.js';
import { agentRoute } from '../../schemas/common.js';
import { CreateTaskHeaders } from '../../schemas/task.js';
import { ListTriggerEventsQuery, TriggerEventAccepted, TriggerEventBody, TriggerEventListSchema } from '../../schemas/trigger.js';

const tags = ['workflows'];

export function triggerRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/api/v1/trigger-events',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'postTriggerEvent',
              summary: 'Post a trigger event',
              description:
                'Any agent (the requester of the runs it starts). One run of the latest version of every workflow whose trigger lists the type, context {event: {id, type, user_id, intent_id, payload}}; none listening → runs []. The same body published on NATS swarm.trigger.<type> does the same. With Idempotency-Key, a repeat within 24 h answers the first event and starts nothing; a different body with that key → 409 idempotency_conflict.',
              tags,
            },
            { 202: { ...TriggerEventAccepted, description: 'Stored; its runs started' } },
            400,
            409,
            413,
            415,
          ),
          headers: CreateTaskHeaders,
          body: TriggerEventBody,
        },
      },
      async (req, reply) => {
        const key = req.headers['idempotency-key'];
        const { event } = await postTriggerEvent(ctx, req.agentId, req.body, typeof key === 'string' ? key : undefined);
        return reply.code(202).send({ event_id: event.id, runs: event.runs });
      },
    );

    app.get(
      '/api/v1/trigger-events',
      {
        schema: {
          ...agentRoute(
            { operationId: 'listTriggerEvents', summary: 'List trigger events with their runs, newest first', tags },
            { 200: { ...TriggerEventListSchema, description: 'A page of trigger events' } },
            400,
          ),
          querystring: ListTriggerEventsQuery,
        },
      },
      async (req) => listTriggerEventsPage(ctx, req.query),
    );
  };
}
