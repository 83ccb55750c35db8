// The active task rows this replica wrote last, with their versions (xmin), so the assignee's
// report can compare-and-set without reading the row first: one round trip for a completion
// instead of two (issue "The lean engine"). A cache of hints, never a source of truth: the report's
// statement compares the version, so a row changed since (another replica, a sweep, a heartbeat)
// is simply missed and read again; a decision that refuses on a cached row is re-decided on a
// fresh read before the refusal is answered.
import type { TaskRow } from '../core/task.js';
import { withVersion, type VersionedRow } from './tasks.js';

/** Rows kept at most; the oldest go first. A miss costs one read. */
export const MAX_CACHED_ROWS = 20_000;

export class RowVersions {
  private readonly rows = new Map<string, VersionedRow>();

  constructor(private readonly max = MAX_CACHED_ROWS) {}

  /** The row as this replica last wrote it, taken out of the cache (a report uses it once). */
  take(id: string): VersionedRow | undefined {
    const r = this.rows.get(id);
    if (r) this.rows.delete(id);
    return r;
  }

  /** Remember a row just written at `version`. Only rows a report can still change are kept. */
  put(row: TaskRow, version: string): void {
    if (row.status !== 'assigned' && row.status !== 'running') {
      this.rows.delete(row.id);
      return;
    }
    this.rows.delete(row.id);
    this.rows.set(row.id, withVersion(row, version));
    if (this.rows.size > this.max) this.rows.delete(this.rows.keys().next().value!);
  }

  forget(id: string): void {
    this.rows.delete(id);
  }

  get size(): number {
    return this.rows.size;
  }
}
