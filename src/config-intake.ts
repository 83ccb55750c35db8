// The `intake:` configuration (signed webhook sources, docs/webhooks.md): its shape and the check
// run at start with every other config problem. Problems name the source and the key, never a
// value (a secret must not reach stderr or a log).
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { AGENT_ID_RULE, isAgentId, isObject } from './core/ids.js';
import { HOOK_SOURCE_PATTERN, HOOK_SOURCE_RULE, mapPlaceholders } from './core/hooks.js';
import { WORKFLOW_KEY_SOURCE } from './core/workflow.js';
import { CreateTaskBody } from './schemas/task.js';
import { templateProblems, type TaskTemplate } from './services/new-task.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface IntakeSource {
  /** HMAC-SHA256 key (sensitive). */
  secret: string;
  /** Header carrying `sha256=<hex of HMAC(secret, raw body)>`. */
  signature_header: string;
  /** Header carrying the delivery id: a repeated id creates nothing new. */
  delivery_header?: string;
  /** Header carrying the event type, matched against `events`. */
  event_header?: string;
  /** Accepted event types; others → 202 ignored. Absent: every event. */
  events?: string[];
  /** Requester of the tasks/runs; default the source name. */
  requester?: string;
  /** Task template: a create body (POST /api/v1/tasks) whose strings may hold {{path}} placeholders. */
  task?: Record<string, unknown>;
  /** Or a workflow run; `context` (a template too) is merged into the run context with `payload`. */
  workflow?: { key: string; context?: Record<string, unknown> };
}

const SOURCE_KEYS = ['secret', 'signature_header', 'delivery_header', 'event_header', 'events', 'requester', 'task', 'workflow'];
/** RFC 9110 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
/** Fields a hook task may not set: it depends on nothing and has no parent (a workflow source chains steps). */
const TASK_FIELDS_REFUSED = ['depends_on', 'parent_id'];

const ajv = new Ajv({ allErrors: true, coerceTypes: false, useDefaults: false, strict: false });
addFormats(ajv);
const checkCreateBody = ajv.compile(CreateTaskBody);

/**
 * Every problem of an intake mapping. A task template is checked as POST /api/v1/tasks would
 * check it with each placeholder standing for a short text, so a misspelt field, a title that is
 * not a string or a priority of "high" stop the start; what a payload fills in is checked per
 * delivery.
 */
export function intakeProblems(intake: unknown, defaultTimeoutMs: number, httpWork?: { base_url: string; credentials: Record<string, string> }): string[] {
  if (!isObject(intake)) return []; // convict's format check already named it
  const problems: string[] = [];
  for (const [name, source] of Object.entries(intake)) {
    const where = `intake.${name}`;
    if (!HOOK_SOURCE_PATTERN.test(name)) problems.push(`${where}: the source name must be ${HOOK_SOURCE_RULE}`);
    if (!isObject(source)) {
      problems.push(`${where} must be a mapping`);
      continue;
    }
    const unknown = Object.keys(source).filter((k) => !SOURCE_KEYS.includes(k));
    if (unknown.length) problems.push(`${where} has unknown key(s) ${unknown.join(', ')}`);
    if (typeof source.secret !== 'string' || source.secret === '') problems.push(`${where}.secret is required (a non-empty string)`);
    if (typeof source.signature_header !== 'string' || !HEADER_NAME.test(source.signature_header)) {
      problems.push(`${where}.signature_header is required (a header name, e.g. X-Hub-Signature-256)`);
    }
    for (const k of ['delivery_header', 'event_header'] as const) {
      if (source[k] !== undefined && (typeof source[k] !== 'string' || !HEADER_NAME.test(source[k]))) problems.push(`${where}.${k} must be a header name`);
    }
    if (source.events !== undefined) {
      if (!Array.isArray(source.events) || source.events.length === 0 || source.events.some((e) => typeof e !== 'string' || e === '')) {
        problems.push(`${where}.events must be a non-empty list of event names`);
      } else if (source.event_header === undefined) {
        problems.push(`${where}.events needs event_header (the header the event name comes in)`);
      }
    }
    if (source.requester !== undefined && !isAgentId(source.requester)) problems.push(`${where}.requester must be ${AGENT_ID_RULE}`);
    const hasTask = source.task !== undefined;
    const hasWorkflow = source.workflow !== undefined;
    if (hasTask === hasWorkflow) problems.push(`${where} needs exactly one of task or workflow`);
    if (hasTask) problems.push(...taskTemplateProblems(`${where}.task`, source.task, defaultTimeoutMs, httpWork));
    if (hasWorkflow) problems.push(...workflowProblems(`${where}.workflow`, source.workflow));
  }
  return problems;
}

function taskTemplateProblems(
  where: string,
  task: unknown,
  defaultTimeoutMs: number,
  httpWork?: { base_url: string; credentials: Record<string, string> },
): string[] {
  if (!isObject(task)) return [`${where} must be a mapping (a task create body)`];
  const problems = TASK_FIELDS_REFUSED.filter((k) => k in task).map((k) => `${where}.${k} is not accepted on a hook task`);
  const probe = mapPlaceholders(task, () => 'x');
  if (!checkCreateBody(probe)) {
    for (const e of checkCreateBody.errors ?? []) {
      const params = e.params as Record<string, unknown>;
      const field = [e.instancePath.slice(1).replace(/\//g, '.'), (params.additionalProperty ?? params.missingProperty) as string | undefined]
        .filter(Boolean)
        .join('.');
      if (TASK_FIELDS_REFUSED.includes(field)) continue;
      problems.push(
        `${where}${field ? `.${field}` : ''} ${params.additionalProperty ? 'is not a task field' : params.missingProperty ? 'is required' : (e.message ?? 'is invalid')}`,
      );
    }
  } else {
    // Numbers are never placeholders (the probe above would have refused them): cross-checked now.
    for (const p of templateProblems(probe as TaskTemplate, defaultTimeoutMs, '', httpWork)) problems.push(`${where}.${p.field} ${p.message}`);
  }
  return problems;
}

function workflowProblems(where: string, wf: unknown): string[] {
  if (!isObject(wf)) return [`${where} must be a mapping {key, context?}`];
  const problems: string[] = [];
  const unknown = Object.keys(wf).filter((k) => k !== 'key' && k !== 'context');
  if (unknown.length) problems.push(`${where} has unknown key(s) ${unknown.join(', ')}`);
  if (typeof wf.key !== 'string' || !new RegExp(WORKFLOW_KEY_SOURCE).test(wf.key))
    problems.push(`${where}.key must be a workflow key (1..100 chars of a-z 0-9 _ . -)`);
  if (wf.context !== undefined && !isObject(wf.context)) problems.push(`${where}.context must be a mapping`);
  return problems;
}
