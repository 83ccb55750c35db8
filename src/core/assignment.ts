// Planning one batch of assignments (docs/scheduler.md "Scoring"). Pure: decides from a snapshot, writes nothing.
//
// planAssignments walks the batch in the order given (priority desc, then oldest) and keeps its
// own count of the slots it hands out, so one tick never gives an agent more than its free slots
// and equal agents take turns. The writer re-checks every decision in the database (a CAS plus a
// row lock on the agent), so a stale snapshot can only make it assign less, never too much.
import {
  availabilityOf,
  compareCandidates,
  compareScored,
  eligibleScore,
  ineligibleCategory,
  scoreCandidate,
  type AgentReason,
  type AgentView,
  type IneligibleReason,
} from './scoring.js';
import type { FlowHold, FlowStanding } from './flow.js';

export interface PlanTask {
  id: string;
  /** scope ∪ capabilities, lower-case. */
  requiredTags: readonly string[];
  priority: number;
  owner: string | null;
  /** The agent that just let this task lapse (wake timeout): chosen only if nobody else can. */
  avoidAgent: string | null;
  /** Its flow key (§20), if any. */
  flowKey?: string | null;
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
  /**
   * Flow keys' standings (§20, core/flow.ts): a key's tasks get at most `admissible` assignments in
   * this plan; the rest that an agent could take are `held` and take no slot. A key missing here
   * is not limited by the plan (the database still guards it).
   */
  flow?: ReadonlyMap<string, FlowStanding>;
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

/** What the agents say about one task: assign to one, or why none can take it. */
export type AgentDecision =
  { kind: 'assign'; taskId: string; agent: string; score: number; wake: boolean } | { kind: 'unmatched'; taskId: string; reason: UnmatchedReason };

export type Decision =
  | AgentDecision
  /** An agent could take it but its flow key may start no more now (§20): it stays pending, no `unmatched` is announced. */
  | { kind: 'held'; taskId: string; key: string; hold: FlowHold; limitKey: string | null };

/** The one reason reported for a task no agent can take: the most fundamental obstacle wins. */
function unmatchedReason(reasons: Set<IneligibleReason>, snap: Pick<PlanSnapshot, 'capabilitiesKnown' | 'availabilityKnown'>): UnmatchedReason {
  const capable = [...reasons].some((r) => r !== 'missing_capability');
  if (!capable) return snap.capabilitiesKnown ? 'no_capable_agent' : 'capabilities_unavailable';
  const owned = [...reasons].some((r) => r !== 'missing_capability' && r !== 'not_owned');
  if (!owned) return 'no_owned_agent';
  const undrained = [...reasons].some((r) => r === 'unavailable' || r === 'at_limit');
  if (!undrained) return 'agents_drained';
  return snap.availabilityKnown ? 'no_available_agent' : 'availability_unavailable';
}

/** One agent as evaluated for one task: what GET /explain lists, and what planning picks from. */
export interface Candidate {
  agent: AgentView;
  eligible: boolean;
  /** 0 when not eligible (unrounded: the decision and explain round it to 6 decimals). */
  score: number;
  /** The availability multiplier (0 when not eligible). */
  availability: number;
  wake: boolean;
  /** Every reason it cannot take the task (empty when eligible), plus `avoided_after_wake_timeout` for the avoided agent. */
  reasons: AgentReason[];
  avoided: boolean;
  /** The track-record factor in the score (§16.4; 1 when it does not weigh in or the agent is not eligible). */
  recordFactor: number;
}

/** The code explain shows for the agent a task's last attempt lapsed on: eligible, chosen only if nobody else can. */
export const AVOIDED_REASON = 'avoided_after_wake_timeout';

/**
 * The planner's order of candidates, best first: eligible before not, the avoided agent after
 * every other eligible one, then compareCandidates (score, fewer active, idle longest, id).
 */
export function rankCandidates(a: Candidate, b: Candidate): number {
  if (a.eligible !== b.eligible) return a.eligible ? -1 : 1;
  if (a.avoided !== b.avoided) return a.avoided ? 1 : -1;
  return compareCandidates(a, b);
}

export type Evaluation = { candidates: Candidate[]; decision: AgentDecision };

/**
 * Evaluate one task against the agents as they are now: every agent with its score and reasons
 * (in the agents' order), and the decision — the best candidate by rankCandidates, or the unmatched
 * reason. planAssignments decides every task with this function, and GET /explain shows it.
 */
export function evaluateTask(task: PlanTask, agents: readonly AgentView[], snap: Omit<PlanSnapshot, 'tasks' | 'agents' | 'now'>): Evaluation {
  const candidates: Candidate[] = [];
  return { candidates, decision: evaluate(task, agents, snap, candidates) };
}

/**
 * The decision of evaluateTask alone, with no candidate list (planning: a tick's page and every
 * create's sync match evaluate each task against every agent; the list was most of what a create allocated).
 */
export function decideTask(task: PlanTask, agents: readonly AgentView[], snap: Omit<PlanSnapshot, 'tasks' | 'agents' | 'now'>): AgentDecision {
  return evaluate(task, agents, snap, undefined);
}

/** evaluateTask's one loop: the decision, and each agent as a Candidate into `list` when given. */
function evaluate(
  task: PlanTask,
  agents: readonly AgentView[],
  snap: Omit<PlanSnapshot, 'tasks' | 'agents' | 'now'>,
  list: Candidate[] | undefined,
): AgentDecision {
  let ownedBy: ReadonlySet<string> | undefined;
  let ownershipUnknown = false;
  if (snap.ownerFilter && task.owner !== null) {
    const owned = snap.ownership.get(task.owner);
    if (owned) ownedBy = owned;
    else ownershipUnknown = true;
  }
  const policy = {
    maxConcurrent: snap.maxConcurrent,
    ...(ownedBy ? { ownedBy } : {}),
    ...(ownershipUnknown ? { ownershipUnknown } : {}),
    ...(snap.recordWeight !== undefined ? { recordWeight: snap.recordWeight } : {}),
  };
  const categories = new Set<IneligibleReason>();
  // The best so far by rankCandidates (every candidate here is eligible), kept as plain values.
  let best: AgentView | undefined;
  let bestScore = 0;
  let bestAvoided = false;
  let bestWake = false;
  for (const agent of agents) {
    const avoided = agent.id === task.avoidAgent;
    if (!list) {
      // Deciding only: no candidate to build — no reasons list for an agent that cannot take it,
      // no score object for one that can (the best one's wake is looked up once, below).
      const category = ineligibleCategory(task, agent, policy);
      if (category !== undefined) {
        categories.add(category);
        continue;
      }
      const score = eligibleScore(task, agent, policy);
      if (!best || (avoided !== bestAvoided ? !avoided : compareScored(agent, score, best, bestScore) < 0)) {
        best = agent;
        bestScore = score;
        bestAvoided = avoided;
      }
      continue;
    }
    const s = scoreCandidate(task, agent, policy);
    if (!s.eligible) {
      categories.add(s.reason);
      list?.push({
        agent,
        eligible: false,
        score: 0,
        availability: 0,
        wake: availabilityOf(agent, snap.maxConcurrent).wake,
        reasons: avoided ? [...s.reasons, AVOIDED_REASON] : [...s.reasons],
        avoided,
        recordFactor: 1,
      });
      continue;
    }
    list?.push({
      agent,
      eligible: true,
      score: s.score,
      availability: s.availability,
      wake: s.wake,
      reasons: avoided ? [AVOIDED_REASON] : [],
      avoided,
      recordFactor: s.recordFactor,
    });
    if (!best || (avoided !== bestAvoided ? !avoided : compareScored(agent, s.score, best, bestScore) < 0)) {
      best = agent;
      bestScore = s.score;
      bestAvoided = avoided;
      bestWake = s.wake;
    }
  }
  if (ownershipUnknown) return { kind: 'unmatched', taskId: task.id, reason: 'ownership_unavailable' };
  if (!best) {
    if (categories.size === 0) categories.add('missing_capability'); // no agents at all
    return { kind: 'unmatched', taskId: task.id, reason: unmatchedReason(categories, snap) };
  }
  const wake = list ? bestWake : availabilityOf(best, snap.maxConcurrent).wake;
  return { kind: 'assign', taskId: task.id, agent: best.id, score: round(bestScore), wake };
}

export function planAssignments(snap: PlanSnapshot): Decision[] {
  // Working copies: what this plan has handed out so far.
  // (The capabilities array itself is kept when already lower-case, as the directory gives it: the
  // scorer's tag sets are cached per array.)
  const agents: AgentView[] = snap.agents.map((a) => ({
    ...a,
    capabilities: a.capabilities.every((c) => c === c.toLowerCase()) ? a.capabilities : a.capabilities.map((c) => c.toLowerCase()),
  }));
  const byId = new Map(agents.map((a) => [a.id, a]));
  const decisions: Decision[] = [];
  // Per limited flow key: the starts left in this plan.
  const left = new Map<string, number>();
  for (const task of snap.tasks) {
    const decision = decideTask(task, agents, snap);
    const standing = task.flowKey ? snap.flow?.get(task.flowKey) : undefined;
    const budget = standing && standing.admissible !== Infinity ? (left.get(standing.key) ?? standing.admissible) : Infinity;
    if (decision.kind === 'assign' && budget <= 0) {
      // An agent could take it but its key may start no more now: it takes no slot.
      decisions.push({ kind: 'held', taskId: task.id, key: standing!.key, hold: standing!.hold ?? 'flow_concurrency', limitKey: standing!.limit?.key ?? null });
      continue;
    }
    decisions.push(decision);
    if (decision.kind !== 'assign') continue;
    if (budget !== Infinity) left.set(standing!.key, budget - 1);
    const agent = byId.get(decision.agent)!;
    agent.active += 1;
    agent.lastAssignedAt = snap.now;
    if (decision.wake) agent.state = 'starting'; // woken once; later tasks ride on the same wake
  }
  return decisions;
}

export function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
