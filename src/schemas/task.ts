// TypeBox schemas of the task API (openapi.yaml; docs/task-api.md, docs/events.md). Bodies are validated strictly (no
// coercion, unknown fields rejected); the same CreateTaskBody validates `swarm.task.request`.
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES, TASK_STATUSES } from '../core/task.js';
import { FLOW_KEY_SOURCE } from '../core/flow.js';
import { Timestamp, Uuid } from './common.js';
import { named } from './components.js';
import { CallSchema } from './call.js';

/** Bounds of the task fields (openapi.yaml), named once. */
export const LIMITS = {
  titleMax: 500,
  descriptionBytes: 64 * 1024,
  contextBytes: 256 * 1024,
  capabilitiesMax: 32,
  tagMax: 128,
  priorityMin: 0,
  priorityMax: 10,
  maxRetriesMax: 20,
  timeoutMsMax: 2_147_483_647,
  listLimitMax: 500,
  listLimitDefault: 50,
  errorMax: 64 * 1024,
  progressMessageMax: 4096,
  idempotencyKeyMax: 255,
  dependsOnMax: 100,
  callbackUrlMax: 2048,
  questionMax: 4096,
  inputSchemaBytes: 64 * 1024,
  answerBytes: 256 * 1024,
  targetBytes: 64 * 1024,
  durationMsMin: 1000,
  durationMsMax: 2 ** 31,
} as const;

/** The window fields of a create body and a template (§19.3, docs/windows.md). */
const windowFields = {
  start_at: Type.Optional(Type.Union([Timestamp, Type.Null()], { description: 'Not assigned before this instant' })),
  duration_ms: Type.Optional(
    Type.Union(
      [
        Type.Integer({
          minimum: LIMITS.durationMsMin,
          maximum: LIMITS.durationMsMax,
          description: 'A window: once assigned it runs until max(start_at, assigned_at) + duration_ms, then ends by itself (completed, reason window_ended)',
        }),
        Type.Null(),
      ],
      { description: '1000..2^31; null: not a window' },
    ),
  ),
  dry_run: Type.Optional(Type.Boolean({ description: 'Default false: a flag for the worker (Frequenz)' })),
  target: Type.Optional(Type.Unknown({ description: 'Any JSON (at most 64 KiB serialized): what the work acts on; null: none' })),
};

/** What `callback_events` may name: an event type without `task.`, or '*' for all. */
export const CALLBACK_EVENT_NAMES = [...EVENT_TYPES, '*'] as const;
const CallbackEvent = Type.Union(
  CALLBACK_EVENT_NAMES.map((t) => Type.Literal(t)),
  { description: "An event type without the 'task.' prefix, or '*'" },
);

const Nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()]);
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const TaskStatusSchema = named(
  'TaskStatus',
  Type.Union(
    TASK_STATUSES.map((s) => Type.Literal(s)),
    { description: 'Lifecycle status' },
  ),
);

/** Free JSON object (never an array or a scalar). */
const JsonObject = (description: string) => Type.Object({}, { additionalProperties: true, description });

export const ProgressSchema = named(
  'Progress',
  Type.Object(
    {
      message: Type.Optional(Type.String()),
      percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
      data: Type.Optional(JsonObject('Free data of the report')),
      at: Timestamp,
    },
    { additionalProperties: false, description: 'The last progress report' },
  ),
);

export const TaskInputSchema = named(
  'TaskInput',
  Type.Object(
    {
      question: Type.String({ description: 'What the assignee asked its requester' }),
      schema: Type.Union([JsonObject('A JSON Schema the answer should follow (advisory)'), Type.Null()]),
      asked_at: Timestamp,
      answer: Type.Unknown({ description: 'The answer (any JSON), null until given' }),
      answered_at: NullableTimestamp,
    },
    { additionalProperties: false, description: 'The last question of the attempt (input_required) and its answer' },
  ),
);

export const TaskSchema = named(
  'Task',
  Type.Object(
    {
      id: Uuid,
      title: Type.String({ minLength: 1, maxLength: LIMITS.titleMax }),
      description: Nullable(Type.String()),
      requester: Type.String({ description: "The creator's X-Agent-ID" }),
      owner: Nullable(Type.String({ description: 'Whose agents may do it (ownership filter)' })),
      scope: Nullable(Type.String({ description: 'The kind of work; also a required capability tag' })),
      capabilities: Type.Array(Type.String(), { description: 'Further required capability tags, lower-case' }),
      priority: Type.Integer({ minimum: LIMITS.priorityMin, maximum: LIMITS.priorityMax }),
      status: TaskStatusSchema,
      assignee: Nullable(Type.String({ description: 'Agent holding the task while assigned or running' })),
      context: JsonObject('Free JSON from the requester; PATCH merges keys'),
      progress: Type.Union([ProgressSchema, Type.Null()]),
      result: Type.Unknown({ description: 'What complete reported (any JSON), null until then' }),
      error: Nullable(Type.String({ description: 'Last failure or timeout reason' })),
      timeout_ms: Type.Integer({ minimum: 1, description: 'Per attempt, from assignment' }),
      max_retries: Type.Integer({ minimum: 0, maximum: LIMITS.maxRetriesMax }),
      retry_count: Type.Integer({ minimum: 0 }),
      parent_id: Type.Union([Uuid, Type.Null()]),
      not_before: NullableTimestamp,
      depends_on: Type.Array(Uuid, { description: 'Tasks this one waits for: waiting until every one completed' }),
      workflow_run_id: Type.Union([Uuid, Type.Null()], { description: 'The workflow run this task is a step of' }),
      step_id: Nullable(Type.String({ description: 'Its step id in that run' })),
      start_by: Type.Union([Timestamp, Type.Null()], { description: 'Start deadline: not assigned by then → timed_out ("not started by …")' }),
      schedule_id: Type.Union([Uuid, Type.Null()], { description: 'The schedule whose occurrence created this task' }),
      scheduled_for: Type.Union([Timestamp, Type.Null()], { description: 'That occurrence' }),
      callback_url: Nullable(Type.String({ description: 'Where its lifecycle events are POSTed (docs/callbacks.md)' })),
      callback_events: Type.Union([Type.Array(Type.String()), Type.Null()], {
        description: "Event types POSTed to callback_url ('*': all); null: only the event that ends the task",
      }),
      heartbeat_timeout_ms: Type.Union([Type.Integer({ minimum: 1000 }), Type.Null()], {
        description: 'No heartbeat (progress or POST /heartbeat) for this long while assigned or running → timeout, reason heartbeat; null: none',
      }),
      input_timeout_ms: Type.Integer({
        minimum: 1,
        description: 'How long an input_required task waits for its answer before it ends timed_out (reason input)',
      }),
      input: Type.Union([TaskInputSchema, Type.Null()], { description: 'The question asked in this attempt (input_required) and its answer; null when none' }),
      call: Type.Union([CallSchema, Type.Null()], {
        description:
          "The HTTP request Dispatch performs for a call task (assignee dispatch:http; method and timeout_ms filled in with their defaults); null for an agent's task",
      }),
      start_at: Type.Union([Timestamp, Type.Null()], { description: 'Not assigned before this instant' }),
      duration_ms: Type.Union([Type.Integer({ minimum: LIMITS.durationMsMin }), Type.Null()], { description: 'A window: how long it runs once assigned' }),
      until: Type.Union([Timestamp, Type.Null()], {
        description: "A window's end once assigned: max(start_at, assigned_at) + duration_ms; then it ends by itself. Null otherwise",
      }),
      dry_run: Type.Boolean(),
      target: Type.Unknown({ description: 'Any JSON: what the work acts on; null: none' }),
      flow_key: Nullable(Type.String({ description: "Whose flow budget the task's starts spend (docs/flow-control.md); null: none" })),
      created_at: Timestamp,
      updated_at: Timestamp,
      assigned_at: NullableTimestamp,
      started_at: NullableTimestamp,
      completed_at: NullableTimestamp,
    },
    { additionalProperties: false, description: 'A task' },
  ),
);

const Tag = Type.String({ minLength: 1, maxLength: LIMITS.tagMax, pattern: '\\S' });

export const CreateTaskBody = named(
  'CreateTaskRequest',
  Type.Object(
    {
      title: Type.String({ minLength: 1, maxLength: LIMITS.titleMax, pattern: '\\S', description: '1..500 characters, not blank' }),
      description: Type.Optional(Type.Union([Type.String({ maxLength: LIMITS.descriptionBytes, description: 'At most 64 KiB (UTF-8)' }), Type.Null()])),
      owner: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
      scope: Type.Optional(Type.Union([Tag, Type.Null()])),
      capabilities: Type.Optional(Type.Array(Tag, { maxItems: LIMITS.capabilitiesMax, description: 'Required capability tags (stored lower-case)' })),
      priority: Type.Optional(Type.Integer({ minimum: LIMITS.priorityMin, maximum: LIMITS.priorityMax, description: 'Default 5; higher is more urgent' })),
      context: Type.Optional(JsonObject('Free JSON object, at most 256 KiB serialized')),
      timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.timeoutMsMax, description: 'Per attempt; default assignment.default_timeout_ms' })),
      max_retries: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.maxRetriesMax, description: 'Default 3; 0 means never retry' })),
      heartbeat_timeout_ms: Type.Optional(
        Type.Union(
          [
            Type.Integer({
              minimum: 1000,
              maximum: LIMITS.timeoutMsMax,
              description:
                '1000..timeout_ms inclusive: an active task with no heartbeat (progress or POST /heartbeat) for this long times out (reason heartbeat)',
            }),
            Type.Null(),
          ],
          { description: 'Default null: no heartbeat timeout' },
        ),
      ),
      input_timeout_ms: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: LIMITS.timeoutMsMax,
          description:
            "How long the task may wait for its requester's answer once its assignee asks (input_required) before it ends timed_out (reason input); default 86400000 (24 h)",
        }),
      ),
      parent_id: Type.Optional(Type.Union([Uuid, Type.Null()], { description: 'Must name an existing task' })),
      not_before: Type.Optional(NullableTimestamp),
      start_by: Type.Optional(
        Type.Union([Timestamp, Type.Null()], {
          description: 'Start deadline: a task not yet assigned at this instant ends timed_out (event timeout, reason not_started)',
        }),
      ),
      depends_on: Type.Optional(
        Type.Array(Uuid, {
          maxItems: LIMITS.dependsOnMax,
          uniqueItems: true,
          description:
            'Existing tasks to wait for (≤ 100, distinct): the task is waiting until all completed, cancelled if one fails, times out or is cancelled',
        }),
      ),
      flow_key: Type.Optional(
        Type.Union(
          [
            Type.String({
              minLength: 1,
              maxLength: 200,
              pattern: FLOW_KEY_SOURCE,
              description:
                "1..200 chars of A-Za-z0-9._:@*- (e.g. user:42:agent:clo, model:gpt). The key's limit (the longest matching pattern of flow.limits and PUT /api/v1/flow/limits) and pause gate its starts: it stays pending while the key is out of tokens, at its concurrency or paused (docs/flow-control.md)",
            }),
            Type.Null(),
          ],
          { description: 'Default null: no flow control' },
        ),
      ),
      callback_url: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: LIMITS.callbackUrlMax,
          pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
          description:
            'Absolute http(s) URL the matching lifecycle events are POSTed to, signed (docs/callbacks.md). Needs webhooks.secret (else 400 callbacks_disabled); a host resolving to a loopback, link-local or private address → 400 callback_not_allowed unless listed in webhooks.allowed_hosts',
        }),
      ),
      callback_events: Type.Optional(
        Type.Array(CallbackEvent, {
          minItems: 1,
          maxItems: CALLBACK_EVENT_NAMES.length,
          uniqueItems: true,
          description: 'Which events to POST (e.g. ["assigned","completed"], or ["*"]); default: only the event that ends the task. Needs callback_url',
        }),
      ),
      call: Type.Optional(CallSchema),
      ...windowFields,
    },
    { additionalProperties: false, description: 'Create a task; everything else is set by Dispatch' },
  ),
);
export type CreateTaskBody = Static<typeof CreateTaskBody>;

export const CreateTaskHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: LIMITS.idempotencyKeyMax,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'Same key + same requester + same body within 24 h returns the original task (200); a different body → 409 idempotency_conflict',
    }),
  ),
});

export const PatchTaskBody = named(
  'PatchTaskRequest',
  Type.Object(
    {
      status: Type.Optional(Type.Literal('cancelled', { description: 'Cancel (from waiting, pending, assigned or running)' })),
      context: Type.Optional(JsonObject('Keys merged into the task context (shallow); only while not terminal')),
      priority: Type.Optional(Type.Integer({ minimum: LIMITS.priorityMin, maximum: LIMITS.priorityMax, description: 'Only while pending' })),
      target: Type.Optional(Type.Unknown({ description: 'Replaces the target (any JSON, at most 64 KiB); only while not terminal' })),
      duration_ms: Type.Optional(
        Type.Integer({
          minimum: LIMITS.durationMsMin,
          maximum: LIMITS.durationMsMax,
          description: "Replaces the window's duration; on an active window its until moves with it",
        }),
      ),
    },
    {
      additionalProperties: false,
      minProperties: 1,
      description:
        'At least one of status, context, priority, target, duration_ms. On an active window a change of context, target or duration_ms writes event updated (data.changed)',
    },
  ),
);
export type PatchTaskBody = Static<typeof PatchTaskBody>;

export const CompleteTaskBody = named(
  'CompleteTaskRequest',
  Type.Object(
    { result: Type.Optional(Type.Unknown({ description: 'Any JSON' })) },
    { additionalProperties: false, description: 'Optional; an empty or missing body completes with result null' },
  ),
);
export type CompleteTaskBody = Static<typeof CompleteTaskBody>;

export const FailTaskBody = named(
  'FailTaskRequest',
  Type.Object(
    {
      error: Type.String({ minLength: 1, maxLength: LIMITS.errorMax, description: 'Why the attempt failed' }),
      retryable: Type.Optional(Type.Boolean({ default: true, description: 'false fails the task without retry' })),
    },
    { additionalProperties: false },
  ),
);
export type FailTaskBody = Static<typeof FailTaskBody>;

export const ProgressBody = named(
  'ProgressRequest',
  Type.Object(
    {
      message: Type.Optional(Type.String({ maxLength: LIMITS.progressMessageMax })),
      percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
      data: Type.Optional(JsonObject('Free data')),
    },
    { additionalProperties: false, description: 'The first report moves assigned → running; an empty body is a heartbeat' },
  ),
);
export type ProgressBody = Static<typeof ProgressBody>;

export const InputRequiredBody = Type.Object(
  {
    question: Type.String({ minLength: 1, maxLength: LIMITS.questionMax, pattern: '\\S', description: 'What the requester should answer' }),
    schema: Type.Optional(JsonObject('A JSON Schema the answer should follow (advisory, shown to the requester)')),
  },
  { additionalProperties: false, description: 'The assignee of a running task asks its requester' },
);
export type InputRequiredBody = Static<typeof InputRequiredBody>;

export const InputBody = Type.Object(
  { answer: Type.Unknown({ description: 'Any JSON (at most 256 KiB serialized)' }) },
  { additionalProperties: false, description: 'The answer to the question of an input_required task' },
);
export type InputBody = Static<typeof InputBody>;

const STATUS_LIST = `^(${TASK_STATUSES.join('|')})(,(${TASK_STATUSES.join('|')}))*$`;

export const ListTasksQuery = Type.Object(
  {
    status: Type.Optional(Type.String({ pattern: STATUS_LIST, description: `Comma list of ${TASK_STATUSES.join(', ')}` })),
    requester: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    scope: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    workflow_run_id: Type.Optional(Uuid),
    schedule_id: Type.Optional(Uuid),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.listLimitMax, default: LIMITS.listLimitDefault })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page (opaque)' })),
  },
  { additionalProperties: false },
);
export type ListTasksQuery = Static<typeof ListTasksQuery>;

export const TaskListSchema = named(
  'TaskList',
  Type.Object(
    {
      tasks: Type.Array(TaskSchema),
      next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null at the end' }),
    },
    { additionalProperties: false, description: 'Newest first' },
  ),
);

export const EventSchema = named(
  'Event',
  Type.Object(
    {
      id: Uuid,
      type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(`task.${t}`))),
      source: Type.Literal('dispatch'),
      timestamp: Timestamp,
      correlation_id: Uuid,
      event_id: Type.Optional(Uuid),
      event_type: Type.Optional(Type.String({ description: "= type (Chronicle's key)" })),
      trace_id: Type.Optional(Uuid),
      metadata: Type.Optional(
        Type.Object(
          {
            title: Type.String(),
            owner: Type.Union([Type.String(), Type.Null()]),
            agent: Type.Union([Type.String(), Type.Null()]),
            status: TaskStatusSchema,
            error: Type.Union([Type.String(), Type.Null()]),
          },
          { additionalProperties: false, description: "Chronicle's summary of the task" },
        ),
      ),
      data: Type.Object(
        { task: TaskSchema },
        {
          additionalProperties: true,
          description:
            'The task after the change, plus type-specific fields: assigned → agent, score, woke; failed → will_retry; retry/timeout → retry_count, max_retries, reason; unmatched → reason; reassigned → from_agent, reason',
        },
      ),
    },
    { additionalProperties: false, description: 'Lifecycle event envelope (docs/events.md)' },
  ),
);

export const EventListSchema = named(
  'EventList',
  Type.Object({ events: Type.Array(EventSchema) }, { additionalProperties: false, description: 'Oldest first' }),
);

export const DeliverySchema = named(
  'Delivery',
  Type.Object(
    {
      event_id: Uuid,
      type: Type.String({ description: "The event's type without 'task.'" }),
      status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
      attempts: Type.Integer({ minimum: 0 }),
      last_status_code: Type.Union([Type.Integer(), Type.Null()], { description: "The endpoint's last HTTP status; null when it did not answer" }),
      last_error: Type.Union([Type.String(), Type.Null()]),
      next_attempt_at: Type.Union([Timestamp, Type.Null()], { description: 'When the next attempt is due; null once delivered or failed' }),
      delivered_at: NullableTimestamp,
    },
    { additionalProperties: false, description: 'One event to POST to the callback_url' },
  ),
);

export const DeliveryListSchema = named(
  'DeliveryList',
  Type.Object({ deliveries: Type.Array(DeliverySchema) }, { additionalProperties: false, description: 'Oldest first' }),
);

export const AttemptSchema = named(
  'Attempt',
  Type.Object(
    {
      attempt: Type.Integer({ minimum: 1, description: '1-based, in order (X-Dispatch-Attempt of a call)' }),
      agent: Type.Union([Type.String(), Type.Null()], { description: 'Who performed it: an agent id, or dispatch:http for a call task' }),
      started_at: Timestamp,
      finished_at: NullableTimestamp,
      outcome: Type.Union(
        ['completed', 'failed', 'timed_out', 'cancelled', 'running'].map((o) => Type.Literal(o)),
        { description: 'running while the attempt is in flight' },
      ),
      duration_ms: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'null while running' }),
      status_code: Type.Optional(
        Type.Union([Type.Integer(), Type.Null()], { description: "A call's (or an endpoint push's) HTTP status; null when no answer came" }),
      ),
      error: Type.Optional(Type.String({ description: 'Why it failed, at most 4 KiB (of an HTTP answer: its status and body)' })),
      log: Type.Optional(Type.String({ description: "A streamed answer's events, one per line, at most 16 KiB" })),
    },
    { additionalProperties: false, description: "One attempt of a task (Wisely's job_attempts)" },
  ),
);

export const AttemptListSchema = named(
  'AttemptList',
  Type.Object({ attempts: Type.Array(AttemptSchema) }, { additionalProperties: false, description: 'Oldest first' }),
);

/** GET /api/v1/tasks/:id/explain (§16.2, docs/heartbeats.md). */
export const ExplanationSchema = named(
  'Explanation',
  Type.Object(
    {
      task_id: Uuid,
      status: TaskStatusSchema,
      evaluated_at: Timestamp,
      required_tags: Type.Array(Type.String(), { description: 'scope ∪ capabilities, lower-case' }),
      candidates: Type.Array(
        Type.Object(
          {
            agent: Type.String(),
            eligible: Type.Boolean(),
            score: Type.Number({ description: '0 when not eligible' }),
            availability: Type.String({ description: 'The agent state: ready, sleeping, starting, degraded, …' }),
            active_tasks: Type.Integer({ minimum: 0 }),
            max_concurrent: Type.Integer({ minimum: 1 }),
            record_factor: Type.Number({
              description: 'The track-record factor in the score: (1 − w) + w × success_rate, w = assignment.track_record_weight (1 when 0)',
            }),
            reasons: Type.Array(Type.String(), {
              description:
                'Stable codes: missing_capability:<tag>, not_owner, ownership_unavailable, drained, at_limit, unavailable:<state>, avoided_after_wake_timeout (eligible, chosen only if nobody else can)',
            }),
          },
          { additionalProperties: false },
        ),
        { description: 'Every agent the directory knows, best first (the first eligible one is the decision)' },
      ),
      decision: Type.Object(
        {
          agent: Type.Union([Type.String(), Type.Null()]),
          reason: Type.Union([Type.String(), Type.Null()], {
            description:
              'null when an agent is named; else not_before, waiting_for_dependencies, a held flow key (flow_paused:<key>, flow_concurrency:<key>, flow_rate:<key>) or the unmatched reason (no_capable_agent, …)',
          }),
        },
        { additionalProperties: false },
      ),
      assigned: Type.Optional(
        Type.Object(
          {
            agent: Type.String(),
            score: Type.Union([Type.Number(), Type.Null()]),
            woke: Type.Union([Type.Boolean(), Type.Null()]),
            at: Timestamp,
          },
          { additionalProperties: false, description: 'The last assignment as recorded (assigned, running and finished tasks)' },
        ),
      ),
    },
    { additionalProperties: false, description: 'Why this agent, why none: computed now from the live directory, read-only' },
  ),
);
