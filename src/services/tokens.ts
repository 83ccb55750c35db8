// Agent tokens (docs/security.md): issue (shown once, ≥ 32 random bytes, stored as SHA-256),
// list, revoke; and the authenticator the auth hook asks in auth.mode=token.
//
// A token is looked up by its SHA-256 (an index lookup on the hash: nothing compares the secret
// itself, so no timing depends on how many of its leading bytes match). Identities are cached
// per replica for at most CACHE_TTL_MS and dropped at once when any replica revokes the token
// (NOTIFY dispatch_tokens at commit); the replica that revokes drops its entry before answering,
// so no use succeeds there after the revoke returned, and everywhere else within 1 s at worst.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Component } from '../component.js';
import type { Clock } from '../ports.js';
import type { Sql } from '../store/db.js';

/** What the token services use (the context's fields, named here so the context can hold the authenticator without a cycle). */
type TokenDeps = { sql: Sql; clock: Clock; logger: Logger };
import { NotFoundError } from '../errors.js';
import { Loop } from '../loop.js';
import { findTokenByHash, insertToken, listTokens, revokeToken, TOKENS_CHANNEL, touchToken, type TokenRow } from '../store/tokens.js';

/** How long a looked-up identity is reused: a bound on a revoke missed while LISTEN reconnects. */
export const CACHE_TTL_MS = 1000;
/** The token's random part: 32 bytes (256 bits), base64url. */
const TOKEN_BYTES = 32;
const PREFIX = 'dsp_';

export const tokenHash = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export interface IssuedToken {
  id: string;
  agent: string;
  token: string;
  created_at: string;
  label?: string;
}

export interface TokenView {
  id: string;
  agent: string;
  label: string | null;
  created_at: string;
  last_used_at: string | null;
}

const view = (r: TokenRow): TokenView => ({
  id: r.id,
  agent: r.agent,
  label: r.label,
  created_at: r.created_at.toISOString(),
  last_used_at: r.last_used_at ? r.last_used_at.toISOString() : null,
});

export async function issueToken(ctx: TokenDeps, agent: string, label: string | undefined): Promise<IssuedToken> {
  const token = PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
  const row = await insertToken(ctx.sql, { id: randomUUID(), agent, label: label ?? null, hash: tokenHash(token), now: ctx.clock.now() });
  ctx.logger.info({ agent, token_id: row.id }, 'agent token issued'); // never the token
  return { id: row.id, agent, token, created_at: row.created_at.toISOString(), ...(label !== undefined ? { label } : {}) };
}

export async function listAgentTokens(ctx: Pick<TokenDeps, 'sql'>, agent: string): Promise<TokenView[]> {
  return (await listTokens(ctx.sql, agent)).map(view);
}

export type Authenticated = { ok: true; agent: string; tokenId: string } | { ok: false; reason: 'unknown' | 'revoked' };

interface Cached {
  agent: string;
  id: string;
  at: number;
}

export interface TokenAuthenticator extends Component {
  authenticate(token: string): Promise<Authenticated>;
  /** Drop a token's cached identity (a revoke here, or a NOTIFY from another replica). */
  forget(tokenId: string): void;
  readonly loop: Loop<void>;
}

export function createTokenAuthenticator(ctx: TokenDeps, opts: { now?: () => number; ttlMs?: number } = {}): TokenAuthenticator {
  const now = opts.now ?? (() => performance.now());
  const ttl = opts.ttlMs ?? CACHE_TTL_MS;
  const log = ctx.logger.child({ component: 'agent-tokens' });
  const byHash = new Map<string, Cached>();
  const hashById = new Map<string, string>();
  // Bumped by every forget: a lookup that was in flight across a revoke reads again rather than
  // caching (or answering with) the row as it was before the revoke.
  let epoch = 0;
  const forget = (id: string) => {
    epoch++;
    const h = hashById.get(id);
    if (h !== undefined) byHash.delete(h);
    hashById.delete(id);
  };
  // The loop only listens: its runs are no-ops, a notification forgets the revoked token.
  const loop = new Loop<void>({
    name: 'agent-tokens',
    log,
    everyMs: 60_000,
    runAtStart: true, // its (empty) first run follows the first LISTEN: a signal that revokes now reach us
    runOnce: async () => {},
    listen: [{ sql: ctx.sql, channel: TOKENS_CHANNEL, onNotify: (id) => forget(id) }],
  });
  return {
    name: 'agent-tokens',
    loop,
    forget,
    async authenticate(token) {
      const key = tokenHash(token);
      const hex = key.toString('hex');
      const hit = byHash.get(hex);
      if (hit && now() - hit.at < ttl) return { ok: true, agent: hit.agent, tokenId: hit.id };
      let row: TokenRow | undefined;
      for (let round = 0; ; round++) {
        const seen = epoch;
        row = await findTokenByHash(ctx.sql, key);
        if (seen === epoch) break;
        if (round >= 9) return { ok: false, reason: 'unknown' }; // revokes kept landing: fail closed
      }
      if (!row) return { ok: false, reason: 'unknown' };
      if (row.revoked_at) {
        forget(row.id);
        return { ok: false, reason: 'revoked' };
      }
      if (byHash.size > 10_000) byHash.clear(); // bounded; a miss only costs one lookup
      byHash.set(hex, { agent: row.agent, id: row.id, at: now() });
      hashById.set(row.id, hex);
      void touchToken(ctx.sql, row.id, ctx.clock.now()).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'recording a token use failed'));
      return { ok: true, agent: row.agent, tokenId: row.id };
    },
    start: async () => loop.start(),
    stop: () => loop.stop(),
  };
}

/** Revoke; the local cache is dropped before this returns, other replicas by NOTIFY. */
export async function revokeAgentToken(ctx: TokenDeps, auth: Pick<TokenAuthenticator, 'forget'> | undefined, agent: string, id: string): Promise<void> {
  const done = await revokeToken(ctx.sql, agent, id, ctx.clock.now());
  auth?.forget(id);
  if (!done) throw new NotFoundError('token');
  ctx.logger.info({ agent, token_id: id }, 'agent token revoked');
}
