// What one scheduler tick did (the unit tests and scripts/profile-tick.ts read it).

export interface TickResult {
  /** Pending tasks read this tick. */
  considered: number;
  assigned: { taskId: string; agent: string; woke: boolean }[];
  /** Tasks whose unmatched reason changed (an event was written). */
  unmatched: { taskId: string; reason: string }[];
  /** Decisions refused by the database re-check (drained, at limit, or lost a race). */
  refused: number;
  requeuedAfterWakeTimeout: number;
  retriedAfterTimeout: number;
  timedOut: number;
  /** Tasks never assigned by their start_by, ended timed_out. */
  notStarted: number;
  /** Tasks that waited for input past their input deadline, ended timed_out (reason input). */
  inputTimedOut: number;
  /** Windows at their end (§19.3), ended completed (reason window_ended). */
  windowsEnded: number;
  /** Starts held back by a flow key this tick (an agent could have taken the task; §20). */
  held: number;
  /** The earliest instant (ms, the clock's) a held flow key may start again by itself; null: none. */
  flowWakeAt: number | null;
  /** Milliseconds spent per phase of this tick (scripts/profile-tick.ts prints them). */
  phases: TickPhases;
}

/** What the deadline sweeps report (services/sweeps.ts). */
export type SweepCounts = Pick<TickResult, 'requeuedAfterWakeTimeout' | 'retriedAfterTimeout' | 'timedOut' | 'notStarted' | 'inputTimedOut' | 'windowsEnded'>;

export interface TickPhases {
  sweep: number;
  read: number;
  snapshot: number;
  plan: number;
  write: number;
  unmatched: number;
}

export function since(t0: number): number {
  return performance.now() - t0;
}

export function emptyTick(): TickResult {
  return {
    considered: 0,
    assigned: [],
    unmatched: [],
    refused: 0,
    requeuedAfterWakeTimeout: 0,
    retriedAfterTimeout: 0,
    timedOut: 0,
    notStarted: 0,
    inputTimedOut: 0,
    windowsEnded: 0,
    held: 0,
    flowWakeAt: null,
    phases: { sweep: 0, read: 0, snapshot: 0, plan: 0, write: 0, unmatched: 0 },
  };
}
