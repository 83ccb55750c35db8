// GET /api/v1/stats: read from the counters of migration 0004, so it stays fast however many
// tasks have finished.
import type { ServiceContext } from '../context.js';
import type { Stats } from '../schemas/stats.js';
import { readMinuteCounts, readQueueStats } from '../store/stats.js';
import { timelineMinutes, timelineWindow, type TimelineMinute } from '../core/timeline.js';

export async function getStats(ctx: Pick<ServiceContext, 'sql' | 'clock'>): Promise<Stats> {
  const s = await readQueueStats(ctx.sql, ctx.clock.now());
  const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
  return {
    ...s.counts,
    in_progress: s.counts.assigned + s.counts.running,
    total,
    avg_completion_ms: s.avg_completion_ms,
    oldest_pending_ms: s.oldest_pending_ms,
  };
}

/** GET /api/v1/stats/timeline: tasks created and finished per minute over the last hour. */
export async function getTimeline(ctx: Pick<ServiceContext, 'sql' | 'clock'>): Promise<{ minutes: TimelineMinute[] }> {
  const now = ctx.clock.now();
  const { from, to } = timelineWindow(now);
  const counts = await readMinuteCounts(ctx.sql, from, to);
  return { minutes: timelineMinutes(now, counts.created, counts.finished) };
}
