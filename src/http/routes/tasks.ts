// /api/v1/tasks: the task API (openapi.yaml, docs/task-api.md). Routes only translate HTTP to the use cases in
// services/tasks.ts; every body, query, param and response status is described for OpenAPI.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../context.js';
import {
  answerTask,
  completeTask,
  createTask,
  failTask,
  getTask,
  listTasks,
  patchTask,
  reportProgress,
  requestInput,
  retryTask,
  taskEvents,
} from '../../services/tasks.js';
import { agentRoute, IdParams } from '../../schemas/common.js';
import {
  CompleteTaskBody,
  CreateTaskBody,
  CreateTaskHeaders,
  EventListSchema,
  ExplanationSchema,
  FailTaskBody,
  InputBody,
  InputRequiredBody,
  ListTasksQuery,
  PatchTaskBody,
  ProgressBody,
  TaskListSchema,
  TaskSchema,
} from '../../schemas/task.js';
import { explainTask } from '../../services/explain.js';
import { StreamHeaders, WaitQuery, streamResponse } from '../../schemas/waiting.js';
import { awaitTask, openEventStream } from '../../services/waiting.js';
import { serveEventStream, wantsEventStream } from '../sse.js';

const taskResponse = (description: string, headers?: Record<string, unknown>) => ({
  ...TaskSchema,
  description,
  ...(headers ? { headers } : {}),
});

export function taskRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/api/v1/tasks',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'createTask',
              summary: 'Create a task',
              description:
                "Any agent; the caller's X-Agent-ID becomes the requester. With Idempotency-Key, a repeat of the same request within 24 h returns the original task with 200.",
            },
            {
              201: taskResponse('Created', { Location: { type: 'string', description: 'Path of the new task' } }),
              200: taskResponse('Idempotent replay: the task created by the first request with this key'),
            },
            400,
            409,
            413,
            415,
          ),
          headers: CreateTaskHeaders,
          body: CreateTaskBody,
        },
      },
      async (req, reply) => {
        const key = req.headers['idempotency-key'];
        const { task, created } = await createTask(ctx, req.agentId, req.body, typeof key === 'string' ? key : undefined);
        reply.header('location', `/api/v1/tasks/${task.id}`);
        return reply.code(created ? 201 : 200).send(task);
      },
    );

    app.get(
      '/api/v1/tasks',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'listTasks',
              summary: 'List tasks, newest first',
              description: 'Keyset pagination: pass next_cursor as cursor; stable while tasks are being created.',
            },
            { 200: { ...TaskListSchema, description: 'A page of tasks' } },
            400,
          ),
          querystring: ListTasksQuery,
        },
      },
      async (req) => listTasks(ctx, req.query),
    );

    app.get(
      '/api/v1/tasks/:id',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'getTask',
              summary: 'Get a task; with wait, await its end',
              description:
                'With wait=S (0..60): answers at once when the task is terminal, else when it becomes terminal or after S seconds, with the task as it is then. A held request costs no database query while it waits.',
            },
            { 200: taskResponse('The task') },
            400,
            404,
          ),
          params: IdParams,
          querystring: WaitQuery,
        },
      },
      async (req, reply) => {
        if (!req.query.wait) return getTask(ctx, req.params.id);
        const task = await awaitTask(ctx, ctx.waiting, req.params.id, req.query.wait);
        // Answered by a shutdown: the connection must not outlive it (the server is closing).
        if (ctx.waiting.closing) reply.header('connection', 'close');
        return task;
      },
    );

    app.patch(
      '/api/v1/tasks/:id',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'patchTask',
              summary: 'Cancel a task, merge its context, or change its priority',
              description:
                'Requester or admin only. status "cancelled" from pending, assigned or running; context keys are merged while the task is not terminal; priority only while pending.',
            },
            { 200: taskResponse('The task after the change') },
            400,
            403,
            404,
            409,
            413,
            415,
          ),
          params: IdParams,
          body: PatchTaskBody,
        },
      },
      async (req) => patchTask(ctx, { agentId: req.agentId, isAdmin: req.isAdmin }, req.params.id, req.body),
    );

    app.post(
      '/api/v1/tasks/:id/complete',
      {
        config: { emptyBody: true },
        schema: {
          ...agentRoute(
            { operationId: 'completeTask', summary: 'Report the task done (assignee only)', description: 'From assigned or running.' },
            { 200: taskResponse('The completed task') },
            400,
            403,
            404,
            409,
            413,
            415,
          ),
          params: IdParams,
          body: CompleteTaskBody,
        },
      },
      async (req) => completeTask(ctx, req.agentId, req.params.id, req.body),
    );

    app.post(
      '/api/v1/tasks/:id/fail',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'failTask',
              summary: 'Report the attempt failed (assignee only)',
              description: 'Retryable with retries left → pending with retry_count+1 and not_before = now + backoff; otherwise failed.',
            },
            { 200: taskResponse('The task after the retry decision') },
            400,
            403,
            404,
            409,
            413,
            415,
          ),
          params: IdParams,
          body: FailTaskBody,
        },
      },
      async (req) => failTask(ctx, req.agentId, req.params.id, req.body),
    );

    app.post(
      '/api/v1/tasks/:id/progress',
      {
        config: { emptyBody: true },
        schema: {
          ...agentRoute(
            {
              operationId: 'reportProgress',
              summary: 'Report progress (assignee only)',
              description: 'The first report moves assigned → running and stamps started_at.',
            },
            { 200: taskResponse('The task with its progress') },
            400,
            403,
            404,
            409,
            413,
            415,
          ),
          params: IdParams,
          body: ProgressBody,
        },
      },
      async (req) => reportProgress(ctx, req.agentId, req.params.id, req.body),
    );

    app.post(
      '/api/v1/tasks/:id/input-required',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'requestInput',
              summary: 'Ask the requester a question (assignee only)',
              description:
                "From running: status input_required, still the assignee's (its slot stays taken), no attempt or heartbeat deadline while it waits; after input_timeout_ms without an answer it ends timed_out (event timeout, reason input). Event input_required with data.question. Not running → 409; another agent → 403.",
            },
            { 200: taskResponse('The task, waiting for input') },
            400,
            403,
            404,
            409,
            413,
            415,
          ),
          params: IdParams,
          body: InputRequiredBody,
        },
      },
      async (req) => requestInput(ctx, req.agentId, req.params.id, req.body),
    );

    app.post(
      '/api/v1/tasks/:id/input',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'answerTask',
              summary: 'Answer the question of a task waiting for input (requester or admin)',
              description:
                'From input_required: back to running for the same assignee, with a fresh attempt deadline; event input_received with data.answer. The worker hears it on NATS (swarm.task.<id>.input_received), SSE and its long-poll. Any other status → 409 invalid_transition; anyone else → 403 forbidden.',
            },
            { 200: taskResponse('The task, running again') },
            400,
            403,
            404,
            409,
            413,
            415,
          ),
          params: IdParams,
          body: InputBody,
        },
      },
      async (req) => answerTask(ctx, { agentId: req.agentId, isAdmin: req.isAdmin }, req.params.id, req.body),
    );

    app.post(
      '/api/v1/tasks/:id/heartbeat',
      {
        config: { emptyBody: true },
        schema: {
          ...agentRoute(
            {
              operationId: 'heartbeatTask',
              summary: 'Heartbeat (assignee only): the task is still being worked on',
              description:
                'No body, 204. Moves the heartbeat deadline (heartbeat_timeout_ms from now) without an event; writes are coalesced for up to 1 s. Does not acknowledge an assignment (the first progress does). Not assigned or running → 409; another agent → 403.',
            },
            { 204: Type.Null({ description: 'Heartbeat recorded' }) },
            400,
            403,
            404,
            409,
          ),
          params: IdParams,
        },
      },
      async (req, reply) => {
        await ctx.heartbeats.beat(req.agentId, req.params.id);
        return reply.code(204).send();
      },
    );

    app.post(
      '/api/v1/tasks/:id/retry',
      {
        config: { emptyBody: true },
        schema: {
          ...agentRoute(
            {
              operationId: 'retryTask',
              summary: 'Retry a failed, timed-out or cancelled task (requester or admin)',
              description:
                'Back to pending (or waiting while its dependencies are not all completed) with retry_count 0; the error stays until the next attempt; event requeued. The tasks cancelled because of it return to waiting and its workflow run to running. Any other status → 409.',
            },
            { 200: taskResponse('The task after the retry') },
            400,
            403,
            404,
            409,
          ),
          params: IdParams,
        },
      },
      async (req) => retryTask(ctx, { agentId: req.agentId, isAdmin: req.isAdmin }, req.params.id),
    );

    app.get(
      '/api/v1/tasks/:id/explain',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'explainTask',
              summary: 'Why this agent, why none (read-only)',
              description:
                'Every agent the directory knows, scored and with its reasons, best first, and the decision the scheduler would take now, by the same rules; for an assigned, running or finished task also the assignment as recorded.',
            },
            { 200: { ...ExplanationSchema, description: 'The explanation' } },
            400,
            404,
          ),
          params: IdParams,
        },
      },
      async (req) => explainTask(ctx, req.params.id),
    );

    app.get(
      '/api/v1/tasks/:id/events',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'taskEvents',
              summary: "The task's lifecycle events, oldest first (JSON, or SSE with Accept: text/event-stream)",
              description:
                'With Accept: text/event-stream: every stored event, oldest first, then each new one as it is committed; the stream ends after a terminal event; Last-Event-ID resumes after that event.',
            },
            { 200: streamResponse('Events in the envelope of docs/events.md', EventListSchema) },
            400,
            404,
          ),
          params: IdParams,
          headers: StreamHeaders,
        },
      },
      async (req, reply) => {
        if (!wantsEventStream(req)) return { events: await taskEvents(ctx, req.params.id) };
        const lastEventId = req.headers['last-event-id'];
        const stream = await openEventStream(ctx, ctx.waiting, {
          taskId: req.params.id,
          ...(typeof lastEventId === 'string' && lastEventId ? { lastEventId } : {}),
        });
        await serveEventStream(req, reply, stream, { closing: () => ctx.waiting.closing });
        return reply;
      },
    );
  };
}
