// The API's route plugins, in registration order.
import type { FastifyPluginAsync } from 'fastify';
import type { DispatchContext } from '../../app.js';
import { statsRoutes } from './stats.js';

export function apiRoutes(ctx: DispatchContext): FastifyPluginAsync[] {
  return [statsRoutes(ctx)];
}
