// TypeBox schemas of schedules (docs/schedules.md, CONTRACT §11.1).
import { Type, type Static } from '@sinclair/typebox';
import { CATCH_UP_POLICIES, OVERLAP_POLICIES, PREVIEW_MAX } from '../core/schedule.js';
import { Timestamp, Uuid } from './common.js';
import { CreateTaskBody, LIMITS } from './task.js';
import { WorkflowKey } from './workflow.js';
import { named } from './components.js';
import { CallUrl } from './call.js';

const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

/** The task each occurrence creates: a create body without what an occurrence decides. */
const { depends_on: _d, parent_id: _p, not_before: _n, start_by: _s, ...templateFields } = CreateTaskBody.properties;
export const ScheduleTaskBody = named(
  'ScheduleTask',
  Type.Object(templateFields, {
    additionalProperties: false,
    description: 'A create body (without depends_on, parent_id, not_before, start_by: see start_within_ms), validated at create time',
  }),
);

export const CalendarSchema = named(
  'Calendar',
  Type.Object(
    {
      time: Type.Array(Type.String({ maxLength: 8, description: 'HH:MM or HH:MM:SS, 24 h' }), { minItems: 1, maxItems: 100 }),
      weekday: Type.Optional(Type.Array(Type.Integer(), { maxItems: 7, description: '1 = Monday … 7 = Sunday (ISO 8601)' })),
      day: Type.Optional(Type.Array(Type.Integer(), { maxItems: 31, description: 'Day of the month 1..31' })),
      month: Type.Optional(Type.Array(Type.Integer(), { maxItems: 12, description: '1..12' })),
    },
    { additionalProperties: false, description: 'Fires at each time on the days matching every non-empty list (the Wordware form)' },
  ),
);

export const ScheduleWorkflow = named(
  'ScheduleWorkflow',
  Type.Object(
    { key: WorkflowKey, context: Type.Optional(Type.Object({}, { additionalProperties: true, description: "Merged into every step's task context" })) },
    { additionalProperties: false, description: 'Each occurrence starts a run of this workflow' },
  ),
);

/** The Wordware dispatcher's `flow` (CONTRACT §19.2): what each occurrence posts, and where. */
export const WordwareFlow = named(
  'WordwareFlow',
  Type.Object(
    {
      input: Type.Optional(Type.Unknown({ description: "The flow's inputs (any JSON), posted as {inputs, version}" })),
      version: Type.Optional(Type.String({ maxLength: 100, description: 'The flow version, e.g. "^1.0"' })),
      api: { ...CallUrl, description: "The flow's run URL (POSTed with the wordware credential)" },
    },
    {
      additionalProperties: false,
      description:
        'The Wordware form of task: the template {title: name, call: {url: api, method: POST, credential: "wordware", body: {inputs: input, version}}}',
    },
  ),
);

const writable = {
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'Unique per requester' }),
  cron: Type.Union([Type.String({ minLength: 1, maxLength: 200, description: '5 fields, or 6 with seconds first; names, ranges, steps, lists' }), Type.Null()]),
  calendar: Type.Union([CalendarSchema, Type.Null()]),
  timezone: Type.String({ minLength: 1, maxLength: 100, description: 'IANA name; cron and calendar are wall-clock times there (default UTC)' }),
  start_at: NullableTimestamp,
  end_at: NullableTimestamp,
  task: Type.Union([ScheduleTaskBody, Type.Null()]),
  workflow: Type.Union([ScheduleWorkflow, Type.Null()]),
  overlap: Type.Union(
    OVERLAP_POLICIES.map((p) => Type.Literal(p)),
    { description: "skip: an occurrence is skipped while the previous one's task/run is not terminal (default)" },
  ),
  catch_up: Type.Union(
    CATCH_UP_POLICIES.map((p) => Type.Literal(p)),
    { description: 'Occurrences missed while no replica ran: latest (default) fires the most recent once, none drops them, all fires them (at most 100)' },
  ),
  start_within_ms: Type.Union([Type.Integer({ minimum: 1, maximum: LIMITS.timeoutMsMax }), Type.Null()], {
    description: 'Each created task must be assigned within this of its occurrence, else it ends timed_out',
  }),
  paused: Type.Boolean({ description: 'A paused schedule fires nothing (it still previews)' }),
};

export const CreateScheduleBody = named(
  'CreateScheduleRequest',
  Type.Object(
    {
      name: writable.name,
      cron: Type.Optional(writable.cron),
      calendar: Type.Optional(writable.calendar),
      timezone: Type.Optional(writable.timezone),
      start_at: Type.Optional(writable.start_at),
      end_at: Type.Optional(writable.end_at),
      task: Type.Optional(writable.task),
      workflow: Type.Optional(writable.workflow),
      overlap: Type.Optional(writable.overlap),
      catch_up: Type.Optional(writable.catch_up),
      start_within_ms: Type.Optional(writable.start_within_ms),
      paused: Type.Optional(writable.paused),
      flow: Type.Optional(WordwareFlow),
      schedule: Type.Optional({ ...CalendarSchema, description: 'The Wordware form of calendar' }),
    },
    {
      additionalProperties: false,
      description:
        "Exactly one of cron/calendar/schedule and exactly one of task/workflow/flow. The Wordware dispatcher's event file is accepted as is: name, flow (a call task template) and schedule (a calendar)",
    },
  ),
);
export type CreateScheduleBody = Static<typeof CreateScheduleBody>;

export const PatchScheduleBody = named(
  'PatchScheduleRequest',
  Type.Partial(Type.Object(writable), {
    additionalProperties: false,
    minProperties: 1,
    description: 'Any writable field; a changed timetable (cron, calendar, timezone, start_at, end_at) or a resume recomputes next_run_at from now',
  }),
);
export type PatchScheduleBody = Static<typeof PatchScheduleBody>;

export const ScheduleSchema = named(
  'Schedule',
  Type.Object(
    {
      id: Uuid,
      name: Type.String(),
      requester: Type.String(),
      cron: Type.Union([Type.String(), Type.Null()]),
      calendar: Type.Union([CalendarSchema, Type.Null()]),
      timezone: Type.String(),
      start_at: NullableTimestamp,
      end_at: NullableTimestamp,
      task: Type.Union([ScheduleTaskBody, Type.Null()]),
      workflow: Type.Union([ScheduleWorkflow, Type.Null()]),
      overlap: writable.overlap,
      catch_up: writable.catch_up,
      start_within_ms: Type.Union([Type.Integer(), Type.Null()]),
      paused: Type.Boolean(),
      next_run_at: NullableTimestamp,
      last_run_at: NullableTimestamp,
      created_at: Timestamp,
      updated_at: Timestamp,
    },
    { additionalProperties: false, description: 'A schedule' },
  ),
);

export const ScheduleListSchema = named(
  'ScheduleList',
  Type.Object(
    { schedules: Type.Array(ScheduleSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) },
    { additionalProperties: false, description: 'Newest first' },
  ),
);

export const ListSchedulesQuery = Type.Object(
  {
    requester: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    paused: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.listLimitMax, default: LIMITS.listLimitDefault })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page (opaque)' })),
  },
  { additionalProperties: false },
);
export type ListSchedulesQuery = Static<typeof ListSchedulesQuery>;

export const PreviewQuery = Type.Object(
  { count: Type.Optional(Type.Integer({ minimum: 1, maximum: PREVIEW_MAX, default: 10 })) },
  { additionalProperties: false },
);
export const PreviewSchema = named(
  'Preview',
  Type.Object({ occurrences: Type.Array(Timestamp, { description: 'The next instants from now, UTC' }) }, { additionalProperties: false }),
);

export const RunsQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.listLimitMax, default: LIMITS.listLimitDefault })) },
  { additionalProperties: false },
);
export const ScheduleRunSchema = named(
  'ScheduleRun',
  Type.Object(
    {
      occurrence: Timestamp,
      fired_at: Timestamp,
      outcome: Type.Union([Type.Literal('fired'), Type.Literal('skipped')]),
      reason: Type.Optional(Type.String()),
      task_id: Type.Optional(Uuid),
      run_id: Type.Optional(Uuid),
      manual: Type.Boolean({ description: 'true: POST trigger, outside the timetable' }),
    },
    { additionalProperties: false },
  ),
);
export const ScheduleRunsSchema = named(
  'ScheduleRunList',
  Type.Object({ runs: Type.Array(ScheduleRunSchema, { description: 'Newest first' }) }, { additionalProperties: false }),
);
