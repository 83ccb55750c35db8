// The A2A door (CONTRACT §21.3, docs/agent-doors.md): Dispatch as one A2A agent. This module is
// the SDK's A2ARequestHandler (the core, protocol-1.0 types) implemented over Dispatch's use cases,
// so both of the SDK's JSON-RPC transport handlers — its native 1.0 protocol and the 0.3 compat
// layer (message/send, message/stream, tasks/get, tasks/cancel, tasks/resubscribe) — speak for it
// (http/routes/a2a.ts). No A2A state is kept: an A2A task IS a Dispatch task (same id), its status
// and artifacts are read from the task and its lifecycle events.
import { randomUUID } from 'node:crypto';
import { Role, TaskState, type AgentCard, type Artifact, type Message, type Part, type StreamResponse, type Task as A2ATask } from '@a2a-js/sdk';
import type { A2ARequestHandler, ServerCallContext, User } from '@a2a-js/sdk/server';
import {
  A2AError,
  ContentTypeNotSupportedError,
  ExtendedAgentCardNotConfiguredError,
  PushNotificationNotSupportedError,
  RequestMalformedError,
  TaskNotCancelableError,
  TaskNotFoundError,
  UnsupportedOperationError,
} from '@a2a-js/sdk/errors';
import type { DispatchContext } from '../context.js';
import { isTerminal, type Task, type TaskStatus } from '../core/task.js';
import { DispatchError } from '../errors.js';
import { isDatabaseUnavailable } from '../http/errors.js';
import { answerTask, createTask, getTask, parseCreateTaskBody, patchTask, taskEvents, type Actor } from '../services/tasks.js';
import { awaitTask, openEventStream, untilSettled, MAX_WAIT_S } from '../services/waiting.js';
import type { FeedRow } from '../waiting/index.js';

/** The longest a blocking message/send waits for a terminal or input-required state (§21.3). */
export const BLOCKING_WAIT_S = Math.min(60, MAX_WAIT_S);
/** A new task's title: the first text part, at most this many characters. */
export const A2A_TITLE_MAX = 200;
const MODES = ['text/plain', 'application/json'];

/** The caller, as the route authenticated it (auth.ts), carried on the SDK's call context. */
export class AgentUser implements User {
  constructor(readonly actor: Actor) {}
  get isAuthenticated(): boolean {
    return true;
  }
  get userName(): string {
    return this.actor.agentId;
  }
}

/** Where the route keeps the signal that the client went away (a stream then stops following). */
export const ABORT_KEY = 'dispatch.abort';
const abortOf = (context: ServerCallContext): AbortSignal | undefined => context.state.get(ABORT_KEY) as AbortSignal | undefined;

const actorOf = (context: ServerCallContext): Actor => {
  const user = context.user;
  if (!(user instanceof AgentUser)) throw new UnsupportedOperationError('no agent identity');
  return user.actor;
};

// ---------------------------------------------------------------------------------------------
// The mapping: Dispatch task → A2A task (pure)

/** §21.3's state table. */
export function a2aState(status: TaskStatus): TaskState {
  switch (status) {
    case 'waiting':
    case 'pending':
    case 'assigned':
      return TaskState.TASK_STATE_SUBMITTED;
    case 'running':
      return TaskState.TASK_STATE_WORKING;
    case 'input_required':
      return TaskState.TASK_STATE_INPUT_REQUIRED;
    case 'completed':
      return TaskState.TASK_STATE_COMPLETED;
    case 'failed':
    case 'timed_out':
      return TaskState.TASK_STATE_FAILED;
    case 'cancelled':
      return TaskState.TASK_STATE_CANCELED;
  }
}

const textPart = (text: string): Part => ({ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' });
const dataPart = (value: unknown): Part => ({ content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' });

const contextIdOf = (t: Task): string => {
  const a2a = (t.context as { a2a?: { contextId?: unknown } }).a2a;
  return typeof a2a?.contextId === 'string' ? a2a.contextId : t.id;
};

function agentMessage(t: Task, id: string, parts: Part[]): Message {
  return { messageId: id, contextId: contextIdOf(t), taskId: t.id, role: Role.ROLE_AGENT, parts, metadata: undefined, extensions: [], referenceTaskIds: [] };
}

/** The status message: the question while input-required, the error once failed. */
function statusMessage(t: Task): Message | undefined {
  if (t.status === 'input_required' && t.input) {
    return agentMessage(t, `${t.id}:input:${t.input.asked_at}`, [
      textPart(t.input.question),
      ...(t.input.schema ? [dataPart({ schema: t.input.schema })] : []),
    ]);
  }
  if ((t.status === 'failed' || t.status === 'timed_out' || t.status === 'cancelled') && t.error) {
    return agentMessage(t, `${t.id}:${t.status}`, [textPart(t.error)]);
  }
  return undefined;
}

/** The result as an artifact (a data part) once completed. */
export function resultArtifact(t: Task): Artifact | undefined {
  if (t.status !== 'completed' || t.result === null || t.result === undefined) return undefined;
  return {
    artifactId: 'result',
    name: 'result',
    description: 'What the agent reported on completion',
    parts: [dataPart(t.result)],
    metadata: undefined,
    extensions: [],
  };
}

export function toA2ATask(t: Task): A2ATask {
  const artifact = resultArtifact(t);
  return {
    id: t.id,
    contextId: contextIdOf(t),
    status: { state: a2aState(t.status), message: statusMessage(t), timestamp: t.updated_at },
    artifacts: artifact ? [artifact] : [],
    history: [],
    metadata: { dispatch: { status: t.status, assignee: t.assignee, scope: t.scope, requester: t.requester } },
  };
}

const statusUpdate = (t: Task): StreamResponse => ({
  payload: {
    $case: 'statusUpdate',
    value: { taskId: t.id, contextId: contextIdOf(t), status: toA2ATask(t).status, metadata: { dispatch: { status: t.status } } },
  },
});

// ---------------------------------------------------------------------------------------------
// The agent card (§21.3)

export interface CardOptions {
  /** Where the API is reached, e.g. http://localhost:8600 (the card's urls are <base>/a2a). */
  base: string;
  version: string;
  /** Capability tags the directory knows: one skill each. */
  tags: string[];
}

/**
 * The card as served: the 1.0 fields (supportedInterfaces: JSON-RPC 1.0 and 0.3 at one url) and
 * the 0.3 top-level ones (url, preferredTransport, protocolVersion), so both clients read it.
 */
export function agentCardJson(o: CardOptions): Record<string, unknown> {
  const url = `${o.base}/a2a`;
  return {
    name: 'Dispatch',
    description:
      'A task broker for a swarm of AI agents: a message becomes a task that an agent holding the skill (a capability tag) takes; the task may ask you a question (input-required) and ends with its result as an artifact.',
    version: o.version,
    url,
    preferredTransport: 'JSONRPC',
    protocolVersion: '0.3.0',
    supportedInterfaces: [
      { url, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: '' },
      { url, protocolBinding: 'JSONRPC', protocolVersion: '0.3', tenant: '' },
    ],
    capabilities: { streaming: true, pushNotifications: false, extensions: [] },
    securitySchemes: {
      agentId: { type: 'apiKey', in: 'header', name: 'X-Agent-ID', description: "The caller's agent id (auth.mode header)" },
      bearer: { type: 'http', scheme: 'bearer', description: 'An agent token (auth.mode token), or the admin token' },
    },
    security: [{ agentId: [] }, { bearer: [] }],
    defaultInputModes: MODES,
    defaultOutputModes: MODES,
    skills: o.tags.map((tag) => ({
      id: tag,
      name: tag,
      description: `Work for an agent holding the capability "${tag}" (set metadata.skill: "${tag}" on the message)`,
      tags: [tag],
      examples: [],
      inputModes: MODES,
      outputModes: MODES,
    })),
    signatures: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Errors: a DispatchError as the SDK's A2A error (its JSON-RPC code), with the contract's code in
// the ErrorInfo metadata (error.data[0].metadata.code on the wire).

function toA2AError(err: unknown, op?: 'cancel'): unknown {
  // An outage (the database unreachable, read-only during a failover) is `unavailable`, as on REST.
  if (isDatabaseUnavailable(err)) err = new DispatchError('unavailable', 503, 'the database is unavailable; retry shortly');
  if (!(err instanceof DispatchError)) return err;
  const metadata: Record<string, string> = { code: err.code };
  const opts = { message: err.message, metadata };
  switch (err.code) {
    case 'not_found':
      return new TaskNotFoundError(opts);
    case 'validation_failed':
    case 'invalid_id':
    case 'payload_too_large':
      return new RequestMalformedError(opts);
    case 'invalid_transition':
      return op === 'cancel' ? new TaskNotCancelableError(opts) : new UnsupportedOperationError(opts);
    case 'forbidden':
    case 'not_assignee':
      return new UnsupportedOperationError(opts);
    default:
      return new A2AError(opts);
  }
}

async function mapped<T>(fn: () => Promise<T>, op?: 'cancel'): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toA2AError(err, op);
  }
}

const malformed = (message: string, field: string) => new RequestMalformedError({ message, metadata: { code: 'validation_failed', field } });

// ---------------------------------------------------------------------------------------------
// Following a task's events (message/stream, tasks/resubscribe)

/**
 * The task as of its latest event (or, `fromStart`, its first: a stream that just created the task
 * follows it from its creation, however far a fast worker already took it), then the task after
 * each later event, until it is terminal or (after the start) waits for input. Reads the event
 * history once for that event (the snapshot, so nothing is missed or repeated), then the live
 * stream after it (services/waiting.ts).
 */
async function* followTask(ctx: DispatchContext, id: string, signal?: AbortSignal, fromStart = false): AsyncGenerator<Task> {
  const history = await taskEvents(ctx, id);
  const last = fromStart ? history[0] : history.at(-1);
  const first = last ? (last.data.task as Task) : await getTask(ctx, id);
  yield first;
  if (isTerminal(first.status)) return;
  const queue: FeedRow[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  const stream = await openEventStream(ctx, ctx.waiting, { taskId: id, ...(last ? { lastEventId: last.id } : {}) });
  const stop = () => stream.close();
  signal?.addEventListener('abort', stop, { once: true });
  const running = stream.run({
    send: (row) => {
      queue.push(row);
      poke();
      return true;
    },
    drain: async () => {},
    end: () => {
      ended = true;
      poke();
    },
  });
  try {
    for (;;) {
      const row = queue.shift();
      if (!row) {
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const task = (row.envelope.data as { task?: Task } | undefined)?.task;
      if (!task) continue;
      yield task;
      if (isTerminal(task.status) || task.status === 'input_required') return;
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    stream.close();
    await running;
  }
}

/** Task snapshots as A2A stream responses: the task first, then a status update per state change (the result artifact before completed). */
async function* streamOf(ctx: DispatchContext, id: string, signal?: AbortSignal, fromStart = false): AsyncGenerator<StreamResponse> {
  let first = true;
  let last: string | undefined;
  for await (const t of followTask(ctx, id, signal, fromStart)) {
    const state = `${a2aState(t.status)}:${t.input?.asked_at ?? ''}`;
    if (first) {
      first = false;
      last = state;
      yield { payload: { $case: 'task', value: toA2ATask(t) } };
      continue;
    }
    if (state === last) continue;
    last = state;
    const artifact = resultArtifact(t);
    if (artifact) {
      yield {
        payload: { $case: 'artifactUpdate', value: { taskId: t.id, contextId: contextIdOf(t), artifact, append: false, lastChunk: true, metadata: undefined } },
      };
    }
    yield statusUpdate(t);
  }
}

// ---------------------------------------------------------------------------------------------
// The handler

/** A message's answer to a question: its one data part, else its text, else both. */
function answerOf(msg: Message): unknown {
  const texts = msg.parts.flatMap((p) => (p.content?.$case === 'text' ? [p.content.value] : []));
  const data = msg.parts.flatMap((p) => (p.content?.$case === 'data' ? [p.content.value as unknown] : []));
  if (texts.length === 0 && data.length === 1) return data[0];
  if (data.length === 0) return texts.join('\n\n');
  return { text: texts.join('\n\n'), data };
}

function checkParts(msg: Message): void {
  if (!msg.parts || msg.parts.length === 0) throw malformed('the message has no parts', 'message.parts');
  const other = msg.parts.find((p) => p.content?.$case !== 'text' && p.content?.$case !== 'data');
  if (other) {
    throw new ContentTypeNotSupportedError({
      message: 'Dispatch takes text and data parts only (file parts are not accepted)',
      metadata: { code: 'validation_failed', field: 'message.parts' },
    });
  }
}

export class DispatchA2AHandler implements A2ARequestHandler {
  constructor(
    private readonly ctx: DispatchContext,
    private readonly card: Record<string, unknown>,
  ) {}

  async getAgentCard(): Promise<AgentCard> {
    return this.card as unknown as AgentCard;
  }

  async getAuthenticatedExtendedAgentCard(): Promise<AgentCard> {
    throw new ExtendedAgentCardNotConfiguredError();
  }

  /**
   * A new message → a new task (requester = the caller); a message naming the taskId of an
   * input_required task → its answer. Waits (≤ 60 s) for a terminal or input-required state
   * unless the client asked to return at once (1.0 returnImmediately; 0.3 blocking: false).
   */
  async sendMessage(params: Parameters<A2ARequestHandler['sendMessage']>[0], context: ServerCallContext): Promise<Message | A2ATask> {
    const id = await this.accept(params, context);
    const wait = params.configuration?.returnImmediately ? 0 : BLOCKING_WAIT_S;
    const task = await mapped(() => (wait > 0 ? awaitTask(this.ctx, this.ctx.waiting, id, wait, untilSettled) : getTask(this.ctx, id)));
    return toA2ATask(task);
  }

  async *sendMessageStream(
    params: Parameters<A2ARequestHandler['sendMessageStream']>[0],
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    const id = await this.accept(params, context);
    // A new task: from its creation (a free agent may have taken it in the create itself, §17).
    yield* streamOf(this.ctx, id, abortOf(context), !params.message?.taskId);
  }

  async getTask(params: Parameters<A2ARequestHandler['getTask']>[0]): Promise<A2ATask> {
    return toA2ATask(await mapped(() => getTask(this.ctx, params.id)));
  }

  async cancelTask(params: Parameters<A2ARequestHandler['cancelTask']>[0], context: ServerCallContext): Promise<A2ATask> {
    const actor = actorOf(context);
    return toA2ATask(await mapped(() => patchTask(this.ctx, actor, params.id, { status: 'cancelled' }), 'cancel'));
  }

  async *resubscribe(params: Parameters<A2ARequestHandler['resubscribe']>[0], context: ServerCallContext): AsyncGenerator<StreamResponse, void, undefined> {
    await mapped(() => getTask(this.ctx, params.id));
    yield* streamOf(this.ctx, params.id, abortOf(context));
  }

  async listTasks(): Promise<never> {
    throw new UnsupportedOperationError('tasks/list: use GET /api/v1/tasks or the MCP list_tasks tool');
  }

  async createTaskPushNotificationConfig(): Promise<never> {
    throw new PushNotificationNotSupportedError();
  }

  async getTaskPushNotificationConfig(): Promise<never> {
    throw new PushNotificationNotSupportedError();
  }

  async listTaskPushNotificationConfigs(): Promise<never> {
    throw new PushNotificationNotSupportedError();
  }

  async deleteTaskPushNotificationConfig(): Promise<never> {
    throw new PushNotificationNotSupportedError();
  }

  /** Create the task, or answer the one the message names; returns the task id. */
  private async accept(params: Parameters<A2ARequestHandler['sendMessage']>[0], context: ServerCallContext): Promise<string> {
    const actor = actorOf(context);
    const msg = params.message;
    if (!msg) throw malformed('message is required', 'message');
    checkParts(msg);
    if (msg.taskId) {
      const taskId = msg.taskId;
      await mapped(() => answerTask(this.ctx, actor, taskId, { answer: answerOf(msg) }));
      return taskId;
    }
    const meta = (msg.metadata ?? {}) as Record<string, unknown>;
    const skill = typeof meta.scope === 'string' ? meta.scope : typeof meta.skill === 'string' ? meta.skill : undefined;
    if (!skill || !skill.trim()) {
      throw malformed('the message names no skill: set metadata.skill (or metadata.scope) to a skill of the agent card', 'message.metadata.skill');
    }
    const texts = msg.parts.flatMap((p) => (p.content?.$case === 'text' ? [p.content.value] : []));
    const title = (texts.find((s) => s.trim()) ?? '').trim().slice(0, A2A_TITLE_MAX);
    if (!title) throw malformed('the message needs a text part: its first one is the task title', 'message.parts');
    const context2: Record<string, unknown> = {};
    for (const p of msg.parts) {
      if (p.content?.$case !== 'data') continue;
      const v = p.content.value as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v))
        throw malformed('a data part must hold a JSON object (merged into the task context)', 'message.parts');
      Object.assign(context2, v);
    }
    const contextId = msg.contextId || randomUUID();
    context2.a2a = { contextId, messageId: msg.messageId };
    // The same validation as POST /api/v1/tasks (bounds of every field), nothing stored on a refusal.
    const body = await mapped(async () => parseCreateTaskBody({ title, description: texts.join('\n\n'), scope: skill, context: context2 }));
    const { task } = await mapped(() => createTask(this.ctx, actor.agentId, body));
    return task.id;
  }
}
