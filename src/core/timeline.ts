// The overview chart's series (GET /api/v1/stats/timeline): one bucket per minute over the last
// TIMELINE_MINUTES minutes, the current (partial) minute last, minutes without tasks as zeros.

export const TIMELINE_MINUTES = 60;
const MINUTE_MS = 60_000;

export interface TimelineMinute {
  /** Start of the minute, UTC ISO-8601. */
  at: string;
  created: number;
  finished: number;
}

/** The window [from, to) the buckets cover at `now`: from the start of the oldest minute to now. */
export function timelineWindow(now: Date, minutes = TIMELINE_MINUTES): { from: Date; to: Date } {
  const current = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
  return { from: new Date(current - (minutes - 1) * MINUTE_MS), to: new Date(now.getTime() + 1) };
}

/** Buckets oldest first, filled from the per-minute counts that have tasks. */
export function timelineMinutes(
  now: Date,
  created: ReadonlyArray<{ at: Date; n: number }>,
  finished: ReadonlyArray<{ at: Date; n: number }>,
  minutes = TIMELINE_MINUTES,
): TimelineMinute[] {
  const { from } = timelineWindow(now, minutes);
  const index = (at: Date) => Math.floor((at.getTime() - from.getTime()) / MINUTE_MS);
  const out: TimelineMinute[] = [];
  for (let i = 0; i < minutes; i++) out.push({ at: new Date(from.getTime() + i * MINUTE_MS).toISOString(), created: 0, finished: 0 });
  for (const c of created) {
    const b = out[index(c.at)];
    if (b) b.created += c.n;
  }
  for (const f of finished) {
    const b = out[index(f.at)];
    if (b) b.finished += f.n;
  }
  return out;
}
