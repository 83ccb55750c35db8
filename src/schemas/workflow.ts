// TypeBox schemas of workflow definitions and runs (docs/workflows.md).
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPE_SOURCE, MAX_STEPS, RUN_STATUSES, STEP_ID_SOURCE, TRIGGER_TYPES, WORKFLOW_KEY_SOURCE } from '../core/workflow.js';
import { Timestamp, Uuid } from './common.js';
import { CreateTaskBody, LIMITS, TaskStatusSchema } from './task.js';
import { named } from './components.js';
import { CallCredential, CallHeaders, CallMethodSchema, CallSchema, CallTimeoutMs, CallUrl } from './call.js';

export const WorkflowKey = Type.String({ pattern: WORKFLOW_KEY_SOURCE, description: '1..100 chars of a-z 0-9 _ . -' });
const StepId = Type.String({ pattern: STEP_ID_SOURCE, description: '1..100 chars of A-Za-z0-9 _ . : -, unique in the workflow' });

/** A step's task: a create body without what the run decides (dependencies, parent, start time). */
const { depends_on: _d, parent_id: _p, not_before: _n, start_by: _s, ...stepTaskFields } = CreateTaskBody.properties;
export const StepTaskBody = named(
  'StepTask',
  Type.Object(stepTaskFields, {
    additionalProperties: false,
    description: 'The task each run creates for this step (a create body without depends_on, parent_id, not_before, start_by)',
  }),
);

const StepDependsOn = Type.Optional(Type.Array(StepId, { maxItems: LIMITS.dependsOnMax, description: 'Step ids of this workflow' }));

/** A step as written: a task, or a call in the object form or the Wisely seed's string form. */
export const StepSchema = named(
  'Step',
  Type.Object(
    {
      id: StepId,
      task: Type.Optional(StepTaskBody),
      call: Type.Optional(
        Type.Union([CallUrl, CallSchema], {
          description:
            "A call step (exactly one of task and call): the object of §18.1, or the seed's string form — the url, with method, timeout_ms, headers, credential beside it. Its task is titled by the step id and sends {context: <run context>, upstream: {<step id>: <result>}}",
        }),
      ),
      method: Type.Optional({ ...CallMethodSchema, description: 'Beside a string call: its method (default POST)' }),
      timeout_ms: Type.Optional({ ...CallTimeoutMs, description: 'Beside a string call: its timeout per attempt' }),
      headers: Type.Optional({ ...CallHeaders, description: 'Beside a string call: its extra headers' }),
      credential: Type.Optional({ ...CallCredential, description: 'Beside a string call: its credential name' }),
      depends_on: StepDependsOn,
    },
    { additionalProperties: false, description: 'Exactly one of task and call' },
  ),
);

/** A step as stored and shown: a call is always in the object form. */
export const StoredStepSchema = named(
  'StoredStep',
  Type.Object(
    { id: StepId, task: Type.Optional(StepTaskBody), call: Type.Optional(CallSchema), depends_on: StepDependsOn },
    { additionalProperties: false, description: 'A step as stored: exactly one of task and call (the object form)' },
  ),
);

export const EventType = Type.String({ pattern: EVENT_TYPE_SOURCE, description: '1..100 chars of A-Za-z0-9 _ - (the last token of swarm.trigger.<type>)' });

export const TriggerSchema = named(
  'Trigger',
  Type.Object(
    {
      type: Type.Union(
        TRIGGER_TYPES.map((t) => Type.Literal(t)),
        { description: 'cron: the cron starts runs; event: trigger events do; cron_or_event: both' },
      ),
      event_types: Type.Optional(
        Type.Array(EventType, { minItems: 1, maxItems: 100, uniqueItems: true, description: 'Trigger event types that start a run (event, cron_or_event)' }),
      ),
      cron: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 200,
          description: 'When runs start (cron, cron_or_event): a schedule named workflow:<key> owned by the workflow',
        }),
      ),
      timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "IANA name the cron's wall-clock times are in; default UTC" })),
    },
    { additionalProperties: false, description: 'What starts runs of the workflow besides a POST (CONTRACT §19.1)' },
  ),
);

export const WorkflowBody = named(
  'WorkflowDefinition',
  Type.Object(
    {
      key: Type.Optional({ ...WorkflowKey, description: 'If given, must equal the key in the path' }),
      description: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
      trigger: Type.Optional(Type.Union([TriggerSchema, Type.Null()])),
      steps: Type.Array(StepSchema, { minItems: 1, maxItems: MAX_STEPS }),
    },
    { additionalProperties: false, description: 'A workflow definition, as JSON or YAML (Content-Type: application/yaml)' },
  ),
);
export type WorkflowBody = Static<typeof WorkflowBody>;

export const WorkflowSchema = named(
  'Workflow',
  Type.Object(
    {
      key: WorkflowKey,
      version: Type.Integer({ minimum: 1, description: 'Raised by every changed definition' }),
      description: Type.Union([Type.String(), Type.Null()]),
      trigger: Type.Union([TriggerSchema, Type.Null()]),
      steps: Type.Array(StoredStepSchema),
      created_by: Type.String({ description: 'Who stored this version' }),
      created_at: { ...Timestamp, description: 'When the first version was stored' },
      updated_at: { ...Timestamp, description: 'When this version was stored' },
    },
    { additionalProperties: false, description: 'A workflow definition (its latest version)' },
  ),
);
export const WorkflowListSchema = named('WorkflowList', Type.Object({ workflows: Type.Array(WorkflowSchema) }, { additionalProperties: false }));
export const WorkflowParams = Type.Object({ key: WorkflowKey }, { additionalProperties: false });

export const StartRunBody = named(
  'StartRunRequest',
  Type.Object(
    { context: Type.Optional(Type.Object({}, { additionalProperties: true, description: "Merged into every step's task context" })) },
    { additionalProperties: false },
  ),
);
export type StartRunBody = Static<typeof StartRunBody>;

export const DispatchRunBody = named(
  'DispatchRunRequest',
  Type.Object(
    {
      workflow_key: WorkflowKey,
      user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Whom the run is for' })),
      intent_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'The intent it serves' })),
      payload: Type.Optional(Type.Unknown({ description: 'Any JSON, at most 256 KiB serialized' })),
    },
    { additionalProperties: false, description: "The Wisely seed's dispatch body: the run's context is {user_id, intent_id, payload}" },
  ),
);
export type DispatchRunBody = Static<typeof DispatchRunBody>;

export const RunStatusSchema = named('RunStatus', Type.Union(RUN_STATUSES.map((s) => Type.Literal(s))));

export const RunSchema = named(
  'Run',
  Type.Object(
    {
      id: Uuid,
      workflow_key: WorkflowKey,
      version: Type.Integer({ minimum: 1 }),
      requester: Type.String(),
      user_id: Type.Union([Type.String(), Type.Null()], { description: 'Whom the run is for (the seed dispatch body, a trigger event)' }),
      intent_id: Type.Union([Type.String(), Type.Null()], { description: 'The learning intent it serves (Wisely)' }),
      trigger_event_id: Type.Union([Uuid, Type.Null()], { description: 'The trigger event that started it' }),
      status: RunStatusSchema,
      context: Type.Object({}, { additionalProperties: true }),
      steps: Type.Array(
        Type.Object(
          { step_id: Type.String(), task_id: Uuid, status: TaskStatusSchema, depends_on: Type.Array(Type.String()) },
          { additionalProperties: false },
        ),
      ),
      created_at: Timestamp,
      completed_at: Type.Union([Timestamp, Type.Null()]),
    },
    { additionalProperties: false, description: 'A workflow run: one task per step; status derived from the tasks' },
  ),
);

const RUN_STATUS_LIST = `^(${RUN_STATUSES.join('|')})(,(${RUN_STATUSES.join('|')}))*$`;
export const ListRunsQuery = Type.Object(
  {
    workflow_key: Type.Optional(WorkflowKey),
    status: Type.Optional(Type.String({ pattern: RUN_STATUS_LIST, description: `Comma list of ${RUN_STATUSES.join(', ')}` })),
    requester: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.listLimitMax, default: LIMITS.listLimitDefault })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page (opaque)' })),
  },
  { additionalProperties: false },
);
export type ListRunsQuery = Static<typeof ListRunsQuery>;
export const RunListSchema = named(
  'RunList',
  Type.Object(
    { runs: Type.Array(RunSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) },
    { additionalProperties: false, description: 'Newest first' },
  ),
);

export const PatchRunBody = named(
  'PatchRunRequest',
  Type.Object({ status: Type.Literal('cancelled', { description: 'Cancel every task of the run that is not finished' }) }, { additionalProperties: false }),
);
