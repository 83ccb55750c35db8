// Group commit of worker reports (issue "The lean engine"; STYLE "Batch while busy", as River's
// BatchCompleter and graphile-worker's completeJobs): a report's compare-and-set goes out at once
// when none is in flight, so a quiet system waits for nothing; the reports that arrive while one is
// in flight go together in the next statement (store/tasks.ts applyWrites: per-row guards and
// versions, one commit for all). A write that lost its compare-and-set is answered undefined and
// its caller decides again on a fresh read, as it would alone. If a batch fails as a whole (a
// deadlock with another replica's batch, the database gone), each of its writes is tried again
// on its own, so one batch's failure is never more than its own writes' failures.
import type { Sql } from '../store/db.js';
import type { CommittedEvents } from '../store/events.js';
import { applyWrite, applyWrites, type Write } from '../store/tasks.js';

/** Writes in one statement at most (a bound on the statement's size, not a wait). */
export const MAX_BATCH = 256;

interface Queued {
  write: Write;
  sink: CommittedEvents;
  resolve: (version: string | undefined) => void;
  reject: (err: unknown) => void;
}

export class ReportWrites {
  private queue: Queued[] = [];
  private inFlight = false;
  /** Statements sent, and the writes they carried (tests and the bench read these). */
  readonly stats = { statements: 0, writes: 0 };

  constructor(private readonly sql: Sql) {}

  /** Compare-and-set one decided report; its events go into `sink`. Resolves to the row's new version, undefined when the row changed meanwhile. */
  write(write: Write, sink: CommittedEvents): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, sink, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0) return;
    // One write per task in a statement: a second report of the same task waits for the next one.
    const ids = new Set<string>();
    const batch: Queued[] = [];
    const rest: Queued[] = [];
    for (const q of this.queue) {
      if (batch.length < MAX_BATCH && !ids.has(q.write.next.id)) {
        ids.add(q.write.next.id);
        batch.push(q);
      } else rest.push(q);
    }
    this.queue = rest;
    this.inFlight = true;
    this.stats.statements++;
    this.stats.writes += batch.length;
    void this.send(batch).finally(() => {
      this.inFlight = false;
      this.pump();
    });
  }

  private async send(batch: Queued[]): Promise<void> {
    if (batch.length === 1) return this.one(batch[0]!);
    let versions: (string | undefined)[];
    try {
      versions = await applyWrites(
        this.sql,
        batch.map((q) => q.write),
        batch.map((q) => q.sink),
      );
    } catch {
      await Promise.all(batch.map((q) => this.one(q)));
      return;
    }
    batch.forEach((q, i) => q.resolve(versions[i]));
  }

  private async one(q: Queued): Promise<void> {
    try {
      q.resolve(await applyWrite(this.sql, q.write, q.write.next.updated_at, q.sink));
    } catch (err) {
      q.reject(err);
    }
  }
}
