// Held requests without NATS (CONTRACT §12 "Delivery without NATS"; openapi.yaml, docs/waiting.md):
//   GET /api/v1/agents/:id/assignments?wait=S   a worker long-polls for its assigned tasks
//   GET /api/v1/events                           admin firehose over SSE (task and run events)
// (GET /api/v1/tasks/:id?wait=S and the task's SSE stream are in tasks.ts.)
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../context.js';
import { openEventStream, pollAssignments } from '../../services/waiting.js';
import { AgentParams } from '../../schemas/agents.js';
import { adminRoute, agentRoute } from '../../schemas/common.js';
import { AssignmentListSchema, FirehoseQuery, StreamHeaders, WaitQuery, streamResponse } from '../../schemas/waiting.js';
import { DispatchError } from '../../errors.js';
import { serveEventStream, wantsEventStream } from '../sse.js';

export function deliveryRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/api/v1/agents/:id/assignments',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'pollAssignments',
              summary: "Long-poll for the agent's assigned tasks",
              description:
                'X-Agent-ID must equal :id (else 403 forbidden). Answers at once when the agent has assigned tasks or wait is 0; otherwise held until a task is assigned to the agent (answered within 100 ms of the assignment) or wait seconds pass (then {"tasks":[]}). A held request costs no database query while it waits.',
              tags: ['delivery'],
            },
            { 200: { ...AssignmentListSchema, description: "The agent's assigned tasks" } },
            400,
            403,
          ),
          params: AgentParams,
          querystring: WaitQuery,
        },
      },
      async (req, reply) => {
        const res = await pollAssignments(ctx, ctx.waiting, req.agentId, req.params.id, req.query.wait ?? 0);
        // Answered by a shutdown: the connection must not outlive it (the server is closing).
        if (ctx.waiting.closing) reply.header('connection', 'close');
        return res;
      },
    );

    app.get(
      '/api/v1/events',
      {
        config: { admin: true },
        schema: {
          ...adminRoute(
            {
              operationId: 'eventFirehose',
              summary: 'Every task and run event, as server-sent events',
              description:
                'Admin. Send Accept: text/event-stream (anything else → 406 not_acceptable). Events committed from now on, or after Last-Event-ID, in commit-safe outbox order, each once; filters type (comma list), requester, assignee.',
              tags: ['delivery'],
            },
            { 200: streamResponse('The event stream') },
            400,
            406,
          ),
          querystring: FirehoseQuery,
          headers: StreamHeaders,
        },
      },
      async (req, reply) => {
        if (!wantsEventStream(req)) throw new DispatchError('not_acceptable', 406, 'GET /api/v1/events answers only Accept: text/event-stream');
        const types = req.query.type ? new Set(req.query.type.split(',').map((t) => (t.includes('.') ? t : `task.${t}`))) : undefined;
        const lastEventId = req.headers['last-event-id'];
        const stream = await openEventStream(ctx, ctx.waiting, {
          filter: {
            ...(types ? { types } : {}),
            ...(req.query.requester !== undefined ? { requester: req.query.requester } : {}),
            ...(req.query.assignee !== undefined ? { assignee: req.query.assignee } : {}),
          },
          ...(typeof lastEventId === 'string' && lastEventId ? { lastEventId } : {}),
        });
        await serveEventStream(req, reply, stream, { closing: () => ctx.waiting.closing });
        return reply;
      },
    );
  };
}
