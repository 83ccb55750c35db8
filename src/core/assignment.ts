// Planning one batch of assignments (docs/scheduler.md "Scoring"). Pure: decides from a snapshot, writes nothing.
//
// planAssignments walks the batch in the order given (priority desc, then oldest) and keeps its
// own count of the slots it hands out, so one tick never gives an agent more than its free slots
// and equal agents take turns. The writer re-checks every decision in the database (a CAS plus a
// row lock on the agent), so a stale snapshot can only make it assign less, never too much.
import { compareCandidates, scoreCandidate, type AgentView, type IneligibleReason } from './scoring.js';

export interface PlanTask {
  id: string;
  /** scope ∪ capabilities, lower-case. */
  requiredTags: readonly string[];
  priority: number;
  owner: string | null;
  /** The agent that just let this task lapse (wake timeout): chosen only if nobody else can. */
  avoidAgent: string | null;
}

export interface PlanSnapshot {
  /** Due pending tasks, already in assignment order. */
  tasks: readonly PlanTask[];
  agents: readonly AgentView[];
  maxConcurrent: number;
  ownerFilter: boolean;
  /** owner → the agent ids that owner holds; a missing entry or null: ownership unknown. */
  ownership: ReadonlyMap<string, ReadonlySet<string> | null>;
  /** False when capabilities were never loaded (PromptForge down since start). */
  capabilitiesKnown: boolean;
  /** False when agent states are unknown (Warren unreachable, nothing recent cached). */
  availabilityKnown: boolean;
  /** Logical now (ms), used as the agent's last assignment time for later tie-breaks. */
  now: number;
  /** assignment.track_record_weight (§16.4); undefined = 0. */
  recordWeight?: number;
}

export const UNMATCHED_REASONS = [
  'no_capable_agent',
  'no_owned_agent',
  'agents_drained',
  'no_available_agent',
  'ownership_unavailable',
  'capabilities_unavailable',
  'availability_unavailable',
] as const;
export type UnmatchedReason = (typeof UNMATCHED_REASONS)[number];

export type Decision =
  { kind: 'assign'; taskId: string; agent: string; score: number; wake: boolean } | { kind: 'unmatched'; taskId: string; reason: UnmatchedReason };

/** The one reason reported for a task no agent can take: the most fundamental obstacle wins. */
function unmatchedReason(reasons: Set<IneligibleReason>, snap: PlanSnapshot): UnmatchedReason {
  const capable = [...reasons].some((r) => r !== 'missing_capability');
  if (!capable) return snap.capabilitiesKnown ? 'no_capable_agent' : 'capabilities_unavailable';
  const owned = [...reasons].some((r) => r !== 'missing_capability' && r !== 'not_owned');
  if (!owned) return 'no_owned_agent';
  const undrained = [...reasons].some((r) => r === 'unavailable' || r === 'at_limit');
  if (!undrained) return 'agents_drained';
  return snap.availabilityKnown ? 'no_available_agent' : 'availability_unavailable';
}

export function planAssignments(snap: PlanSnapshot): Decision[] {
  // Working copies: what this plan has handed out so far.
  const agents: AgentView[] = snap.agents.map((a) => ({ ...a, capabilities: a.capabilities.map((c) => c.toLowerCase()) }));
  const decisions: Decision[] = [];
  for (const task of snap.tasks) {
    let ownedBy: ReadonlySet<string> | undefined;
    if (snap.ownerFilter && task.owner !== null) {
      const owned = snap.ownership.get(task.owner);
      if (!owned) {
        decisions.push({ kind: 'unmatched', taskId: task.id, reason: 'ownership_unavailable' });
        continue;
      }
      ownedBy = owned;
    }
    const reasons = new Set<IneligibleReason>();
    let best: { agent: AgentView; score: number; wake: boolean; avoided: boolean } | undefined;
    for (const agent of agents) {
      const s = scoreCandidate(task, agent, { maxConcurrent: snap.maxConcurrent, ...(ownedBy ? { ownedBy } : {}), recordWeight: snap.recordWeight });
      if (!s.eligible) {
        reasons.add(s.reason);
        continue;
      }
      const c = { agent, score: s.score, wake: s.wake, avoided: agent.id === task.avoidAgent };
      if (!best || (c.avoided !== best.avoided ? !c.avoided : compareCandidates(c, best) < 0)) best = c;
    }
    if (!best) {
      if (reasons.size === 0) reasons.add('missing_capability'); // no agents at all
      decisions.push({ kind: 'unmatched', taskId: task.id, reason: unmatchedReason(reasons, snap) });
      continue;
    }
    decisions.push({ kind: 'assign', taskId: task.id, agent: best.agent.id, score: round(best.score), wake: best.wake });
    best.agent.active += 1;
    best.agent.lastAssignedAt = snap.now;
    if (best.wake) best.agent.state = 'starting'; // woken once; later tasks ride on the same wake
  }
  return decisions;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
