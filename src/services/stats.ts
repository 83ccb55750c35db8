// GET /api/v1/stats: read from the counters of migration 0004, so it stays fast however many
// tasks have finished.
import type { ServiceContext } from '../context.js';
import type { Stats } from '../schemas/stats.js';
import { readQueueStats } from '../store/stats.js';

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
