// Scoring one agent for one task (docs/scheduler.md "Scoring"). Pure: no I/O, no clock, no randomness.
//
//   score = capability_match × availability_multiplier × priority_weight × record_factor
//
// An agent that cannot take the task is not an exception: agentReasons lists every reason it
// cannot (the stable codes GET /explain shows), scoreCandidate is derived from it ({eligible:false,
// reason} — the most fundamental one) and planning turns the reasons of all agents into one
// unmatched reason. These rules have one author: this file.

/** What the scheduler knows about one agent at the start of a tick. */
export interface AgentView {
  id: string;
  /** Lower-case capability tags (PromptForge persona section, or the roster). */
  capabilities: readonly string[];
  /** Warren state: ready | sleeping | starting | degraded | …; anything unknown counts as unavailable. */
  state: string;
  /** Assigned + running tasks right now. */
  active: number;
  drained: boolean;
  /** When the agent was last given a task (ms since epoch), null if never: idle longest wins ties. */
  lastAssignedAt: number | null;
  /** Success rate over the agent's track record (§16.4), 0..1; undefined/null = no record = 1.0. */
  successRate?: number | null;
}

/** What scoring needs of a task. */
export interface TaskNeeds {
  /** scope ∪ capabilities, lower-case (core/task.ts requiredTags). */
  requiredTags: readonly string[];
  priority: number;
}

export interface ScoringPolicy {
  maxConcurrent: number;
  /** The owner's agents when the owner filter applies to this task; undefined = no filter. */
  ownedBy?: ReadonlySet<string>;
  /** The owner filter applies but the owner's agents are unknown (Alexandria down, nothing cached). */
  ownershipUnknown?: boolean;
  /** assignment.track_record_weight, 0..1 (undefined = 0: the record does not count). */
  recordWeight?: number;
}

/** Why an agent is not a candidate, most fundamental first (planning reports the best one). */
export type IneligibleReason = 'missing_capability' | 'not_owned' | 'drained' | 'unavailable' | 'at_limit';

export type Score =
  | { eligible: true; score: number; availability: number; wake: boolean; recordFactor: number }
  | { eligible: false; reason: IneligibleReason; reasons: readonly AgentReason[] };

/**
 * Every reason an agent cannot take a task, stable codes (§16.2), most fundamental first:
 * `missing_capability:<tag>` (one per missing tag), `not_owner`, `ownership_unavailable`,
 * `drained`, `at_limit`, `unavailable:<state>`.
 */
export type AgentReason = string;

/** The ineligible category of a reason code (the first reason decides scoreCandidate's). */
function categoryOf(reason: AgentReason): IneligibleReason {
  if (reason.startsWith('missing_capability:')) return 'missing_capability';
  if (reason === 'not_owner' || reason === 'ownership_unavailable') return 'not_owned';
  if (reason === 'drained') return 'drained';
  if (reason === 'at_limit') return 'at_limit';
  return 'unavailable';
}

/** States in which an agent can take work (availabilityOf gives their multipliers). */
const AVAILABLE_STATES: ReadonlySet<string> = new Set(['ready', 'sleeping', 'starting']);

export const AVAILABILITY = {
  /** ready with no active task */
  idle: 1.0,
  /** sleeping (needs a wake) or starting (already waking, not woken again) */
  waking: 0.8,
  /** ready, busy but under max_concurrent_per_agent */
  busy: 0.5,
} as const;

export function priorityWeight(priority: number): number {
  return 1 + 0.05 * priority;
}

/**
 * The track-record factor (§16.4): (1 − w) + w × success_rate, an agent with no record counting
 * as 1.0 — so w = 0 changes nothing and w = 1 scales the score by the success rate itself.
 */
export function recordFactor(successRate: number | null | undefined, weight: number | undefined): number {
  const w = weight ?? 0;
  if (w <= 0) return 1;
  const rate = successRate ?? 1;
  return 1 - w + w * rate;
}

/** Each capabilities array's lower-cased tags as a set, built once per array (views are rebuilt per tick). */
const heldSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function heldTags(agent: AgentView): ReadonlySet<string> {
  let held = heldSets.get(agent.capabilities);
  if (!held) {
    held = new Set(agent.capabilities.map((c) => c.toLowerCase()));
    heldSets.set(agent.capabilities, held);
  }
  return held;
}

function missingTags(agent: AgentView, tags: readonly string[]): string[] {
  if (tags.length === 0) return [];
  const held = heldTags(agent);
  let missing: string[] | undefined;
  for (const t of tags) {
    const tag = t.toLowerCase();
    if (!held.has(tag)) (missing ??= []).push(tag);
  }
  return missing ?? [];
}

/**
 * Availability multiplier, 0 when the agent cannot take work now. A sleeping or starting agent
 * that already holds work counts as busy (×0.5): it is waking for that work.
 */
export function availabilityOf(agent: AgentView, maxConcurrent: number): { multiplier: number; wake: boolean } {
  const multiplier = availabilityMultiplier(agent, maxConcurrent);
  return { multiplier, wake: multiplier > 0 && agent.state === 'sleeping' };
}

/** availabilityOf's multiplier alone (planning asks it of every agent for every task: no object). */
export function availabilityMultiplier(agent: AgentView, maxConcurrent: number): number {
  if (agent.active >= maxConcurrent) return 0;
  switch (agent.state) {
    case 'ready':
      return agent.active === 0 ? AVAILABILITY.idle : AVAILABILITY.busy;
    case 'sleeping':
    case 'starting':
      return agent.active === 0 ? AVAILABILITY.waking : AVAILABILITY.busy;
    default:
      return 0;
  }
}

/** Every reason `agent` cannot take `task` now (empty: it can), most fundamental first. */
export function agentReasons(task: TaskNeeds, agent: AgentView, policy: ScoringPolicy): AgentReason[] {
  const reasons: AgentReason[] = missingTags(agent, task.requiredTags).map((t) => `missing_capability:${t}`);
  if (policy.ownershipUnknown) reasons.push('ownership_unavailable');
  else if (policy.ownedBy && !policy.ownedBy.has(agent.id)) reasons.push('not_owner');
  if (agent.drained) reasons.push('drained');
  if (agent.active >= policy.maxConcurrent) reasons.push('at_limit');
  if (!AVAILABLE_STATES.has(agent.state)) reasons.push(`unavailable:${agent.state}`);
  return reasons;
}

/**
 * The category scoreCandidate would give an agent that cannot take the task (the first of
 * agentReasons, in its order), or undefined when it can (agentReasons would find nothing) —
 * without building the reasons: planning
 * asks this of every agent for every task, and in a full system most agents are at their limit.
 */
export function ineligibleCategory(task: TaskNeeds, agent: AgentView, policy: ScoringPolicy): IneligibleReason | undefined {
  if (task.requiredTags.length > 0) {
    const held = heldTags(agent);
    for (const t of task.requiredTags) if (!held.has(t.toLowerCase())) return 'missing_capability';
  }
  if (policy.ownershipUnknown || (policy.ownedBy && !policy.ownedBy.has(agent.id))) return 'not_owned';
  if (agent.drained) return 'drained';
  if (agent.active >= policy.maxConcurrent) return 'at_limit';
  if (!AVAILABLE_STATES.has(agent.state)) return 'unavailable';
  return undefined;
}

export function scoreCandidate(task: TaskNeeds, agent: AgentView, policy: ScoringPolicy): Score {
  if (ineligibleCategory(task, agent, policy) !== undefined) {
    const reasons = agentReasons(task, agent, policy);
    return { eligible: false, reason: categoryOf(reasons[0]!), reasons };
  }
  const { multiplier, wake } = availabilityOf(agent, policy.maxConcurrent);
  const factor = recordFactor(agent.successRate, policy.recordWeight);
  return { eligible: true, score: scoreOf(multiplier, task.priority, factor), availability: multiplier, wake, recordFactor: factor };
}

/**
 * scoreCandidate's score of an agent already known to be eligible (ineligibleCategory undefined),
 * with nothing allocated: what planning compares agents by.
 */
export function eligibleScore(task: TaskNeeds, agent: AgentView, policy: ScoringPolicy): number {
  return scoreOf(availabilityMultiplier(agent, policy.maxConcurrent), task.priority, recordFactor(agent.successRate, policy.recordWeight));
}

const scoreOf = (multiplier: number, priority: number, factor: number): number => 1 * multiplier * priorityWeight(priority) * factor;

/**
 * Order two scored candidates, best first: higher score, then fewer active tasks, then idle
 * longest (never assigned counts as idle longest), then agent id — so equal agents share work.
 */
export function compareCandidates(a: { agent: AgentView; score: number }, b: { agent: AgentView; score: number }): number {
  return compareScored(a.agent, a.score, b.agent, b.score);
}

/** compareCandidates on its parts (the planner's loop compares without building candidates). */
export function compareScored(a: AgentView, aScore: number, b: AgentView, bScore: number): number {
  if (aScore !== bScore) return bScore - aScore;
  if (a.active !== b.active) return a.active - b.active;
  const la = a.lastAssignedAt ?? -Infinity;
  const lb = b.lastAssignedAt ?? -Infinity;
  if (la !== lb) return la < lb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
