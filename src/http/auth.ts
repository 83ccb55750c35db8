// Auth hooks (docs/security.md). Two modes (`auth.mode`):
//   header (default) — X-Agent-ID on every /api/v1 request is trusted (a private network);
//   token            — every /api/v1 request carries `Authorization: Bearer <token>`: the admin
//                      token, or an agent token that IS the agent's identity (X-Agent-ID may be
//                      left out, and if sent must equal the token's agent → else 403 agent_mismatch).
// Admin routes need the admin token in both modes, compared in constant time; with no admin token
// configured they are closed (401 admin_disabled). In token mode, more than MAX_FAILURES failed
// authentications from one client address within a minute → 429 for that address for the rest of
// the minute (valid credentials from other addresses are unaffected).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DispatchError } from '../errors.js';
import { AGENT_ID_RULE, isAgentId } from '../core/ids.js';
import type { Metrics } from '../observability/metrics.js';
import type { TokenAuthenticator } from '../services/tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    agentId: string;
    isAdmin: boolean;
  }
  interface FastifyContextConfig {
    /** Route needs the admin bearer token. */
    admin?: boolean;
    /** Route authenticates itself (signed webhooks): no X-Agent-ID, no token. */
    public?: boolean;
    /** A request with no body at all is validated as `{}` (a bare complete, heartbeat, trigger…). */
    emptyBody?: boolean;
    /** A route outside /api/v1 that takes the same identity (the agent doors /mcp and /a2a). */
    identity?: boolean;
  }
}

export type AuthMode = 'header' | 'token';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The bearer token of an Authorization header, or undefined (absent or not a Bearer). */
export function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
  return m ? m[1] : undefined;
}

/** Constant time: compares the SHA-256 of both, so neither length nor a shared prefix shows. */
export function tokenEquals(given: string | undefined, token: string): boolean {
  if (!token || given === undefined) return false;
  return timingSafeEqual(digest(given), digest(token));
}

export function bearerMatches(header: string | undefined, token: string): boolean {
  return tokenEquals(bearerOf(header), token);
}

/** Failed authentications allowed per client address per minute. */
export const MAX_FAILURES = 20;
const WINDOW_MS = 60_000;

/**
 * Failed-authentication counter per client address: a fixed one-minute window from the first
 * failure; past MAX_FAILURES the address is refused until the window ends. Bounded in memory.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { start: number; n: number }>();
  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly max = MAX_FAILURES,
    private readonly maxKeys = 10_000,
  ) {}

  /** Seconds until the address may try again, or 0 when it is not blocked. */
  blockedFor(address: string): number {
    const w = this.windows.get(address);
    if (!w) return 0;
    const elapsed = this.now() - w.start;
    if (elapsed >= WINDOW_MS) {
      this.windows.delete(address);
      return 0;
    }
    return w.n > this.max ? Math.ceil((WINDOW_MS - elapsed) / 1000) : 0;
  }

  fail(address: string): void {
    const t = this.now();
    const w = this.windows.get(address);
    if (w && t - w.start < WINDOW_MS) {
      w.n++;
      return;
    }
    if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(address, { start: t, n: 1 });
  }
}

export interface AuthOptions {
  adminToken: string;
  mode: AuthMode;
  tokens?: Pick<TokenAuthenticator, 'authenticate'>;
  failures?: AuthFailureLimiter;
  metrics?: Metrics;
}

export function installAuth(app: FastifyInstance, opts: AuthOptions): void {
  const failures = opts.failures ?? new AuthFailureLimiter();
  app.decorateRequest('agentId', '');
  app.decorateRequest('isAdmin', false);

  const refuse = (req: FastifyRequest, reason: string, err: DispatchError): never => {
    failures.fail(req.ip);
    opts.metrics?.authFailures.inc({ reason });
    throw err;
  };

  app.addHook('onRequest', async (req: FastifyRequest) => {
    if (!req.url.startsWith('/api/v1/') && req.url !== '/api/v1' && !req.routeOptions.config?.identity) return;
    if (req.routeOptions.config?.public) return;
    // Signed webhooks (routes/hooks.ts) carry a per-source signature instead of X-Agent-ID or a token.
    if (req.url.startsWith('/api/v1/hooks/')) return;
    const header = req.headers['x-agent-id'];
    if (opts.mode === 'header') {
      if (!isAgentId(header)) throw new DispatchError('missing_agent_id', 401, `X-Agent-ID header is required: ${AGENT_ID_RULE}`);
      req.agentId = header;
      req.isAdmin = bearerMatches(req.headers.authorization, opts.adminToken);
    } else {
      const wait = failures.blockedFor(req.ip);
      if (wait > 0) {
        throw new DispatchError('rate_limited', 429, 'too many failed authentications from this address', { retry_after_s: wait });
      }
      if (header !== undefined && !isAgentId(header)) {
        refuse(req, 'malformed', new DispatchError('missing_agent_id', 401, `X-Agent-ID, when sent, must be ${AGENT_ID_RULE}`));
      }
      const raw = req.headers.authorization;
      const token = bearerOf(raw);
      if (raw === undefined) refuse(req, 'missing', new DispatchError('unauthorized', 401, 'Authorization: Bearer <token> is required'));
      if (token === undefined) refuse(req, 'malformed', new DispatchError('unauthorized', 401, 'Authorization must be Bearer <token>'));
      if (tokenEquals(token, opts.adminToken)) {
        req.isAdmin = true;
        req.agentId = typeof header === 'string' ? header : 'admin';
      } else {
        const who = opts.tokens ? await opts.tokens.authenticate(token!) : ({ ok: false, reason: 'unknown' } as const);
        if (!who.ok) refuse(req, who.reason, new DispatchError('unauthorized', 401, 'the token is unknown or revoked'));
        else {
          if (typeof header === 'string' && header !== who.agent) {
            refuse(req, 'mismatch', new DispatchError('agent_mismatch', 403, "X-Agent-ID is not the token's agent"));
          }
          req.agentId = who.agent;
          req.isAdmin = false;
        }
      }
    }
    if (req.routeOptions.config?.admin) {
      if (!opts.adminToken) throw new DispatchError('admin_disabled', 401, 'admin routes are disabled: no admin token is configured');
      if (!req.isAdmin) throw new DispatchError('unauthorized', 401, 'admin routes need Authorization: Bearer <admin token>');
    }
  });
}
