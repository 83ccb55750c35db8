// The pending pages of `assignment.fairness: requester` (§16.3, docs/fairness.md): each page is
// the next part of the fair order (core/fairness.ts), read band by band with a per-requester
// keyset position (store/fairness.ts fairBand), so the read stays bounded however deep one
// requester's backlog is. Like the fifo pages, the position where a full tick stopped carries
// over to the next tick's second page, so tasks nobody can take at the head never starve the rest.
import { fairOrder } from '../core/fairness.js';
import type { PendingRef } from '../store/assignments.js';
import type { Sql } from '../store/db.js';
import { fairBand, recordTurns, type BandFrom, type KeysetPos } from '../store/fairness.js';

/**
 * Band reads that found tasks one page may make before it is returned short (a page fills from
 * several bands, or from one band read again when its requesters had few tasks each). A read that
 * finds no due task moves to a lower band and is not counted: priorities are 0..10, so a page never
 * comes back empty while a due task waits in any band.
 */
export const MAX_READS_PER_PAGE = 8;

export type FairPos = { priority: number; after: Map<string, KeysetPos> } | { below: number };

/** Position in assignment order as one number: a lower band (or "below p") is further. */
const bandOf = (p: FairPos): number => ('below' in p ? p.below - 0.5 : p.priority);

const laterOf = (a: KeysetPos, b: KeysetPos): KeysetPos =>
  a.created_at.getTime() !== b.created_at.getTime() ? (a.created_at > b.created_at ? a : b) : a.id > b.id ? a : b;

/** The further of two positions; in one band, each requester's later position. */
export function furthest(a: FairPos, b: FairPos): FairPos {
  if (bandOf(a) !== bandOf(b)) return bandOf(a) < bandOf(b) ? a : b;
  if ('below' in a || 'below' in b) return a;
  const after = new Map(a.after);
  for (const [r, p] of b.after) after.set(r, after.has(r) ? laterOf(after.get(r)!, p) : p);
  return { priority: a.priority, after };
}

export class FairReader {
  /** Where the current tick's reading is (undefined: the top). */
  private pos: FairPos | undefined;
  /** Where the last full tick stopped. */
  private resume: FairPos | undefined;
  /** requester → turn, as last read or stamped. */
  private readonly turns = new Map<string, number>();
  /** The last read reached the end of the queue. */
  atEnd = false;
  /** Flow keys held this tick (§20): their tasks are not read. */
  private held: readonly string[] = [];

  constructor(
    private readonly sql: Sql,
    private readonly limit: () => number,
  ) {}

  /** The flow keys whose tasks this tick's reads skip (they may start nothing now). */
  skipKeys(held: readonly string[]): void {
    this.held = held;
  }

  /** The tick's first page, from the top. */
  async first(now: Date): Promise<PendingRef[]> {
    this.pos = undefined;
    this.atEnd = false;
    return this.read(now);
  }

  /** The next page; the tick's second page continues from where the previous tick stopped if that is further. */
  async next(now: Date, second: boolean): Promise<PendingRef[]> {
    if (second && this.resume && this.pos) this.pos = furthest(this.pos, this.resume);
    const page = await this.read(now);
    if (this.atEnd) this.resume = undefined;
    return page;
  }

  /** The tick read its last page: the next tick's second page starts here. */
  keepPosition(): void {
    this.resume = this.atEnd ? undefined : this.pos;
  }

  /** The end of the queue was reached: the next tick's pages start at the top. */
  forgetPosition(): void {
    this.resume = undefined;
  }

  /** Stamp the turns of the requesters just served (in assignment order, each once). */
  async served(requesters: readonly string[]): Promise<void> {
    for (const [r, n] of await recordTurns(this.sql, requesters)) this.turns.set(r, n);
  }

  private async read(now: Date): Promise<PendingRef[]> {
    const limit = this.limit();
    const out: PendingRef[] = [];
    for (let reads = 0; reads < MAX_READS_PER_PAGE && out.length < limit && !this.atEnd;) {
      const from: BandFrom = this.pos;
      const b = await fairBand(this.sql, now, limit - out.length, from, this.held);
      if (b.priority === null) {
        this.atEnd = true;
        break;
      }
      if (b.tasks.length > 0) reads++;
      for (const [r, n] of b.turns) this.turns.set(r, n);
      const ordered = fairOrder(b.tasks, this.turns);
      const taken = ordered.slice(0, limit - out.length);
      out.push(...taken);
      const perRequester = new Map<string, number>();
      for (const t of b.tasks) perRequester.set(t.requester, (perRequester.get(t.requester) ?? 0) + 1);
      const more = taken.length < ordered.length || [...perRequester.values()].some((n) => n >= b.k);
      if (!more) {
        this.pos = { below: b.priority };
        continue;
      }
      const after = new Map(this.pos && 'after' in this.pos && this.pos.priority === b.priority ? this.pos.after : []);
      for (const t of taken) after.set(t.requester, { created_at: t.created_at, id: t.id });
      this.pos = { priority: b.priority, after };
    }
    return out;
  }
}
