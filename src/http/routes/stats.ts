// GET /api/v1/stats (admin): queue depth by status, mean completion time, oldest pending age.
// Read from the counters of migration 0004, so it stays fast however many tasks have finished.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DispatchContext } from '../../context.js';
import { getStats } from '../../services/stats.js';
import { adminRoute } from '../../schemas/common.js';
import { StatsSchema, type Stats } from '../../schemas/stats.js';

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
  };
}
