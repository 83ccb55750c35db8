// Group commit (issue "The lean engine"; STYLE "Batch while busy", as River's BatchCompleter and
// graphile-worker's completeJobs): a write goes out at once when none of its kind is in flight, so
// a quiet system waits for nothing; the writes that arrive while one is in flight go together in
// the next statement, one commit for all. If a batch fails as a whole (a deadlock with another
// replica's batch, the database gone), each of its writes is tried again on its own, so a batch's
// failure is never more than its own writes' failures.
//   - ReportWrites: worker reports' compare-and-sets (store/tasks.ts applyWrites: per-row guards
//     and versions); a write that lost is answered undefined and its caller decides again on a
//     fresh read, as it would alone. One write per task in a statement.
//   - CreateWrites: plain creates' inserts (store/tasks.ts insertNewTasks: rows and events as
//     decided, in one statement); a create the sync match may take is not grouped (its statement
//     is a guard of its own).
//   - RowReads: primary-key reads of task rows that only answer a request (a heartbeat's 403/409
//     from the row, services/heartbeats.ts): the same shell, one `= any(…)` statement for the
//     reads that arrived while one was in flight.
import type { TaskRow } from '../core/task.js';
import type { Sql } from '../store/db.js';
import type { CommittedEvents, EventDraft } from '../store/events.js';
import { applyWrite, applyWrites, getTaskRow, getTaskRows, insertNewTasks, insertTaskRows, type Write } from '../store/tasks.js';

/** Writes in one statement at most (a bound on the statement's size, not a wait). */
export const MAX_BATCH = 256;

interface Queued<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

/** The shell: one statement of a kind in flight; what arrives meanwhile waits for the next. */
abstract class GroupCommit<I, O> {
  private queue: Queued<I, O>[] = [];
  private inFlight = false;
  /** Statements sent, and the writes they carried (tests and the bench read these). */
  readonly stats = { statements: 0, writes: 0 };

  /** The writes of one statement, in order (a batch of at least two). */
  protected abstract many(items: I[]): Promise<O[]>;
  protected abstract one(item: I): Promise<O>;
  /** Two writes with the same key never share a statement. */
  protected key(_item: I): string | undefined {
    return undefined;
  }

  protected submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const keys = new Set<string>();
    const batch: Queued<I, O>[] = [];
    const rest: Queued<I, O>[] = [];
    for (const q of this.queue) {
      const k = this.key(q.item);
      if (batch.length < MAX_BATCH && (k === undefined || !keys.has(k))) {
        if (k !== undefined) keys.add(k);
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

  private async send(batch: Queued<I, O>[]): Promise<void> {
    if (batch.length > 1) {
      let outs: O[] | undefined;
      try {
        outs = await this.many(batch.map((q) => q.item));
      } catch {
        outs = undefined; // each write again on its own, below
      }
      if (outs) {
        batch.forEach((q, i) => q.resolve(outs[i]!));
        return;
      }
    }
    await Promise.all(
      batch.map(async (q) => {
        try {
          q.resolve(await this.one(q.item));
        } catch (err) {
          q.reject(err);
        }
      }),
    );
  }
}

export class ReportWrites extends GroupCommit<{ write: Write; sink: CommittedEvents }, string | undefined> {
  constructor(private readonly sql: Sql) {
    super();
  }

  /** Compare-and-set one decided report; its events go into `sink`. Resolves to the row's new version, undefined when the row changed meanwhile. */
  write(write: Write, sink: CommittedEvents): Promise<string | undefined> {
    return this.submit({ write, sink });
  }

  protected override key(item: { write: Write }): string {
    return item.write.next.id;
  }

  protected one({ write, sink }: { write: Write; sink: CommittedEvents }): Promise<string | undefined> {
    return applyWrite(this.sql, write, write.next.updated_at, sink);
  }

  protected many(items: { write: Write; sink: CommittedEvents }[]): Promise<(string | undefined)[]> {
    return applyWrites(
      this.sql,
      items.map((i) => i.write),
      items.map((i) => i.sink),
    );
  }
}

interface NewRow {
  row: TaskRow;
  events: EventDraft[];
  now: Date;
  sink: CommittedEvents;
}

export class CreateWrites extends GroupCommit<NewRow, TaskRow> {
  constructor(private readonly sql: Sql) {
    super();
  }

  /** Insert one decided new task with its events (into `sink`); resolves to the row as stored. */
  insert(row: TaskRow, events: EventDraft[], now: Date, sink: CommittedEvents): Promise<TaskRow> {
    return this.submit({ row, events, now, sink });
  }

  protected async one(n: NewRow): Promise<TaskRow> {
    const [stored] = await insertTaskRows(this.sql, [n.row], n.events, n.now, n.sink);
    return stored!;
  }

  protected many(items: NewRow[]): Promise<TaskRow[]> {
    return insertNewTasks(this.sql, items);
  }
}

export class RowReads extends GroupCommit<string, TaskRow | undefined> {
  constructor(private readonly sql: Sql) {
    super();
  }

  /** The task's row as it is now (undefined: no such task). */
  read(id: string): Promise<TaskRow | undefined> {
    return this.submit(id);
  }

  protected one(id: string): Promise<TaskRow | undefined> {
    return getTaskRow(this.sql, id);
  }

  protected many(ids: string[]): Promise<(TaskRow | undefined)[]> {
    return getTaskRows(this.sql, ids);
  }
}
