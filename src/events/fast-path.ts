// The relay's fast path: publish the events a write of this replica just committed, from memory,
// instead of waiting for the relay to read them back from the outbox (docs/events.md "Fast path").
//
// The outbox stays the guarantee: an event counts as published only when it is marked in
// task_events, and the relay still publishes every unmarked row in seq order, so a crash between
// the commit and the publish, a failed publish or a declined offer is published by the relay (the
// stream's duplicate window drops a second copy of what both sent).
//
// Order per task: the write statement reports the task's earlier events that were still unmarked
// (CommittedEvents.before). Those that are this replica's own publishes (in flight or acknowledged,
// not yet marked) are waited for in memory: a commit's events of a task are sent only after the
// task's earlier commits' events were acknowledged, and a failure fails the rest of the chain (the
// relay sends them, in order). The events of ONE commit (a sync-matched create's created and
// assigned, a completion's started and completed) are sent back to back without waiting for each
// other's acknowledgement: one connection delivers them in order, and the stream stores them in
// the order it reads them, so the create's `assigned` reaches the worker one acknowledgement
// sooner (docs/events.md "Fast path"; the 200/s notified p50 fell ~7.5 → ~2.6 ms). The one case
// this gives up: the server refusing the first of the pair and storing the second (a limit hit
// between two messages a few microseconds apart); the relay then sends the first after it.
// Earlier events that are not this replica's (another replica's, or written off the fast path)
// are waited for by reading the queue a few times over ~200 ms; if they are still there, the
// task's events are left to the relay. The relay skips rows that are in flight here and stops a task's chain at them, so it
// never sends a later event of a task ahead of an earlier one sent here; and it leaves a row it
// sees for the first time alone for a short grace (unless it was declined here), so a row read
// between its commit and its offer is not sent twice.
//
// Marks are coalesced: one DELETE from the to-publish queue for everything acknowledged since the
// last one started, and at most one every MARK_EVERY_MS, so a steady stream of lifecycles pays a
// mark statement (a commit) per window rather than per acknowledgement. An acknowledged event
// waiting for its mark stays "in flight" here: the relay leaves it alone, and a later event of its
// task counts it as this replica's own, never as another replica's to wait for.
import type { Logger } from 'pino';
import type { Sql } from '../store/db.js';
import { markPublishedIds, stillUnpublished } from '../store/outbox.js';
import type { CommittedEvents } from '../store/events.js';
import { subjectOf } from '../store/events.js';
import type { AckPublisher } from './publisher.js';
import { waitAtMost, STOP_WAIT_MS } from '../loop.js';

/** Above this many unmarked publishes (NATS or the database slow), offers are declined: the relay catches up. */
export const MAX_IN_FLIGHT = 10_000;
/** The waits (ms) for another replica's earlier events of a task to be marked, before leaving the task to the relay. */
const FOREIGN_WAIT_MS = [2, 5, 10, 25, 50, 100];
/** Delay before a failed mark is tried again. */
const MARK_RETRY_MS = 200;
/**
 * Marks go out at most this often (ms). Marking is bookkeeping, not latency: the event is already
 * on NATS, and the relay's grace for a row it sees first is 1 s (relay.ts), far above this.
 */
export const MARK_EVERY_MS = 50;

export interface FastPathDeps {
  sql: Sql;
  log: Logger;
  /** The relay's current publisher, undefined while it has none (NATS down, stream not checked yet). */
  publisher(): AckPublisher | undefined;
  /** These events were left to the relay (declined, or their publish failed): it should send them now. */
  declined(ids: string[]): void;
}

export interface FastPathStats {
  offered: number;
  declined: number;
  published: number;
  failed: number;
}

export class FastPath {
  /** Events this replica is sending or has sent, from offer until marked. */
  private readonly inflight = new Set<string>();
  /** Task id → the last publish of its chain (true when acknowledged). */
  private readonly tails = new Map<string, Promise<boolean>>();
  private toMark: { id: string; taskId: string }[] = [];
  private marking: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** performance.now() when the last mark started. */
  private lastMarkAt = -Infinity;
  /**
   * Events marked by the last two marks: a write that ran while their mark was in flight still
   * lists them as earlier unpublished events of its task, and they are this replica's own,
   * published ones — not another replica's to wait for (a read of the queue each).
   */
  private marked = new Set<string>();
  private markedBefore = new Set<string>();
  private stopped = false;
  readonly stats: FastPathStats = { offered: 0, declined: 0, published: 0, failed: 0 };

  constructor(private readonly deps: FastPathDeps) {}

  /** Whether offers can be published now (the relay has a publisher on a checked stream). */
  get ready(): boolean {
    return !this.stopped && this.deps.publisher() !== undefined;
  }

  /** Whether the relay should leave this row alone (published or being published here). */
  holds(eventId: string): boolean {
    return this.inflight.has(eventId);
  }

  offer(c: CommittedEvents): void {
    if (c.rows.length === 0) return;
    this.stats.offered += c.rows.length;
    const pub = this.stopped ? undefined : this.deps.publisher();
    if (!pub || this.inflight.size >= MAX_IN_FLIGHT) {
      this.decline(c.rows.map((r) => r.id));
      return;
    }
    // Per task: the earlier unpublished events that are not this replica's (another replica's
    // fast path is most likely sending them right now): wait until they are marked.
    const gates = new Map<string, Promise<boolean>>();
    const closed = new Set<string>();
    for (const [taskId, ids] of c.before) {
      const foreign = ids.filter((id) => !this.inflight.has(id) && !this.marked.has(id) && !this.markedBefore.has(id));
      if (foreign.length === 0) continue;
      gates.set(
        taskId,
        this.published(taskId, foreign).then((ok) => {
          if (!ok) closed.add(taskId);
          return ok;
        }),
      );
    }
    /** Per task: what this offer's sends wait for (an earlier commit's chain), and its last row's outcome so far. */
    const starts = new Map<string, { go: Promise<boolean> | undefined; last: Promise<boolean> | undefined }>();
    for (const r of c.rows) {
      this.inflight.add(r.id);
      let start = starts.get(r.taskId);
      if (!start) {
        start = { go: this.tails.get(r.taskId) ?? gates.get(r.taskId), last: undefined };
        starts.set(r.taskId, start);
        gates.delete(r.taskId);
      }
      const send = () =>
        pub.publish(subjectOf('task', r.taskId, r.type), r.json, r.id).then(
          () => true,
          () => false,
        );
      // The events of one commit go out together, pipelined on the one connection (which keeps
      // their order), once the task's earlier commits' events were acknowledged; each counts as
      // published only if the ones before it in the commit were too.
      const sent = start.go ? start.go.then((ok) => (ok ? send() : false)) : send();
      const prior = start.last;
      const p = (prior ? Promise.all([prior, sent]).then(([a, b]) => a && b) : sent).then((ok) => {
        if (ok) {
          this.stats.published++;
          this.toMark.push({ id: r.id, taskId: r.taskId });
          this.flush();
        } else {
          // Left to the relay: the wait for another replica's events ran out, or a publish failed.
          if (closed.has(r.taskId)) this.stats.declined++;
          else this.stats.failed++;
          this.inflight.delete(r.id);
          this.deps.declined([r.id]);
        }
        if (this.tails.get(r.taskId) === p) this.tails.delete(r.taskId);
        return ok;
      });
      start.last = p;
      this.tails.set(r.taskId, p);
    }
  }

  private decline(ids: string[]): void {
    this.stats.declined += ids.length;
    this.deps.declined(ids);
  }

  /**
   * Whether another replica's events (of one task) got published within a short wait: a few cheap
   * reads of the to-publish queue, then false — the task's events go to the relay instead.
   */
  private async published(taskId: string, ids: string[]): Promise<boolean> {
    for (const ms of FOREIGN_WAIT_MS) {
      await new Promise((resolve) => setTimeout(resolve, ms).unref());
      if (this.stopped) return false;
      try {
        if ((await stillUnpublished(this.deps.sql, [taskId], ids)).size === 0) return true;
      } catch {
        return false;
      }
    }
    return false;
  }

  /** Mark what was acknowledged; one statement at a time, the next one takes all that arrived meanwhile. */
  private flush(now = false): void {
    if (this.marking || this.retry || this.toMark.length === 0) return;
    const wait = this.lastMarkAt + MARK_EVERY_MS - performance.now();
    if (wait > 0 && !now && !this.stopped) {
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.flush();
      }, wait);
      this.retry.unref();
      return;
    }
    this.lastMarkAt = performance.now();
    const ids = this.toMark;
    this.toMark = [];
    this.marking = markPublishedIds(this.deps.sql, ids).then(
      () => {
        this.markedBefore = this.marked;
        this.marked = new Set(ids.map((e) => e.id));
        for (const e of ids) this.inflight.delete(e.id);
        this.marking = undefined;
        this.flush();
      },
      (err: unknown) => {
        this.deps.log.warn({ err: (err as Error).message, events: ids.length }, 'marking published events failed; will retry');
        this.toMark = ids.concat(this.toMark);
        this.marking = undefined;
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.flush();
        }, MARK_RETRY_MS);
        this.retry.unref();
      },
    );
  }

  /** Stop taking offers; wait (bounded) for the publishes and marks in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    const drain = async () => {
      await Promise.all([...this.tails.values()]);
      clearTimeout(this.retry);
      this.retry = undefined;
      while (this.marking || this.toMark.length > 0) {
        this.flush(true);
        await this.marking;
        if (this.retry) break; // the mark failed: the relay publishes (and marks) what is left
      }
    };
    await waitAtMost(drain(), STOP_WAIT_MS);
    clearTimeout(this.retry);
    this.retry = undefined;
  }

  /** Offers may be taken again (a stopped relay started anew). */
  resume(): void {
    this.stopped = false;
  }
}
