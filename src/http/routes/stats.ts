// GET /api/v1/stats (admin): queue depth by status, mean completion time, oldest pending age.
// GET /api/v1/stats/timeline (admin): tasks created and finished per minute over the last hour.
// Read from the counters of migration 0004, so it stays fast however many tasks have finished.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../context.js';
import { getStats, getTimeline } from '../../services/stats.js';
import { adminRoute } from '../../schemas/common.js';
import { StatsSchema, StatsTimelineSchema, type Stats } from '../../schemas/stats.js';

export function statsRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/v1/stats',
      {
        config: { admin: true },
        schema: adminRoute(
          {
            operationId: 'getStats',
            summary: 'Queue statistics',
            description:
              'Admin only. Task counts by status, mean completion time (created → completed) and the age of the oldest pending task (since created or last re-queued). Read from maintained counters: constant time however many tasks have finished.',
          },
          { 200: { ...StatsSchema, description: 'Queue statistics' } },
        ),
      },
      async (): Promise<Stats> => getStats(ctx),
    );
    app.get(
      '/api/v1/stats/timeline',
      {
        config: { admin: true },
        schema: adminRoute(
          {
            operationId: 'getStatsTimeline',
            summary: 'Tasks created and finished per minute',
            description:
              'Admin only. The last 60 minutes, oldest first, each with the tasks created and the tasks finished (reached a terminal status) in it; the current minute is last. Two indexed range reads (created_at, completed_at).',
          },
          { 200: { ...StatsTimelineSchema, description: 'Per-minute counts' } },
        ),
      },
      async () => getTimeline(ctx),
    );
  };
}
