// Workflow definitions and runs (docs/workflows.md). Pure: validation of a definition (unique
// step ids, known dependencies, no cycle — the cycle named), the tasks a run starts with, and a
// run's status derived from its tasks' statuses.
import type { TaskStatus } from './task.js';

export const WORKFLOW_KEY_SOURCE = '^[a-z0-9_.-]{1,100}$';
export const STEP_ID_SOURCE = '^[A-Za-z0-9_.:-]{1,100}$';
export const MAX_STEPS = 200;

export interface StepDefinition {
  id: string;
  /** A task create body (validated by the route schema); depends_on comes from the step. */
  task: Record<string, unknown>;
  depends_on?: string[];
}

export interface WorkflowDefinition {
  key: string;
  description?: string | null;
  steps: StepDefinition[];
}

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

export interface RunRow {
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
export interface Run {
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
