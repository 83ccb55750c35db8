// Reads behind delivery without NATS (docs/waiting.md): a worker's assigned tasks, and the outbox
// (task_events) read in seq order with the snapshot the read ran in, for the event feed.
import type { TaskRow } from '../core/task.js';
import type { Db } from './db.js';

/** Assigned tasks a long-poll answers with at most. */
export const ASSIGNMENTS_LIMIT = 100;

/**
 * What a worker's long-poll answers with, oldest first (tasks_active_idx): its `assigned` tasks
 * (until the first progress report acknowledges each), and its tasks whose question was answered
 * (running again with `input.answer`) until its next progress report acknowledges the answer.
 */
export async function assignedTaskRows(db: Db, agent: string, limit = ASSIGNMENTS_LIMIT): Promise<TaskRow[]> {
  return db<TaskRow[]>`
    select * from tasks
    where assignee = ${agent} and status in ('assigned','running')
      and (status = 'assigned'
           or (input ->> 'answered_at' is not null
               and (progress is null or (progress ->> 'at')::timestamptz < (input ->> 'answered_at')::timestamptz)))
    order by case when status = 'assigned' then assigned_at else (input ->> 'answered_at')::timestamptz end, id limit ${limit}`;
}

/** One outbox row as the feed hands it to streams. */
export interface FeedRow {
  seq: number;
  id: string;
  kind: 'task' | 'run';
  task_id: string;
  type: string;
  envelope: { type?: string; data?: Record<string, unknown> } & Record<string, unknown>;
}

/** The snapshot a read ran in: xid8 bounds as text (64-bit; compared as BigInt). */
export interface SnapshotBounds {
  xmin: string;
  xmax: string;
}

/**
 * Rows above `maxSeen` and the rows of the given holes (seqs below it not seen yet), oldest first,
 * with the statement's own snapshot: one statement, so "not in the result" and the snapshot agree.
 */
export async function readFeed(db: Db, maxSeen: number, holes: number[], limit: number): Promise<{ snap: SnapshotBounds; rows: FeedRow[] }> {
  const rows = await db<(Partial<FeedRow> & SnapshotBounds)[]>`
    select s.xmin, s.xmax, e.seq, e.id, e.kind, e.task_id, e.type, e.envelope
    from (select pg_snapshot_xmin(pg_current_snapshot())::text as xmin, pg_snapshot_xmax(pg_current_snapshot())::text as xmax) s
    left join lateral (
      select seq, id, kind, task_id, type, dispatch_task_envelope(task_events) as envelope from task_events
      where seq > ${maxSeen} or seq = any(${db.array(holes)}::bigint[])
      order by seq limit ${limit}
    ) e on true
    order by e.seq`;
  const first = rows[0]!;
  return {
    snap: { xmin: first.xmin, xmax: first.xmax },
    rows: rows.filter((r) => r.seq !== null && r.seq !== undefined) as unknown as FeedRow[],
  };
}

/** The seq of an event (Last-Event-ID), if it is still stored. */
export async function seqOfEvent(db: Db, id: string): Promise<number | undefined> {
  const [row] = await db<{ seq: number }[]>`select seq from task_events where id = ${id}`;
  return row?.seq;
}

/** Stored events in (after, upTo], oldest first: one task's (taskId) or every one. */
export async function feedRowsBetween(db: Db, after: number, upTo: number, limit: number, taskId?: string): Promise<FeedRow[]> {
  if (taskId !== undefined) {
    return db<FeedRow[]>`
      select seq, id, kind, task_id, type, dispatch_task_envelope(task_events) as envelope from task_events
      where task_id = ${taskId} and kind = 'task' and seq > ${after} and seq <= ${upTo}
      order by seq limit ${limit}`;
  }
  return db<FeedRow[]>`
    select seq, id, kind, task_id, type, dispatch_task_envelope(task_events) as envelope from task_events
    where seq > ${after} and seq <= ${upTo}
    order by seq limit ${limit}`;
}

/**
 * The feed's starting point, in one statement (one snapshot): the highest seq, the seqs present
 * among the last `window` below it, and the snapshot's bounds.
 */
export async function seqWindow(db: Db, window: number): Promise<{ snap: SnapshotBounds; max: number; seqs: number[] }> {
  const [row] = await db<(SnapshotBounds & { max: number; seqs: number[] })[]>`
    select s.xmin, s.xmax, m.max, w.seqs
    from (select pg_snapshot_xmin(pg_current_snapshot())::text as xmin, pg_snapshot_xmax(pg_current_snapshot())::text as xmax) s,
      (select coalesce(max(seq), 0)::bigint as max from task_events) m,
      lateral (select coalesce(array_agg(seq order by seq), '{}')::bigint[] as seqs from task_events where seq > m.max - ${window}) w`;
  return { snap: { xmin: row!.xmin, xmax: row!.xmax }, max: Number(row!.max), seqs: row!.seqs.map(Number) };
}
