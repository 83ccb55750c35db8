// GET /api/v1/tasks/:id/explain (§16.2, docs/heartbeats.md "Explain"): why this agent, why none.
// Read-only: the same inputs the scheduler reads (assignment/views.ts builds them for both), the
// same pure evaluation (core/assignment.ts evaluateTask, from core/scoring.ts agentReasons) — no
// second copy of the rules — and, for a task that was assigned, the assignment's own record.
import type { ServiceContext } from '../context.js';
import { evaluateTask, rankCandidates, round } from '../core/assignment.js';
import { NotFoundError } from '../errors.js';
import { agentViews, planPolicy, planTask } from '../assignment/views.js';
import { agentRecords } from '../store/fairness.js';
import { agentRowsAndCounts } from '../store/agents.js';
import { getTaskRow } from '../store/tasks.js';
import type { TaskStatus } from '../core/task.js';
import { holdReason } from '../core/flow.js';
import { keyStanding } from './flow.js';

export interface ExplainCandidate {
  agent: string;
  eligible: boolean;
  score: number;
  /** The agent's state (ready, sleeping, starting, degraded, …). */
  availability: string;
  active_tasks: number;
  /** (1 − w) + w × success_rate with assignment.track_record_weight w; 1 when w is 0. */
  record_factor: number;
  max_concurrent: number;
  reasons: string[];
}

export interface Explanation {
  task_id: string;
  status: TaskStatus;
  evaluated_at: string;
  required_tags: string[];
  candidates: ExplainCandidate[];
  decision: { agent: string | null; reason: string | null };
  assigned?: { agent: string; score: number | null; woke: boolean | null; at: string };
}

export async function explainTask(ctx: ServiceContext, id: string): Promise<Explanation> {
  const row = await getTaskRow(ctx.sql, id);
  if (!row) throw new NotFoundError('task');
  const now = ctx.clock.now();
  const owners = ctx.config.assignment.owner_filter_enabled && row.owner !== null ? [row.owner] : [];
  const weighted = ctx.config.assignment.track_record_weight > 0;
  const keyed = row.status === 'pending' && row.flow_key !== null ? row.flow_key : null;
  const [{ rows, counts }, dir, records, flow] = await Promise.all([
    agentRowsAndCounts(ctx.sql),
    ctx.agents.snapshot(owners),
    weighted ? agentRecords(ctx.sql) : undefined,
    keyed !== null ? keyStanding(ctx, ctx.sql, keyed) : undefined,
  ]);
  const agents = agentViews(dir, rows, counts, records);
  const policy = planPolicy(ctx.config, dir);
  const { candidates, decision } = evaluateTask(planTask(row), agents, policy);
  // A held flow key (§20) stops the task whatever the agents: flow_paused:<key>, flow_concurrency:<key>, flow_rate:<key>.
  const held = flow && flow.standing.admissible === 0 && flow.standing.hold ? holdReason(flow.standing.hold, keyed!) : null;
  const taskLevel =
    row.status === 'waiting' ? 'waiting_for_dependencies' : row.status === 'pending' && row.not_before !== null && row.not_before > now ? 'not_before' : held;
  return {
    task_id: row.id,
    status: row.status,
    evaluated_at: now.toISOString(),
    required_tags: row.required_tags,
    candidates: [...candidates].sort(rankCandidates).map((c) => ({
      agent: c.agent.id,
      eligible: c.eligible,
      score: round(c.score),
      availability: c.agent.state,
      active_tasks: c.agent.active,
      max_concurrent: policy.maxConcurrent,
      reasons: c.reasons,
      record_factor: round(c.recordFactor),
    })),
    decision: taskLevel
      ? { agent: null, reason: taskLevel }
      : decision.kind === 'assign'
        ? { agent: decision.agent, reason: null }
        : { agent: null, reason: decision.reason },
    ...(row.status !== 'pending' && row.status !== 'waiting' && row.assignee !== null && row.assigned_at !== null
      ? { assigned: { agent: row.assignee, score: row.assigned_score, woke: row.assigned_woke, at: row.assigned_at.toISOString() } }
      : {}),
  };
}
