// The MCP door's tools (CONTRACT §21.2, docs/agent-doors.md): thirteen tools, each an input schema
// (JSON Schema from TypeBox, validated here with the API's strict Ajv settings) and a handler that
// calls the same use cases as the REST routes (services/), never HTTP. A refusal — an unknown
// tool, arguments of the wrong shape, a DispatchError from a service — is a tool result with
// isError and structuredContent {code, error, details?}, never a protocol error.
import { Type, type Static, type TObject } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { DispatchContext } from '../context.js';
import { DispatchError, ValidationError } from '../errors.js';
import { isDatabaseUnavailable } from '../http/errors.js';
import { CreateTaskBody, LIMITS } from '../schemas/task.js';
import { Uuid } from '../schemas/common.js';
import { TASK_STATUSES } from '../core/task.js';
import { answerTask, completeTask, createTask, failTask, getTask, listTasks, patchTask, reportProgress, requestInput, type Actor } from '../services/tasks.js';
import { awaitTask, pollAssignments, untilSettled } from '../services/waiting.js';
import { explainTask } from '../services/explain.js';
import { startRun } from '../services/workflows.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true, removeAdditional: false, strict: false }));

/** Who calls a tool: the identity of the /mcp request (X-Agent-ID or an agent token, as /api/v1). */
export type Caller = Actor;

/** What a tool answers: its structuredContent (an object). */
type Out = Record<string, unknown>;

interface ToolDef<S extends TObject> {
  name: string;
  title: string;
  description: string;
  input: S;
  run(ctx: DispatchContext, caller: Caller, args: Static<S>): Promise<Out>;
}

const Id = { id: Uuid };
const obj = <P extends Parameters<typeof Type.Object>[0]>(props: P) => Type.Object(props, { additionalProperties: false });
const c = CreateTaskBody.properties;
const asOut = (v: unknown) => v as Out;

const def = <S extends TObject>(d: ToolDef<S>) => d as unknown as ToolDef<TObject>;

/** The tools, in the order tools/list shows them. */
export const TOOLS: ToolDef<TObject>[] = [
  def({
    name: 'create_task',
    title: 'Create a task',
    description:
      'Post work to the swarm: Dispatch assigns it to an agent holding every required capability tag (scope ∪ capabilities). Returns the Task; follow it with wait_for_task.',
    input: obj({
      title: c.title,
      scope: c.scope,
      capabilities: c.capabilities,
      description: c.description,
      priority: c.priority,
      context: c.context,
      depends_on: c.depends_on,
      timeout_ms: c.timeout_ms,
      input_timeout_ms: c.input_timeout_ms,
      flow_key: c.flow_key,
    }),
    run: async (ctx, caller, args) => asOut((await createTask(ctx, caller.agentId, args)).task),
  }),
  def({
    name: 'get_task',
    title: 'Get a task',
    description: 'The Task as it stands now.',
    input: obj(Id),
    run: async (ctx, _caller, args) => asOut(await getTask(ctx, args.id)),
  }),
  def({
    name: 'wait_for_task',
    title: 'Wait for a task',
    description:
      'Holds until the task is terminal (completed, failed, timed_out, cancelled) or waits for your answer (input_required; then call answer_task), at most timeout_s seconds; returns the Task as it is then.',
    input: obj({ ...Id, timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, default: 30, description: '1..60, default 30' })) }),
    run: async (ctx, _caller, args) => asOut(await awaitTask(ctx, ctx.waiting, args.id, args.timeout_s ?? 30, untilSettled)),
  }),
  def({
    name: 'list_tasks',
    title: 'List tasks',
    description: 'Newest first. status is a comma list of statuses.',
    input: obj({
      status: Type.Optional(
        Type.String({ pattern: `^(${TASK_STATUSES.join('|')})(,(${TASK_STATUSES.join('|')}))*$`, description: `Comma list of ${TASK_STATUSES.join(', ')}` }),
      ),
      requester: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      limit: Type.Optional(
        Type.Integer({ minimum: 1, maximum: LIMITS.listLimitMax, description: `1..${LIMITS.listLimitMax}, default ${LIMITS.listLimitDefault}` }),
      ),
    }),
    run: async (ctx, _caller, args) => ({ tasks: (await listTasks(ctx, args)).tasks }),
  }),
  def({
    name: 'cancel_task',
    title: 'Cancel a task',
    description: 'Requester or admin: cancels a waiting, pending, assigned, running or input_required task.',
    input: obj(Id),
    run: async (ctx, caller, args) => asOut(await patchTask(ctx, caller, args.id, { status: 'cancelled' })),
  }),
  def({
    name: 'answer_task',
    title: 'Answer a task waiting for input',
    description: 'Requester or admin: answers the question of an input_required task (its input.question); the task runs again for the same agent.',
    input: obj({ ...Id, answer: Type.Unknown({ description: 'Any JSON' }) }),
    run: async (ctx, caller, args) => asOut(await answerTask(ctx, caller, args.id, { answer: args.answer })),
  }),
  def({
    name: 'next_assignment',
    title: 'Next assignment (workers)',
    description:
      'Your next assigned task (or a task of yours whose question was answered: status running with input.answer), holding up to wait_s seconds for one; {task: null} when none. Acknowledge an assignment with report_progress.',
    input: obj({ wait_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 30, default: 0, description: '0..30, default 0' })) }),
    run: async (ctx, caller, args) => {
      const { tasks } = await pollAssignments(ctx, ctx.waiting, caller.agentId, caller.agentId, args.wait_s ?? 0);
      return { task: tasks[0] ?? null };
    },
  }),
  def({
    name: 'report_progress',
    title: 'Report progress (assignee)',
    description: 'The first report moves assigned → running; later ones record progress and count as heartbeats.',
    input: obj({
      ...Id,
      message: Type.Optional(Type.String({ maxLength: LIMITS.progressMessageMax })),
      percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    }),
    run: async (ctx, caller, { id, ...body }) => asOut(await reportProgress(ctx, caller.agentId, id, body)),
  }),
  def({
    name: 'complete_task',
    title: 'Complete a task (assignee)',
    description: 'Reports the task done with an optional result (any JSON).',
    input: obj({ ...Id, result: Type.Optional(Type.Unknown({ description: 'Any JSON' })) }),
    run: async (ctx, caller, { id, ...body }) => asOut(await completeTask(ctx, caller.agentId, id, body)),
  }),
  def({
    name: 'fail_task',
    title: 'Fail an attempt (assignee)',
    description: 'Retryable (default) with retries left → back to pending after a backoff; otherwise failed.',
    input: obj({
      ...Id,
      error: Type.String({ minLength: 1, maxLength: LIMITS.errorMax }),
      retryable: Type.Optional(Type.Boolean({ description: 'Default true' })),
    }),
    run: async (ctx, caller, { id, ...body }) => asOut(await failTask(ctx, caller.agentId, id, body)),
  }),
  def({
    name: 'request_input',
    title: 'Ask the requester (assignee)',
    description:
      "Asks the task's requester a question: the task waits (input_required) until answer_task; you hear the answer through next_assignment (the task comes back running with input.answer).",
    input: obj({
      ...Id,
      question: Type.String({ minLength: 1, maxLength: LIMITS.questionMax, pattern: '\\S' }),
      schema: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'A JSON Schema the answer should follow (advisory)' })),
    }),
    run: async (ctx, caller, { id, ...body }) => asOut(await requestInput(ctx, caller.agentId, id, body)),
  }),
  def({
    name: 'explain_task',
    title: 'Why this agent, why none',
    description: 'Every agent the directory knows, scored with its reasons, and the decision the scheduler would take now.',
    input: obj(Id),
    run: async (ctx, _caller, args) => asOut(await explainTask(ctx, args.id)),
  }),
  def({
    name: 'start_workflow',
    title: 'Start a workflow run',
    description: 'Starts a run of the latest version of a workflow definition; context is merged into every step task.',
    input: obj({
      key: Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9_.-]+$' }),
      context: Type.Optional(Type.Object({}, { additionalProperties: true })),
    }),
    run: async (ctx, caller, { key, ...body }) => asOut((await startRun(ctx, caller.agentId, key, body)).run),
  }),
];

const byName = new Map(TOOLS.map((t) => [t.name, t]));
const validators = new Map<string, ValidateFunction>(TOOLS.map((t) => [t.name, ajv.compile(t.input)]));

/** What tools/list answers (inputSchema is the tool's JSON Schema). */
export function toolList(): { name: string; title: string; description: string; inputSchema: Record<string, unknown> }[] {
  return TOOLS.map((t) => ({ name: t.name, title: t.title, description: t.description, inputSchema: JSON.parse(JSON.stringify(t.input)) }));
}

export interface ToolResult {
  [key: string]: unknown;
  content: { type: 'text'; text: string }[];
  structuredContent: Record<string, unknown>;
  isError?: boolean;
}

const result = (out: Out, isError = false): ToolResult => ({
  content: [{ type: 'text', text: JSON.stringify(out) }],
  structuredContent: out,
  ...(isError ? { isError: true } : {}),
});

function refusal(err: DispatchError): ToolResult {
  return result({ code: err.code, error: err.message, ...(err.details !== undefined ? { details: err.details } : {}) }, true);
}

/** tools/call: validate, run, and turn every refusal into an isError result. */
export async function callTool(ctx: DispatchContext, caller: Caller, name: string, rawArgs: unknown): Promise<ToolResult> {
  const tool = byName.get(name);
  if (!tool) {
    return refusal(new DispatchError('not_found', 404, `unknown tool ${JSON.stringify(name)}; the tools are ${TOOLS.map((t) => t.name).join(', ')}`));
  }
  const args = structuredClone(rawArgs ?? {});
  const check = validators.get(name)!;
  if (!check(args)) {
    const problems = (check.errors ?? []).map((e) => {
      const params = e.params as Record<string, unknown>;
      const base = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '';
      const extra = (params.additionalProperty ?? params.missingProperty) as string | undefined;
      const field = extra ? [base, extra].filter(Boolean).join('.') : base || 'arguments';
      return { field, message: params.additionalProperty ? 'is not an accepted argument' : (e.message ?? 'is invalid') };
    });
    return refusal(new ValidationError(`arguments of ${name} are invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems));
  }
  try {
    return result(await tool.run(ctx, caller, args as never));
  } catch (err) {
    if (err instanceof DispatchError) return refusal(err);
    // An outage (the database unreachable, read-only during a failover) is `unavailable`, as on REST.
    if (isDatabaseUnavailable(err)) return refusal(new DispatchError('unavailable', 503, 'the database is unavailable; retry shortly'));
    ctx.logger.error({ err, tool: name }, 'MCP tool failed');
    return refusal(new DispatchError('internal', 500, 'internal error'));
  }
}
