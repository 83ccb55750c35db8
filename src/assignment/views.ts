// What planning decides from, built in ONE place for the scheduler (assign.ts) and GET /explain
// (services/explain.ts): the agents as AgentViews (directory snapshot + drain flags, last
// assignment, active counts and — when it weighs in — the track record from the database), the per-tick policy inputs, and a task as
// planning sees it. So explain evaluates a task exactly as the next tick would.
import type { Config } from '../config.js';
import type { DirectorySnapshot } from '../agents/directory.js';
import type { PlanSnapshot, PlanTask } from '../core/assignment.js';
import type { AgentView } from '../core/scoring.js';
import type { TaskRow } from '../core/task.js';
import type { AgentRow } from '../store/agents.js';

/** Every agent the directory knows, with its drain flag, last assignment and active count. */
export function agentViews(
  dir: DirectorySnapshot,
  agentRows: readonly AgentRow[],
  counts: ReadonlyMap<string, number>,
  records?: ReadonlyMap<string, { success_rate: number | null }>,
): AgentView[] {
  const rows = new Map(agentRows.map((r) => [r.id, r]));
  return dir.agents.map((d) => ({
    id: d.id,
    capabilities: d.capabilities,
    state: d.state,
    active: counts.get(d.id) ?? 0,
    drained: rows.get(d.id)?.drained ?? false,
    lastAssignedAt: rows.get(d.id)?.last_assigned_at?.getTime() ?? null,
    ...(records ? { successRate: records.get(d.id)?.success_rate ?? null } : {}),
  }));
}

/** The policy half of a plan snapshot: limits, the owner filter and what the directory knows. */
export function planPolicy(
  config: Config,
  dir: Pick<DirectorySnapshot, 'ownership' | 'capabilitiesKnown' | 'availabilityKnown'>,
): Omit<PlanSnapshot, 'tasks' | 'agents' | 'now'> {
  return {
    maxConcurrent: config.assignment.max_concurrent_per_agent,
    ownerFilter: config.assignment.owner_filter_enabled,
    ownership: dir.ownership,
    capabilitiesKnown: dir.capabilitiesKnown,
    availabilityKnown: dir.availabilityKnown,
    recordWeight: config.assignment.track_record_weight,
  };
}

export const planTask = (t: Pick<TaskRow, 'id' | 'required_tags' | 'priority' | 'owner' | 'avoid_agent' | 'flow_key'>): PlanTask => ({
  id: t.id,
  requiredTags: t.required_tags,
  priority: t.priority,
  owner: t.owner,
  avoidAgent: t.avoid_agent,
  flowKey: t.flow_key,
});
