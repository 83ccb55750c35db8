// The fields of a new task that every create takes the same way from a create body: the API
// (POST /api/v1/tasks, swarm.task.request), a workflow step, a schedule's and a webhook source's
// template. One mapping, so a Task field a create body gains reaches every path.
import { heartbeatProblem, type NewTask } from '../core/decisions.js';
import { requiredTags } from '../core/task.js';
import type { CreateTaskBody } from '../schemas/task.js';

export type TaskTemplate = Pick<
  CreateTaskBody,
  'title' | 'description' | 'owner' | 'scope' | 'capabilities' | 'priority' | 'context' | 'timeout_ms' | 'max_retries' | 'heartbeat_timeout_ms' | 'flow_key'
>;

type TemplateFields = Pick<
  NewTask,
  'title' | 'description' | 'owner' | 'scope' | 'capabilities' | 'required_tags' | 'priority' | 'context' | 'timeout_ms' | 'max_retries'
> & { heartbeat_timeout_ms: number | null; flow_key: string | null };

/** Capabilities trimmed, lower-cased, de-duplicated; defaults applied (`defaultTimeoutMs`: assignment.default_timeout_ms). */
export function templateFields(body: TaskTemplate, defaultTimeoutMs: number): TemplateFields {
  const capabilities = [...new Set((body.capabilities ?? []).map((c) => c.trim().toLowerCase()).filter(Boolean))];
  return {
    title: body.title,
    description: body.description ?? null,
    owner: body.owner ?? null,
    scope: body.scope ?? null,
    capabilities,
    required_tags: requiredTags(body.scope, capabilities),
    priority: body.priority ?? 5,
    context: body.context ?? {},
    timeout_ms: body.timeout_ms ?? defaultTimeoutMs,
    max_retries: body.max_retries ?? 3,
    heartbeat_timeout_ms: body.heartbeat_timeout_ms ?? null,
    flow_key: body.flow_key ?? null,
  };
}

/**
 * The cross-field problems of a stored template, checked when it is defined (a schedule, a
 * workflow step) so a template that could never create a task is refused then, not at each
 * firing: the heartbeat timeout against the template's timeout (or today's default).
 */
export function templateProblems(body: TaskTemplate, defaultTimeoutMs: number, prefix: string): { field: string; message: string }[] {
  const p = heartbeatProblem(body.heartbeat_timeout_ms, body.timeout_ms ?? defaultTimeoutMs);
  return p ? [{ field: `${prefix}${p.field}`, message: p.message }] : [];
}
