// Agent tokens (docs/security.md): only their SHA-256 is stored. A revoke NOTIFYs
// `dispatch_tokens` (delivered at commit to every replica) so cached identities are dropped.
import type { Db } from './db.js';

export interface TokenRow {
  id: string;
  agent: string;
  label: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export const TOKENS_CHANNEL = 'dispatch_tokens';

export async function insertToken(db: Db, t: { id: string; agent: string; label: string | null; hash: Buffer; now: Date }): Promise<TokenRow> {
  const [row] = await db<TokenRow[]>`
    insert into agent_tokens (id, agent, label, hash, created_at) values (${t.id}, ${t.agent}, ${t.label}, ${t.hash}, ${t.now})
    returning id, agent, label, created_at, last_used_at, revoked_at`;
  return row!;
}

/** The live (not revoked) tokens of an agent, oldest first. */
export async function listTokens(db: Db, agent: string): Promise<TokenRow[]> {
  return db<TokenRow[]>`
    select id, agent, label, created_at, last_used_at, revoked_at from agent_tokens
    where agent = ${agent} and revoked_at is null order by created_at, id`;
}

/** The token with this hash, revoked or not (the caller tells "unknown" from "revoked"). */
export async function findTokenByHash(db: Db, hash: Buffer): Promise<TokenRow | undefined> {
  const [row] = await db<TokenRow[]>`
    select id, agent, label, created_at, last_used_at, revoked_at from agent_tokens where hash = ${hash}`;
  return row;
}

/**
 * Revoke one of `agent`'s tokens and tell every replica, in one statement (the NOTIFY is sent at
 * commit). Returns false when there is no such live token.
 */
export async function revokeToken(db: Db, agent: string, id: string, now: Date): Promise<boolean> {
  const rows = await db<{ id: string }[]>`
    with r as (
      update agent_tokens set revoked_at = ${now}
      where id = ${id} and agent = ${agent} and revoked_at is null returning id
    )
    select r.id, pg_notify(${TOKENS_CHANNEL}, r.id::text) from r`;
  return rows.length > 0;
}

/** Record a use, at most once a minute per token (so a busy agent costs no write per request). */
export async function touchToken(db: Db, id: string, now: Date): Promise<void> {
  await db`
    update agent_tokens set last_used_at = ${now}
    where id = ${id} and (last_used_at is null or last_used_at < ${new Date(now.getTime() - 60_000)})`;
}
