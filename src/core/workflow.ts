// Workflow definitions and runs (docs/workflows.md). Pure: validation of a definition (unique
// step ids, known dependencies, no cycle — the cycle named), the Wisely form of a step and of a
// trigger (normalised), the tasks a run starts with, and a run's status derived from its tasks'
// statuses.
import type { TaskCall, TaskStatus } from './task.js';
import { checkTimetable } from './schedule.js';

export const WORKFLOW_KEY_SOURCE = '^[a-z0-9_.-]{1,100}$';
export const STEP_ID_SOURCE = '^[A-Za-z0-9_.:-]{1,100}$';
export const MAX_STEPS = 200;
/** A trigger event type: also the last token of its NATS subject swarm.trigger.<type>, so no dots. */
export const EVENT_TYPE_SOURCE = '^[A-Za-z0-9_-]{1,100}$';
export const TRIGGER_TYPES = ['cron', 'event', 'cron_or_event'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/** A stored step: exactly one of `task` (a create body) and `call` (the object form of §18.1). */
export interface StepDefinition {
  id: string;
  /** A task create body (validated by the route schema); depends_on comes from the step. */
  task?: Record<string, unknown>;
  /** A call step: its task is titled by the step id and performs this request. */
  call?: TaskCall;
  depends_on?: string[];
}

/** A step as written: also the Wisely seed's form, `call: "/path"` with the call's fields beside it. */
export interface StepInput {
  id: string;
  task?: Record<string, unknown>;
  call?: string | TaskCall;
  method?: string;
  timeout_ms?: number;
  headers?: Record<string, string>;
  credential?: string;
  depends_on?: string[];
}

/** What starts runs of a workflow besides a POST (§19.1). */
export interface Trigger {
  type: TriggerType;
  event_types?: string[];
  cron?: string;
  timezone?: string;
}

export interface WorkflowDefinition {
  key: string;
  description?: string | null;
  steps: StepDefinition[];
}

const BESIDE_CALL = ['method', 'timeout_ms', 'headers', 'credential'] as const;

/**
 * A step in the stored form, or its problems: exactly one of task and call; the seed's string
 * form (`call: "/path"`, with method, timeout_ms, headers, credential beside it) becomes the
 * object form (method default POST); those fields beside an object call or a task are refused.
 */
export function normaliseStep(s: StepInput, i: number): { step: StepDefinition; problems: Problem[] } {
  const problems: Problem[] = [];
  const at = `steps.${i}`;
  if ((s.task === undefined) === (s.call === undefined)) problems.push({ field: at, message: 'must have exactly one of task and call' });
  const beside = BESIDE_CALL.filter((f) => s[f] !== undefined);
  if (beside.length && typeof s.call !== 'string') {
    for (const f of beside)
      problems.push({
        field: `${at}.${f}`,
        message: s.call === undefined ? 'is only accepted beside a call' : 'belongs inside the call object (the seed form puts it beside call: "/path")',
      });
  }
  const deps = s.depends_on?.length ? { depends_on: s.depends_on } : {};
  if (typeof s.call === 'string') {
    const call: TaskCall = {
      url: s.call,
      method: s.method ?? 'POST',
      ...(s.headers !== undefined ? { headers: s.headers } : {}),
      ...(s.credential !== undefined ? { credential: s.credential } : {}),
      ...(s.timeout_ms !== undefined ? { timeout_ms: s.timeout_ms } : {}),
    };
    return { step: { id: s.id, call, ...deps }, problems };
  }
  if (s.call !== undefined) return { step: { id: s.id, call: { ...s.call, method: s.call.method ?? 'POST' }, ...deps }, problems };
  return { step: { id: s.id, task: s.task ?? {}, ...deps }, problems };
}

/** A trigger's problems (fields prefixed `trigger.`): what its type needs, and nothing it would ignore. */
export function checkTrigger(t: Trigger): Problem[] {
  const problems: Problem[] = [];
  const wantsCron = t.type === 'cron' || t.type === 'cron_or_event';
  const wantsEvents = t.type === 'event' || t.type === 'cron_or_event';
  if (wantsCron && t.cron === undefined) problems.push({ field: 'trigger.cron', message: `is required for type ${t.type}` });
  if (!wantsCron && t.cron !== undefined) problems.push({ field: 'trigger.cron', message: `is not used by type ${t.type} (cron or cron_or_event)` });
  if (!wantsCron && t.timezone !== undefined) problems.push({ field: 'trigger.timezone', message: `is not used by type ${t.type} (it times the cron)` });
  if (wantsEvents && !t.event_types?.length) problems.push({ field: 'trigger.event_types', message: `must list at least one event type for type ${t.type}` });
  if (!wantsEvents && t.event_types !== undefined)
    problems.push({ field: 'trigger.event_types', message: `is not used by type ${t.type} (event or cron_or_event)` });
  if (wantsCron && t.cron !== undefined) {
    problems.push(...checkTimetable({ cron: t.cron, timezone: t.timezone ?? 'UTC' }).map((p) => ({ field: `trigger.${p.field}`, message: p.message })));
  }
  return problems;
}

/** Whether a workflow with this trigger starts a run for an event of `type`. */
export function listensTo(t: Trigger | null | undefined, type: string): boolean {
  return !!t && (t.type === 'event' || t.type === 'cron_or_event') && (t.event_types ?? []).includes(type);
}

/** The schedule a workflow's trigger.cron owns (§19.1): its name. */
export const triggerScheduleName = (key: string) => `workflow:${key}`;

export interface Problem {
  field: string;
  message: string;
}

export type DefinitionCheck = { ok: true } | { ok: false; kind: 'invalid'; problems: Problem[] } | { ok: false; kind: 'cycle'; cycle: string[] };

/**
 * Check a definition's graph: step ids unique, every depends_on names a step of this workflow
 * (and not twice), and no cycle. A cycle is reported as the step ids around it, starting and
 * ending with the same id (a self-loop: [a, a]).
 */
export function checkDefinition(def: WorkflowDefinition): DefinitionCheck {
  const problems: Problem[] = [];
  if (def.steps.length === 0) problems.push({ field: 'steps', message: 'must have at least one step' });
  if (def.steps.length > MAX_STEPS) problems.push({ field: 'steps', message: `must have at most ${MAX_STEPS} steps` });
  const ids = new Set<string>();
  def.steps.forEach((s, i) => {
    if (ids.has(s.id)) problems.push({ field: `steps.${i}.id`, message: `duplicate step id "${s.id}"` });
    ids.add(s.id);
  });
  def.steps.forEach((s, i) => {
    const seen = new Set<string>();
    (s.depends_on ?? []).forEach((d, j) => {
      if (!ids.has(d)) problems.push({ field: `steps.${i}.depends_on.${j}`, message: `unknown step id "${d}"` });
      if (seen.has(d)) problems.push({ field: `steps.${i}.depends_on.${j}`, message: `"${d}" is listed twice` });
      seen.add(d);
    });
  });
  if (problems.length) return { ok: false, kind: 'invalid', problems };
  const cycle = findCycle(def.steps);
  return cycle ? { ok: false, kind: 'cycle', cycle } : { ok: true };
}

/** The first cycle found by depth-first search over depends_on edges, or undefined. */
export function findCycle(steps: readonly StepDefinition[]): string[] | undefined {
  const deps = new Map(steps.map((s) => [s.id, s.depends_on ?? []]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  // Iterative DFS: a 200-step chain must not depend on the call stack's depth.
  for (const start of steps.map((s) => s.id)) {
    if (state.has(start)) continue;
    const stack: Array<{ id: string; next: number }> = [{ id: start, next: 0 }];
    state.set(start, 'open');
    path.push(start);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const edges = deps.get(top.id) ?? [];
      if (top.next < edges.length) {
        const d = edges[top.next++]!;
        const st = state.get(d);
        if (st === 'open') return [...path.slice(path.indexOf(d)), d];
        if (st === undefined) {
          state.set(d, 'open');
          path.push(d);
          stack.push({ id: d, next: 0 });
        }
        continue;
      }
      state.set(top.id, 'done');
      path.pop();
      stack.pop();
    }
  }
  return undefined;
}

export const RUN_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunStep {
  step_id: string;
  task_id: string;
  depends_on: string[];
}

/** Where a run came from besides its requester: the seed's dispatch body, a trigger event. */
export interface RunOrigin {
  user_id: string | null;
  intent_id: string | null;
  trigger_event_id: string | null;
}

export interface RunRow extends RunOrigin {
  id: string;
  workflow_key: string;
  version: number;
  requester: string;
  status: RunStatus;
  context: Record<string, unknown>;
  steps: RunStep[];
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

/** The run as clients see it: each step with its task's current status. */
export interface Run extends RunOrigin {
  id: string;
  workflow_key: string;
  version: number;
  requester: string;
  status: RunStatus;
  context: Record<string, unknown>;
  steps: Array<RunStep & { status: TaskStatus }>;
  created_at: string;
  completed_at: string | null;
}

export function runToApi(run: RunRow, statuses: ReadonlyMap<string, TaskStatus>): Run {
  return {
    id: run.id,
    workflow_key: run.workflow_key,
    version: run.version,
    requester: run.requester,
    user_id: run.user_id ?? null,
    intent_id: run.intent_id ?? null,
    trigger_event_id: run.trigger_event_id ?? null,
    status: run.status,
    context: run.context,
    steps: run.steps.map((s) => ({ ...s, status: statuses.get(s.task_id) ?? 'cancelled' })),
    created_at: run.created_at.toISOString(),
    completed_at: run.completed_at ? run.completed_at.toISOString() : null,
  };
}

/**
 * A run's status from its tasks': failed as soon as one failed or timed out; completed when all
 * completed; cancelled when nothing is left to run and some were cancelled (PATCH cancels every
 * live task of the run); otherwise running (so retrying a task of a failed run makes it running again).
 */
export function deriveRunStatus(statuses: Iterable<TaskStatus>): RunStatus {
  let all = 0;
  let completed = 0;
  let live = 0;
  let failed = false;
  for (const s of statuses) {
    all++;
    if (s === 'completed') completed++;
    else if (s === 'failed' || s === 'timed_out') failed = true;
    else if (s !== 'cancelled') live++;
  }
  if (failed) return 'failed';
  if (all > 0 && completed === all) return 'completed';
  if (live === 0 && completed < all) return 'cancelled';
  return 'running';
}

export type RunEventType = 'created' | 'completed' | 'failed' | 'cancelled';

/** A run's next row after its tasks changed, and the event announcing it (none while it stays, or returns to, running). */
export function decideRunStatus(run: RunRow, statuses: Iterable<TaskStatus>, now: Date): { next: RunRow; event: RunEventType | null } {
  const status = deriveRunStatus(statuses);
  if (status === run.status) return { next: run, event: null };
  const next: RunRow = { ...run, status, updated_at: now, completed_at: status === 'running' ? null : now };
  return { next, event: status === 'running' ? null : status };
}
