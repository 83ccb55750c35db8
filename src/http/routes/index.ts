// The API's route plugins, in registration order.
import type { FastifyPluginAsync } from 'fastify';
import type { DispatchContext } from '../../app.js';

export function apiRoutes(_ctx: DispatchContext): FastifyPluginAsync[] {
  return [];
}
