// Workflow definitions and runs (docs/workflows.md). Routes only translate HTTP to the use
// cases in services/workflows.ts.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../context.js';
import { cancelRun, dispatchRun, getRunById, getWorkflow, listRuns, listWorkflows, putWorkflowDefinition, startRun } from '../../services/workflows.js';
import { agentRoute, IdParams } from '../../schemas/common.js';
import { CreateTaskHeaders } from '../../schemas/task.js';
import {
  DispatchRunBody,
  ListRunsQuery,
  PatchRunBody,
  RunListSchema,
  RunSchema,
  StartRunBody,
  WorkflowBody,
  WorkflowListSchema,
  WorkflowParams,
  WorkflowSchema,
} from '../../schemas/workflow.js';

const tags = ['workflows'];

export function workflowRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.put(
      '/api/v1/workflows/:key',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'putWorkflow',
              summary: 'Store a workflow definition',
              description:
                'Any agent. JSON, or YAML with Content-Type: application/yaml. A new key → 201 (version 1); a changed definition → 200 with the next version; an identical one → 200, nothing changed. Unknown or duplicate step ids → 400 validation_failed; a cycle → 400 workflow_cycle with details.cycle; at most 200 steps.',
              tags,
            },
            {
              201: { ...WorkflowSchema, description: 'Created (version 1)' },
              200: { ...WorkflowSchema, description: 'Stored as a new version, or unchanged' },
            },
            400,
            413,
            415,
          ),
          params: WorkflowParams,
          body: WorkflowBody,
        },
      },
      async (req, reply) => {
        const { workflow, outcome } = await putWorkflowDefinition(ctx, req.agentId, req.params.key, req.body);
        if (outcome !== 'unchanged') req.log.info({ workflow: workflow.key, version: workflow.version }, 'workflow stored');
        return reply.code(outcome === 'created' ? 201 : 200).send(workflow);
      },
    );

    app.get(
      '/api/v1/workflows',
      {
        schema: agentRoute(
          { operationId: 'listWorkflows', summary: 'List workflows (latest versions)', tags },
          { 200: { ...WorkflowListSchema, description: 'By key' } },
        ),
      },
      async () => ({ workflows: await listWorkflows(ctx) }),
    );

    app.get(
      '/api/v1/workflows/:key',
      {
        schema: {
          ...agentRoute(
            { operationId: 'getWorkflow', summary: 'Get a workflow (latest version)', tags },
            { 200: { ...WorkflowSchema, description: 'The workflow' } },
            400,
            404,
          ),
          params: WorkflowParams,
        },
      },
      async (req) => getWorkflow(ctx, req.params.key),
    );

    app.post(
      '/api/v1/workflows/:key/runs',
      {
        config: { emptyBody: true },
        schema: {
          ...agentRoute(
            {
              operationId: 'startRun',
              summary: 'Start a run of a workflow',
              description:
                "Any agent (the run's requester). One task per step, created with the run in one transaction: steps without dependencies pending, the others waiting. `context` is merged into every step's task context. With Idempotency-Key, a repeat within 24 h returns the original run with 200.",
              tags,
            },
            {
              201: { ...RunSchema, description: 'Created', headers: { Location: { type: 'string', description: 'Path of the new run' } } },
              200: { ...RunSchema, description: 'Idempotent replay: the run created by the first request with this key' },
            },
            400,
            404,
            409,
            413,
            415,
          ),
          params: WorkflowParams,
          headers: CreateTaskHeaders,
          body: StartRunBody,
        },
      },
      async (req, reply) => {
        const key = req.headers['idempotency-key'];
        const { run, created } = await startRun(ctx, req.agentId, req.params.key, req.body ?? {}, typeof key === 'string' ? key : undefined);
        reply.header('location', `/api/v1/runs/${run.id}`);
        return reply.code(created ? 201 : 200).send(run);
      },
    );

    app.post(
      '/api/v1/runs',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'dispatchRun',
              summary: "Start a run from the Wisely seed's dispatch body",
              description:
                "Any agent (the run's requester). As POST /api/v1/workflows/{key}/runs with context {user_id, intent_id, payload} (null where not given); the run shows user_id and intent_id. Unknown workflow_key → 404. With Idempotency-Key, a repeat within 24 h returns the original run with 200.",
              tags,
            },
            {
              201: { ...RunSchema, description: 'Created', headers: { Location: { type: 'string', description: 'Path of the new run' } } },
              200: { ...RunSchema, description: 'Idempotent replay: the run created by the first request with this key' },
            },
            400,
            404,
            409,
            413,
            415,
          ),
          headers: CreateTaskHeaders,
          body: DispatchRunBody,
        },
      },
      async (req, reply) => {
        const key = req.headers['idempotency-key'];
        const { run, created } = await dispatchRun(ctx, req.agentId, req.body, typeof key === 'string' ? key : undefined);
        reply.header('location', `/api/v1/runs/${run.id}`);
        return reply.code(created ? 201 : 200).send(run);
      },
    );

    app.get(
      '/api/v1/runs',
      {
        schema: {
          ...agentRoute(
            { operationId: 'listRuns', summary: 'List workflow runs, newest first', tags },
            { 200: { ...RunListSchema, description: 'A page of runs' } },
            400,
          ),
          querystring: ListRunsQuery,
        },
      },
      async (req) => listRuns(ctx, req.query),
    );

    app.get(
      '/api/v1/runs/:id',
      {
        schema: {
          ...agentRoute({ operationId: 'getRun', summary: 'Get a workflow run', tags }, { 200: { ...RunSchema, description: 'The run' } }, 400, 404),
          params: IdParams,
        },
      },
      async (req) => getRunById(ctx, req.params.id),
    );

    app.patch(
      '/api/v1/runs/:id',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'cancelRun',
              summary: 'Cancel a workflow run',
              description:
                'Requester or admin. Every task of the run that is not finished is cancelled; the run becomes cancelled (or stays failed). A completed or cancelled run → 409.',
              tags,
            },
            { 200: { ...RunSchema, description: 'The run after the change' } },
            400,
            403,
            404,
            409,
            413,
            415,
          ),
          params: IdParams,
          body: PatchRunBody,
        },
      },
      async (req) => cancelRun(ctx, { agentId: req.agentId, isAdmin: req.isAdmin }, req.params.id),
    );
  };
}
