// The scheduler's view of flow keys for one tick (§20, docs/flow-control.md): which keys with
// pending tasks may start how many now (core/flow.ts standingOf), which of their tasks the page
// reads, and when a held key frees by itself (the next token, the end of a pause). Read in one
// statement (store/flow.ts flowRead), bounded by the number of keys, never by their backlog.
import type { Config } from '../config.js';
import { configLimits, limitFor, mergeLimits, normalLimit, standingOf, type FlowLimit, type FlowStanding } from '../core/flow.js';
import type { FlowReads } from '../store/assignments.js';
import type { Sql } from '../store/db.js';
import { flowRead, type FlowRead } from '../store/flow.js';

/**
 * Tasks of a key read beyond those it may start now: so a task at the key's head that no agent
 * can take does not stop the key's others (they are planned; the key's budget goes to those an
 * agent takes). Small: a key that may start 2 reads at most 10 of its tasks per page.
 */
export const FLOW_READ_AHEAD = 8;

export interface FlowView {
  /** Per key with pending tasks (read this tick): its standing; planning and later pages spend it. */
  standings: Map<string, FlowStanding>;
  /** What the pending page reads of the keyed tasks. */
  reads: FlowReads;
  /** Keys that may start nothing now (the fair reads skip their tasks). */
  held: string[];
  /** The limit for a key (config + api, longest pattern), as dispatch_assign gets it. */
  limitOf(key: string): FlowLimit | undefined;
  /** The earliest instant (ms) a held key may start again by itself; null: none (a slot must free). */
  wakeAt: number | null;
}

/** The view of one read (pure apart from the read it is given). */
export function flowView(read: FlowRead, config: readonly FlowLimit[], now: number, batchSize: number): FlowView {
  const limits = mergeLimits(config, read.api).map(normalLimit);
  const cache = new Map<string, FlowLimit | undefined>();
  const limitOf = (key: string) => {
    if (!cache.has(key)) cache.set(key, limitFor(key, limits));
    return cache.get(key);
  };
  const standings = new Map<string, FlowStanding>();
  const keys: { key: string; limit: number }[] = [];
  const held: string[] = [];
  let wakeAt: number | null = null;
  for (const state of read.keys) {
    const s = standingOf(state.key, limitOf(state.key), state, now);
    standings.set(state.key, s);
    if (s.admissible > 0) keys.push({ key: state.key, limit: s.admissible === Infinity ? batchSize : Math.min(batchSize, s.admissible + FLOW_READ_AHEAD) });
    else held.push(state.key);
    if (s.wakeAt !== null && (wakeAt === null || s.wakeAt < wakeAt)) wakeAt = s.wakeAt;
  }
  return { standings, reads: { keys }, held, limitOf, wakeAt };
}

/** Reads the keys a tick at a time; past MAX_FLOW_KEYS_PER_TICK keys, the next tick continues after the last one read. */
export class FlowReader {
  private after: string | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly config: Pick<Config, 'flow' | 'assignment'>,
  ) {}

  async read(now: Date): Promise<FlowView> {
    const r = await flowRead(this.sql, this.after);
    this.after = r.more ? r.keys[r.keys.length - 1]!.key : undefined;
    return flowView(r, configLimits(this.config.flow.limits), now.getTime(), this.config.assignment.batch_size);
  }
}
