// Heartbeats (§16.1, docs/heartbeats.md): POST /api/v1/tasks/:id/heartbeat is answered from the
// task's row (read by primary key: 404, 409 not active, 403 not the assignee; the reads that arrive
// while one is in flight share one statement, RowReads in group-commit.ts), but its only
// effect — the heartbeat deadline moving — is buffered in memory and written for ALL buffered
// tasks in one statement at most every FLUSH_MS: a worker beating ten times a second costs one
// row write a second, and no event row ever. The write is a compare-and-set (still active, same
// assignee, deadline only forward), so a beat buffered for a task that has since moved on changes
// nothing. stop() flushes what is buffered. The sweep (services/sweeps.ts) asks `buffered()`
// before timing out a task whose heartbeat deadline passed, so on this replica a beat waiting for
// its flush still counts.
import type { Logger } from 'pino';
import type { Component } from '../component.js';
import type { Clock } from '../ports.js';
import type { Sql } from '../store/db.js';
import { decideHeartbeat } from '../core/decisions.js';
import { NotFoundError } from '../errors.js';
import { Loop, STOP_WAIT_MS, waitAtMost } from '../loop.js';
import { writeHeartbeats } from '../store/assignments.js';
import { RowReads } from './group-commit.js';

/** The longest a beat waits in memory before its write (the contract allows up to 1 s). */
export const HEARTBEAT_FLUSH_MS = 1000;

interface Beat {
  agent: string;
  deadline: Date;
}

export interface Heartbeats extends Component {
  /** Check and record a heartbeat of `agent` on task `id` (throws 404/409/403 as DispatchErrors). */
  beat(agent: string, id: string): Promise<void>;
  /** Write every buffered beat now, in one statement; returns the rows that changed. */
  flush(): Promise<number>;
  /** A beat buffered here, not yet written, that keeps `agent`'s task `id` alive past `now`. */
  buffered(id: string, agent: string | null, now: Date): boolean;
  /** Beats waiting for the next flush. */
  readonly size: number;
  readonly loop: Loop<number>;
}

export function createHeartbeats(ctx: { sql: Sql; clock: Clock; logger: Logger }, opts: { everyMs?: number } = {}): Heartbeats {
  const log: Logger = ctx.logger.child({ component: 'heartbeats' });
  /** Each request's read of its task's row: the reads that arrive while one is in flight go in one statement. */
  const reads = new RowReads(ctx.sql);
  let pending = new Map<string, Beat>();
  /** The beats a flush in flight is writing (still count for buffered()). */
  let flushing = new Map<string, Beat>();

  async function flush(): Promise<number> {
    if (pending.size === 0) return 0;
    const taken = pending;
    pending = new Map();
    flushing = taken;
    try {
      return await writeHeartbeats(
        ctx.sql,
        [...taken].map(([taskId, b]) => ({ taskId, agent: b.agent, deadline: b.deadline })),
      );
    } catch (err) {
      // Not lost: back in the buffer for the next flush, unless a newer beat came meanwhile.
      for (const [id, b] of taken) if (!pending.has(id)) pending.set(id, b);
      throw err;
    } finally {
      if (flushing === taken) flushing = new Map();
    }
  }

  const loop = new Loop<number>({
    name: 'heartbeats',
    log,
    everyMs: opts.everyMs ?? HEARTBEAT_FLUSH_MS,
    runOnce: () => flush(),
    onError: (err) => log.warn({ err: (err as Error).message, buffered: pending.size }, 'writing heartbeats failed; will retry'),
  });

  return {
    name: 'heartbeats',
    loop,
    flush,
    get size() {
      return pending.size;
    },
    async beat(agent, id) {
      const row = await reads.read(id);
      if (!row) throw new NotFoundError('task');
      const w = decideHeartbeat(row, agent, ctx.clock.now());
      if (w.deadline === null) return; // no heartbeat timeout: accepted, nothing to move
      const prev = pending.get(id);
      if (!prev || prev.agent !== agent || prev.deadline < w.deadline) pending.set(id, { agent, deadline: w.deadline });
    },
    buffered(id, agent, now) {
      const alive = (b: Beat | undefined) => b !== undefined && b.agent === agent && b.deadline > now;
      return alive(pending.get(id)) || alive(flushing.get(id));
    },
    async start() {
      loop.start();
    },
    async stop() {
      await loop.stop();
      // What is buffered is written before we go (bounded: an unreachable database must not hang shutdown).
      await waitAtMost(
        flush().catch((err) => log.warn({ err: (err as Error).message, lost: pending.size }, 'heartbeats not written at stop')),
        STOP_WAIT_MS,
      );
    },
  };
}
