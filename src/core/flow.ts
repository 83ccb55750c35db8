// Flow control (CONTRACT §20, docs/flow-control.md), the pure parts: which limit applies to a key,
// how full a key's bucket is at an instant, and how many of a key's tasks may start now.
//
// Glossary
//   flow key   a task's `flow_key` (e.g. `user:42:agent:clo`, `model:gpt`): whose budget it spends.
//   pattern    a limit's key: an exact key, or a prefix ending in `*` (`user:*`, `*` for all keys).
//              Every distinct key a pattern matches has its own bucket and count.
//   limit      {rate, per_ms, burst} (a token bucket: `rate` tokens per `per_ms`, at most `burst`
//              held, a token taken at each start) and/or {concurrency} (tasks assigned, running or
//              input_required at once). The longest matching pattern applies; an exact key beats
//              every prefix; an api limit replaces the config limit of the same pattern.
//   held       a key that may start nothing now: paused, out of tokens or at its concurrency.
//   standing   a key's state at an instant: how many of its tasks may start, and why not more.
//
// Pure: no I/O, no clock (`now` is an argument).

/** What a flow key (and a limit pattern) may be: 1..200 chars of A-Za-z0-9._:@*- */
export const FLOW_KEY_SOURCE = '^[A-Za-z0-9._:@*-]{1,200}$';
export const FLOW_KEY_PATTERN = new RegExp(FLOW_KEY_SOURCE);
export const FLOW_KEY_RULE = '1..200 characters of A-Za-z0-9._:@*-';

/** Bounds of a limit's numbers (openapi.yaml). per_ms at most a day; a pause at most a day ahead. */
export const FLOW_BOUNDS = {
  rateMax: 1_000_000,
  perMsMax: 86_400_000,
  burstMax: 1_000_000,
  concurrencyMax: 1_000_000,
  pauseMaxMs: 86_400_000,
} as const;

export interface FlowLimitSpec {
  rate?: number;
  per_ms?: number;
  /** Bucket capacity; default `rate`. Only with a rate. */
  burst?: number;
  concurrency?: number;
}

export interface FlowLimit extends FlowLimitSpec {
  /** The pattern. */
  key: string;
  source: 'config' | 'api';
}

export type FlowHold = 'flow_paused' | 'flow_rate' | 'flow_concurrency';

/** flow.limits (the configuration's) as limits, source config. */
export const configLimits = (limits: readonly (FlowLimitSpec & { key: string })[]): FlowLimit[] => limits.map((l) => ({ ...l, source: 'config' as const }));

/** A key's row (flow_keys) with its active count, as read; no row = a full bucket, no pause. */
export interface FlowKeyState {
  key: string;
  tokens: number | null;
  refilled_at: Date | null;
  paused_until: Date | null;
  active: number;
}

export interface FlowStanding {
  key: string;
  limit: FlowLimit | undefined;
  /** Tasks of the key that may start now (Infinity: no limit and no pause). */
  admissible: number;
  /** Why no more may start (null when it is unlimited). */
  hold: FlowHold | null;
  /** Tokens in the bucket now (null: no rate). */
  tokens: number | null;
  /** When the key may start something again by itself (ms): the pause's end or the next token; null: a slot must free. */
  wakeAt: number | null;
}

export const isPrefix = (pattern: string): boolean => pattern.endsWith('*');

/** How specific a pattern is for a key it matches (higher wins); -1 when it does not match. */
export function specificity(pattern: string, key: string): number {
  if (pattern === key) return key.length + 1; // an exact key beats every prefix (a prefix is at most the key)
  if (!isPrefix(pattern)) return -1;
  const prefix = pattern.slice(0, -1);
  return key.startsWith(prefix) ? prefix.length : -1;
}

/** The limit that applies to `key`: the longest matching pattern. */
export function limitFor(key: string, limits: readonly FlowLimit[]): FlowLimit | undefined {
  let best: FlowLimit | undefined;
  let bestScore = -1;
  for (const l of limits) {
    const s = specificity(l.key, key);
    if (s > bestScore) {
      best = l;
      bestScore = s;
    }
  }
  return best;
}

/** Config limits with the api ones on top (an api limit replaces the config limit of its pattern), by pattern. */
export function mergeLimits(config: readonly FlowLimit[], api: readonly FlowLimit[]): FlowLimit[] {
  const byKey = new Map<string, FlowLimit>();
  for (const l of config) byKey.set(l.key, l);
  for (const l of api) byKey.set(l.key, l);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The limit with its defaults filled (burst = rate). */
export function normalLimit(l: FlowLimit): FlowLimit {
  return l.rate !== undefined && l.burst === undefined ? { ...l, burst: l.rate } : l;
}

/** Tokens in the bucket at `now` (the SQL twin: dispatch_flow_tokens, migrations/0060). */
export function tokensAt(limit: FlowLimitSpec, state: Pick<FlowKeyState, 'tokens' | 'refilled_at'> | undefined, now: number): number | null {
  if (limit.rate === undefined || limit.per_ms === undefined) return null;
  const burst = limit.burst ?? limit.rate;
  if (!state || state.tokens === null || state.refilled_at === null) return burst;
  const elapsed = Math.max(0, now - state.refilled_at.getTime());
  return Math.min(burst, state.tokens + (elapsed * limit.rate) / limit.per_ms);
}

/** How many of a key's tasks may start at `now`, and why not more. */
export function standingOf(key: string, limit: FlowLimit | undefined, state: FlowKeyState | undefined, now: number): FlowStanding {
  const tokens = limit ? tokensAt(limit, state, now) : null;
  const paused = state?.paused_until && state.paused_until.getTime() > now ? state.paused_until.getTime() : null;
  if (paused !== null) return { key, limit, admissible: 0, hold: 'flow_paused', tokens, wakeAt: paused };
  let admissible = Infinity;
  let hold: FlowHold | null = null;
  if (limit?.concurrency !== undefined) {
    admissible = Math.max(0, limit.concurrency - (state?.active ?? 0));
    hold = 'flow_concurrency';
  }
  let wakeAt: number | null = null;
  if (tokens !== null && limit?.rate !== undefined && limit.per_ms !== undefined) {
    const n = Math.floor(tokens);
    // (ceil of a float product: 1e-6 ms of slack, so 2000.0000000000002 ms is 2000)
    if (n === 0) wakeAt = now + Math.ceil(((1 - tokens) * limit.per_ms) / limit.rate - 1e-6);
    if (n < admissible) {
      admissible = n;
      hold = 'flow_rate';
    }
  }
  return { key, limit, admissible, hold, tokens, wakeAt };
}

/** The explain / unmatched-style reason code of a hold: `flow_rate:<key>`. */
export const holdReason = (hold: FlowHold, key: string): string => `${hold}:${key}`;

/** What is wrong with a limit body (beyond the schema's per-field bounds), field by field. */
export function limitProblems(l: FlowLimitSpec): { field: string; message: string }[] {
  const p: { field: string; message: string }[] = [];
  if (l.rate === undefined && l.concurrency === undefined) p.push({ field: 'body', message: 'needs rate (with per_ms) or concurrency, or both' });
  if ((l.rate === undefined) !== (l.per_ms === undefined)) p.push({ field: l.rate === undefined ? 'rate' : 'per_ms', message: 'rate and per_ms go together' });
  if (l.burst !== undefined && l.rate === undefined) p.push({ field: 'burst', message: 'is only accepted with rate' });
  return p;
}

/** Whether a pause until `until` is acceptable at `now`: in the future, at most a day ahead. */
export function pauseProblem(until: number, now: number): string | null {
  if (until <= now) return 'must be in the future';
  if (until - now > FLOW_BOUNDS.pauseMaxMs) return 'must be at most 24 h ahead';
  return null;
}
