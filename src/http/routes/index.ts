// The API's route plugins, in registration order. The rate limit comes first: its hook covers
// every route registered after it.
import type { FastifyPluginAsync } from 'fastify';
import type { DispatchContext } from '../../context.js';
import { RateLimiter, rateLimitPlugin } from '../rate-limit.js';
import { agentRoutes } from './agents.js';
import { hookRoutes } from './hooks.js';
import { deliveryRoutes } from './waiting.js';
import { deliveryRoutes as callbackRoutes } from './callbacks.js';
import { callRoutes } from './calls.js';
import { consoleRoutes } from '../console.js';
import { statsRoutes } from './stats.js';
import { taskRoutes } from './tasks.js';
import { workflowRoutes } from './workflows.js';
import { scheduleRoutes } from './schedules.js';
import { triggerRoutes } from './triggers.js';
import { mcpRoutes } from './mcp.js';
import { a2aRoutes } from './a2a.js';
import { flowRoutes } from './flow.js';

export function apiRoutes(ctx: DispatchContext): FastifyPluginAsync[] {
  const limiter = new RateLimiter({
    perSecond: ctx.config.server.rate_limit_per_second,
    burst: ctx.config.server.rate_limit_burst,
  });
  return [
    rateLimitPlugin(limiter),
    taskRoutes(ctx),
    workflowRoutes(ctx),
    scheduleRoutes(ctx),
    triggerRoutes(ctx),
    agentRoutes(ctx),
    statsRoutes(ctx),
    flowRoutes(ctx),
    hookRoutes(ctx),
    deliveryRoutes(ctx),
    callbackRoutes(ctx),
    callRoutes(ctx),
    mcpRoutes(ctx),
    a2aRoutes(ctx),
    consoleRoutes(),
  ];
}
