// The event feed (docs/waiting.md): one reader per replica that follows the outbox (task_events)
// in seq order and fans each committed row out to the open SSE streams, exactly once and in seq
// order, so a stream resumed with Last-Event-ID (replay from the table up to the feed's mark,
// then live) misses nothing and repeats nothing.
//
// seq is allocated at insert, not at commit: a row with a lower seq can become visible after a
// higher one. The feed therefore keeps a contiguous mark `high` (every seq ≤ high is final: seen
// and delivered, or never to be committed) and delivers only up to it. A seq missing below the
// highest seen (a hole) blocks delivery until either its row appears (its commit also NOTIFYs,
// so the next read has it), or it is known never to come: every transaction that was running
// when the hole was first seen has ended (the xmin of a later read's snapshot has passed the
// xmax of the snapshot that saw the hole) and the row is still absent — it was rolled back.
// HOLE_GRACE_MS covers the microseconds between a seq being drawn and its transaction taking an
// xid (a transaction without an xid is not in any snapshot).
//
// Lazy: the first subscriber starts it (one query to find its starting point); from then on it
// reads once per wake-up (the dispatch_events NOTIFY of any replica), only rows above what it has
// seen plus its holes, with the snapshot of that same statement.
import type { Logger } from 'pino';
import { Loop, waitAtMost, type ListenSpec, type Trigger } from '../loop.js';
import type { Sql } from '../store/db.js';
import { readFeed, seqWindow, type FeedRow } from '../store/waiting.js';
import { DispatchError } from '../errors.js';

export type { FeedRow } from '../store/waiting.js';

/** Rows per read. */
export const FEED_BATCH = 500;
/** How far below the highest seq the start looks for transactions still in flight. */
export const FEED_START_WINDOW = 1000;
/** A hole is given up no sooner than this after it was first seen (see the top). */
export const HOLE_GRACE_MS = 200;
/** While holes are open, a read this often (an aborted transaction sends no NOTIFY). */
export const HOLE_POLL_MS = 100;
/** More holes than this at once (a sequence jump after a crash): the excess counts as final. */
const MAX_HOLES = 10_000;
/** A subscriber waits this long at most for the feed's first read. */
const SYNC_WAIT_MS = 5000;

export interface FeedSubscriber {
  /** Rows in seq order, each once; called synchronously by the reader. */
  push(rows: readonly FeedRow[]): void;
}

export interface FeedRunResult {
  /** A read was made. */
  read: boolean;
  delivered: number;
  /** Holes still open after the read. */
  holes: number;
  more: boolean;
}

export interface EventFeedOptions {
  sql: Sql;
  log: Logger;
  /** Extra LISTEN channels carried by the feed's loop (the waiters' wake-ups). */
  listen: ListenSpec[];
  /** The pool whose listen connection carries dispatch_events. */
  listenSql: Sql;
  /** Milliseconds clock for the hole grace (default performance.now). */
  now?: () => number;
}

export class EventFeed {
  /** Every seq ≤ high is final (delivered, or never to exist). */
  private high = 0;
  private maxSeen = 0;
  private synced = false;
  private readonly holes = new Map<number, { xmax: bigint; since: number }>();
  /** Seen rows above `high`, waiting behind a hole. */
  private readonly ahead = new Map<number, FeedRow>();
  private readonly subscribers = new Set<FeedSubscriber>();
  private readonly now: () => number;
  readonly loop: Loop<FeedRunResult>;

  constructor(private readonly opts: EventFeedOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.loop = new Loop<FeedRunResult>({
      name: 'event-feed',
      log: opts.log,
      everyMs: HOLE_POLL_MS,
      runOnce: (trigger) => this.runOnce(trigger),
      again: (r) => r.more,
      backoff: { baseMs: 200, maxMs: 5000 },
      listen: [...opts.listen, { sql: opts.listenSql, channel: 'dispatch_events', onNotify: () => this.wake() }],
      onError: (err) => opts.log.warn({ err: (err as Error).message }, 'event feed read failed; will retry'),
    });
  }

  /** New events were committed somewhere: read them (once the first subscriber synced it; pokes coalesce). */
  wake(): void {
    this.loop.poke({ when: () => this.synced });
  }

  /** The contiguous mark: every event with seq ≤ mark that exists is stored and readable. */
  get mark(): number {
    return this.high;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Add a subscriber; resolves with the mark at that moment: rows ≤ mark are the subscriber's to
   * read from the table, rows above reach push() (a few ≤ mark may too, right after the start:
   * subscribers drop seqs they have already).
   */
  async subscribe(sub: FeedSubscriber): Promise<number> {
    this.subscribers.add(sub);
    if (this.synced) return this.high;
    const synced = this.loop.nextRun(() => this.synced);
    this.loop.poke();
    await waitAtMost(synced, SYNC_WAIT_MS);
    if (!this.synced) {
      this.subscribers.delete(sub);
      throw new DispatchError('unavailable', 503, 'the event feed cannot read the database');
    }
    return this.high;
  }

  unsubscribe(sub: FeedSubscriber): void {
    this.subscribers.delete(sub);
  }

  async runOnce(trigger: Trigger = 'poke'): Promise<FeedRunResult> {
    const none = { read: false, delivered: 0, holes: this.holes.size, more: false };
    if (!this.synced && this.subscribers.size === 0) return none;
    // The timer only re-checks holes (an aborted transaction notifies nobody).
    if (trigger === 'timer' && this.synced && this.holes.size === 0) return none;
    if (!this.synced) await this.start();
    const { snap, rows } = await readFeed(this.opts.sql, this.maxSeen, [...this.holes.keys()], FEED_BATCH);
    const now = this.now();
    for (const r of rows) {
      if (this.holes.delete(r.seq)) {
        this.ahead.set(r.seq, r);
        continue;
      }
      if (r.seq <= this.maxSeen) continue;
      this.openHoles(this.maxSeen + 1, r.seq, BigInt(snap.xmax), now);
      this.ahead.set(r.seq, r);
      this.maxSeen = r.seq;
    }
    // Holes whose transactions have all ended, their rows still absent: rolled back.
    const xmin = BigInt(snap.xmin);
    for (const [seq, h] of this.holes) if (xmin >= h.xmax && now - h.since >= HOLE_GRACE_MS) this.holes.delete(seq);
    const out: FeedRow[] = [];
    while (this.high < this.maxSeen && !this.holes.has(this.high + 1)) {
      this.high++;
      const row = this.ahead.get(this.high);
      if (row) {
        this.ahead.delete(this.high);
        out.push(row);
      }
    }
    if (out.length > 0) {
      for (const s of this.subscribers) {
        try {
          s.push(out);
        } catch (err) {
          this.opts.log.warn({ err: (err as Error).message }, 'an event stream failed to take events');
        }
      }
    }
    return { read: true, delivered: out.length, holes: this.holes.size, more: rows.length === FEED_BATCH };
  }

  /** The starting point: the highest seq, with holes among the seqs just below it (transactions in flight). */
  private async start(): Promise<void> {
    const { snap, max, seqs } = await seqWindow(this.opts.sql, FEED_START_WINDOW);
    const base = Math.max(0, max - FEED_START_WINDOW);
    this.holes.clear();
    this.ahead.clear();
    this.high = base;
    this.maxSeen = base;
    const now = this.now();
    for (const s of seqs) {
      if (s <= this.maxSeen) continue;
      this.openHoles(this.maxSeen + 1, s, BigInt(snap.xmax), now);
      this.maxSeen = s;
    }
    // Below the first hole everything is final and belongs to the past; rows above it are read
    // again by the next read (they sit between high and maxSeen) and delivered in order.
    const first = Math.min(...this.holes.keys(), max + 1);
    this.high = first - 1;
    this.maxSeen = this.high;
    this.holes.clear();
    this.synced = true;
  }

  private openHoles(from: number, to: number, xmax: bigint, since: number): void {
    for (let s = from; s < to && this.holes.size < MAX_HOLES; s++) this.holes.set(s, { xmax, since });
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
