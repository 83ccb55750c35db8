// Auth hooks (docs/task-api.md "Who is refused"): X-Agent-ID on every /api/v1 request; admin routes need the bearer
// token, compared in constant time; with no token configured admin routes are closed.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DispatchError } from '../errors.js';
import { AGENT_ID_RULE, isAgentId } from '../core/ids.js';

declare module 'fastify' {
  interface FastifyRequest {
    agentId: string;
    isAdmin: boolean;
  }
  interface FastifyContextConfig {
    /** Route needs the admin bearer token. */
    admin?: boolean;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!token || !header) return false;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  return timingSafeEqual(digest(m[1]!), digest(token));
}

export function installAuth(app: FastifyInstance, adminToken: string): void {
  app.decorateRequest('agentId', '');
  app.decorateRequest('isAdmin', false);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (!req.url.startsWith('/api/v1/') && req.url !== '/api/v1') return;
    // Signed webhooks (routes/hooks.ts) carry a per-source signature instead of X-Agent-ID.
    if (req.url.startsWith('/api/v1/hooks/')) return;
    const id = req.headers['x-agent-id'];
    if (!isAgentId(id)) {
      throw new DispatchError('missing_agent_id', 401, `X-Agent-ID header is required: ${AGENT_ID_RULE}`);
    }
    req.agentId = id;
    req.isAdmin = bearerMatches(req.headers.authorization, adminToken);
    if (req.routeOptions.config?.admin) {
      if (!adminToken) throw new DispatchError('admin_disabled', 401, 'admin routes are disabled: no admin token is configured');
      if (!req.isAdmin) throw new DispatchError('unauthorized', 401, 'admin routes need Authorization: Bearer <admin token>');
    }
  });
}
