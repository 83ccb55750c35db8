// Schedules (docs/schedules.md, CONTRACT §11.1). Routes only translate HTTP to the use cases in
// services/schedules.ts.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { DispatchContext } from '../../context.js';
import {
  createSchedule,
  getScheduleById,
  listSchedulesPage,
  patchSchedule,
  previewSchedule,
  removeSchedule,
  scheduleHistory,
  triggerSchedule,
} from '../../services/schedules.js';
import { agentRoute, IdParams } from '../../schemas/common.js';
import {
  CreateScheduleBody,
  ListSchedulesQuery,
  PatchScheduleBody,
  PreviewQuery,
  PreviewSchema,
  RunsQuery,
  ScheduleListSchema,
  ScheduleRunsSchema,
  ScheduleSchema,
} from '../../schemas/schedule.js';
import { TaskSchema } from '../../schemas/task.js';
import { RunSchema } from '../../schemas/workflow.js';

const tags = ['schedules'];

export function scheduleRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const actor = (req: { agentId: string; isAdmin: boolean }) => ({ agentId: req.agentId, isAdmin: req.isAdmin });

    app.post(
      '/api/v1/schedules',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'createSchedule',
              summary: 'Create a schedule',
              description:
                'Any agent (the requester of every task it makes). Exactly one of cron/calendar and of task/workflow. A bad cron, an unknown time zone, a bad calendar time or weekday, end_at before start_at, an invalid task template or an unknown workflow key → 400 validation_failed with details naming the field; a name the requester already uses → 409 schedule_exists.',
              tags,
            },
            { 201: { ...ScheduleSchema, description: 'Created', headers: { Location: { type: 'string', description: 'Path of the new schedule' } } } },
            400,
            409,
            413,
            415,
          ),
          body: CreateScheduleBody,
        },
      },
      async (req, reply) => {
        const s = await createSchedule(ctx, req.agentId, req.body);
        reply.header('location', `/api/v1/schedules/${s.id}`);
        return reply.code(201).send(s);
      },
    );

    app.get(
      '/api/v1/schedules',
      {
        schema: {
          ...agentRoute(
            { operationId: 'listSchedules', summary: 'List schedules, newest first', tags },
            { 200: { ...ScheduleListSchema, description: 'A page of schedules' } },
            400,
          ),
          querystring: ListSchedulesQuery,
        },
      },
      async (req) => listSchedulesPage(ctx, req.query),
    );

    app.get(
      '/api/v1/schedules/:id',
      {
        schema: {
          ...agentRoute({ operationId: 'getSchedule', summary: 'Get a schedule', tags }, { 200: { ...ScheduleSchema, description: 'The schedule' } }, 400, 404),
          params: IdParams,
        },
      },
      async (req) => getScheduleById(ctx, req.params.id),
    );

    app.patch(
      '/api/v1/schedules/:id',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'patchSchedule',
              summary: 'Change a schedule (pause, resume, retime, …)',
              description:
                'Requester or admin. Any writable field. Setting cron clears calendar (and the reverse), setting task clears workflow (and the reverse). A changed timetable or a resume recomputes next_run_at from now; occurrences while paused are not caught up.',
              tags,
            },
            { 200: { ...ScheduleSchema, description: 'The schedule after the change' } },
            400,
            403,
            404,
            409,
            413,
            415,
          ),
          params: IdParams,
          body: PatchScheduleBody,
        },
      },
      async (req) => patchSchedule(ctx, actor(req), req.params.id, req.body),
    );

    app.delete(
      '/api/v1/schedules/:id',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'deleteSchedule',
              summary: 'Delete a schedule',
              description: 'Requester or admin. Waits for a firing in flight; its history goes with it; the tasks and runs it made are untouched.',
              tags,
            },
            { 204: Type.Null({ description: 'Deleted' }) },
            400,
            403,
            404,
          ),
          params: IdParams,
        },
      },
      async (req, reply) => {
        await removeSchedule(ctx, actor(req), req.params.id);
        return reply.code(204).send();
      },
    );

    app.get(
      '/api/v1/schedules/:id/preview',
      {
        schema: {
          ...agentRoute(
            {
              operationId: 'previewSchedule',
              summary: 'The next occurrences',
              description:
                'The next count (1..100, default 10) instants from now, UTC, honouring the time zone, DST, start_at and end_at; paused schedules preview too.',
              tags,
            },
            { 200: { ...PreviewSchema, description: 'Occurrences, earliest first' } },
            400,
            404,
          ),
          params: IdParams,
          querystring: PreviewQuery,
        },
      },
      async (req) => previewSchedule(ctx, req.params.id, req.query.count ?? 10),
    );

    app.get(
      '/api/v1/schedules/:id/runs',
      {
        schema: {
          ...agentRoute(
            { operationId: 'scheduleRuns', summary: 'Occurrences fired or skipped, newest first', tags },
            { 200: { ...ScheduleRunsSchema, description: 'The history' } },
            400,
            404,
          ),
          params: IdParams,
          querystring: RunsQuery,
        },
      },
      async (req) => scheduleHistory(ctx, req.params.id, req.query.limit ?? 50),
    );

    app.post(
      '/api/v1/schedules/:id/trigger',
      {
        config: { emptyBody: true },
        schema: {
          ...agentRoute(
            {
              operationId: 'triggerSchedule',
              summary: 'Fire one occurrence now, outside the timetable',
              description:
                "Requester or admin. Creates the schedule's task (or run) now, with scheduled_for = now, whatever overlap says and even while paused; it becomes the previous occurrence for overlap. The timetable is unchanged.",
              tags,
            },
            { 201: { ...Type.Union([TaskSchema, RunSchema]), description: 'The task (or run) created' } },
            400,
            403,
            404,
            413,
            415,
          ),
          params: IdParams,
          body: Type.Object({}, { additionalProperties: false }),
        },
      },
      async (req, reply) => {
        const out = await triggerSchedule(ctx, actor(req), req.params.id);
        const body = 'task' in out ? out.task : out.run;
        reply.header('location', 'task' in out ? `/api/v1/tasks/${out.task.id}` : `/api/v1/runs/${out.run.id}`);
        return reply.code(201).send(body);
      },
    );
  };
}
