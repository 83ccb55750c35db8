// The API's route plugins, in registration order.
import type { FastifyPluginAsync } from 'fastify';
import type { DispatchContext } from '../../app.js';
import { agentRoutes } from './agents.js';

export function apiRoutes(ctx: DispatchContext): FastifyPluginAsync[] {
  return [agentRoutes(ctx)];
}
