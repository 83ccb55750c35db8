// The fields of a new task that every create takes the same way from a create body: the API
// (POST /api/v1/tasks, swarm.task.request), a workflow step, a schedule's and a webhook source's
// template. One mapping, so a Task field a create body gains reaches every path.
import { heartbeatProblem, type NewTask } from '../core/decisions.js';
import { CALL_ASSIGNEE, callProblems, hostKey, normaliseCall, type CallRules } from '../core/calls.js';
import { requiredTags } from '../core/task.js';
import { WORDWARE_CREDENTIAL } from '../core/call-spec.js';
import type { CreateTaskBody } from '../schemas/task.js';

export type TaskTemplate = Pick<
  CreateTaskBody,
  | 'title'
  | 'description'
  | 'owner'
  | 'scope'
  | 'capabilities'
  | 'priority'
  | 'context'
  | 'timeout_ms'
  | 'max_retries'
  | 'heartbeat_timeout_ms'
  | 'call'
  | 'start_at'
  | 'duration_ms'
  | 'dry_run'
  | 'target'
  | 'flow_key'
>;

type TemplateFields = Pick<
  NewTask,
  'title' | 'description' | 'owner' | 'scope' | 'capabilities' | 'required_tags' | 'priority' | 'context' | 'timeout_ms' | 'max_retries'
> & { heartbeat_timeout_ms: number | null; flow_key: string | null } & Required<
    Pick<NewTask, 'call' | 'call_host' | 'start_at' | 'duration_ms' | 'dry_run' | 'target'>
  >;

/** Capabilities trimmed, lower-cased, de-duplicated; defaults applied (`defaultTimeoutMs`: assignment.default_timeout_ms). */
export function templateFields(body: TaskTemplate, defaultTimeoutMs: number): TemplateFields {
  const capabilities = [...new Set((body.capabilities ?? []).map((c) => c.trim().toLowerCase()).filter(Boolean))];
  const call = body.call ? normaliseCall(body.call) : null;
  return {
    title: body.title,
    description: body.description ?? null,
    owner: body.owner ?? null,
    scope: body.scope ?? null,
    capabilities,
    // A call task also requires `dispatch:http`, a tag no agent holds (agents/directory.ts): a
    // second fence, beside the reads that leave call tasks out, against an agent ever taking one.
    required_tags: call ? requiredTags(body.scope, [...capabilities, CALL_ASSIGNEE]) : requiredTags(body.scope, capabilities),
    priority: body.priority ?? 5,
    context: body.context ?? {},
    timeout_ms: body.timeout_ms ?? defaultTimeoutMs,
    max_retries: body.max_retries ?? 3,
    heartbeat_timeout_ms: body.heartbeat_timeout_ms ?? null,
    call,
    call_host: call && !call.url.startsWith('/') ? hostKey(new URL(call.url)) : null,
    start_at: body.start_at ? new Date(body.start_at) : null,
    duration_ms: body.duration_ms ?? null,
    dry_run: body.dry_run ?? false,
    target: body.target ?? null,
    flow_key: body.flow_key ?? null,
  };
}

/** The part of the configuration a call is checked against (structural: config.ts imports this module's neighbours). */
interface HttpWorkConfig {
  http_work: { base_url: string; credentials: Record<string, string> };
}

/** The rules a call is checked against (http_work): the base url, and which credential names exist (`wordware` always). */
export function callRules(config: HttpWorkConfig): CallRules {
  const names = new Set([...Object.keys(config.http_work.credentials), WORDWARE_CREDENTIAL]);
  return { baseUrl: config.http_work.base_url, knownCredential: (n) => names.has(n) };
}

/**
 * The problems of a template's call (a path without base_url, an unknown credential, a reserved
 * header, a timeout above the task's), checked when a template is defined and at every create.
 * The address check (DNS) is the create's: services/calls.ts checkCallTarget.
 */
export function templateCallProblems(
  body: TaskTemplate,
  config: HttpWorkConfig & { assignment: { default_timeout_ms: number } },
  prefix: string,
): { field: string; message: string }[] {
  if (!body.call) return [];
  return callProblems(body.call, body.timeout_ms ?? config.assignment.default_timeout_ms, callRules(config), `${prefix}call.`);
}

/**
 * The cross-field problems of a stored template, checked when it is defined (a schedule, a
 * workflow step) so a template that could never create a task is refused then, not at each
 * firing: the heartbeat timeout against the template's timeout (or today's default), and with
 * `httpWork` (http_work) its call's fields (templateCallProblems).
 */
export function templateProblems(
  body: TaskTemplate,
  defaultTimeoutMs: number,
  prefix: string,
  httpWork?: HttpWorkConfig['http_work'],
): { field: string; message: string }[] {
  const p = heartbeatProblem(body.heartbeat_timeout_ms, body.timeout_ms ?? defaultTimeoutMs);
  const calls = httpWork ? templateCallProblems(body, { http_work: httpWork, assignment: { default_timeout_ms: defaultTimeoutMs } }, prefix) : [];
  return [...(p ? [{ field: `${prefix}${p.field}`, message: p.message }] : []), ...calls];
}
