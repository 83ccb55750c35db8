// auth.mode=token (docs/security.md): a bearer token is the agent's identity; refused requests
// change nothing; a revoke holds at once on this replica and within 1 s on another; failed
// authentications are limited per client address.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startApp, type TestApp } from './helpers/app.js';
import { counts } from './helpers/tasks-api.js';
import { waitFor } from './helpers/wait.js';
import { AuthFailureLimiter, MAX_FAILURES } from '../src/http/auth.js';
import pino from 'pino';
import { CACHE_TTL_MS, createTokenAuthenticator, tokenHash } from '../src/services/tokens.js';

let t: TestApp;
beforeAll(async () => {
  // Many refusals come from this one address on purpose: a limiter that never blocks (the limit has tests of its own below).
  t = await startApp({
    config: { auth: { mode: 'token' }, server: { rate_limit_burst: 100_000, rate_limit_per_second: 100_000 } },
    authFailures: new AuthFailureLimiter(undefined, Number.MAX_SAFE_INTEGER),
  });
});
afterAll(async () => t?.stop());

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await request(`${t.apiUrl}${path}`, {
    method: method as never,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
}
const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-agent-id': 'ops' };
const bearer = (token: string, agent?: string) => ({ authorization: `Bearer ${token}`, ...(agent ? { 'x-agent-id': agent } : {}) });

async function issue(agent: string, label?: string): Promise<{ id: string; token: string }> {
  const res = await call('POST', `/api/v1/agents/${agent}/tokens`, admin, label ? { label } : undefined);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('token mode', () => {
  it('issues a token shown once (≥ 32 random bytes), stored as its SHA-256, listed without it', async () => {
    const { id, token } = await issue('scout', 'laptop');
    expect(Buffer.from(token.replace(/^dsp_/, ''), 'base64url').length).toBeGreaterThanOrEqual(32);
    const [row] = await t.sql<{ hash: Buffer }[]>`select hash from agent_tokens where id = ${id}`;
    expect(row!.hash.equals(tokenHash(token))).toBe(true);
    const stored = JSON.stringify(await t.sql`select * from agent_tokens`);
    expect(stored).not.toContain(token);
    const list = await call('GET', '/api/v1/agents/scout/tokens', admin);
    expect(list.body.tokens).toEqual([{ id, agent: 'scout', label: 'laptop', created_at: expect.any(String), last_used_at: null }]);
    expect(JSON.stringify(list.body)).not.toContain(token);
  });

  it("the token is the identity: X-Agent-ID may be left out, and the assignee check uses the token's agent", async () => {
    const alice = await issue('alice');
    const created = await call('POST', '/api/v1/tasks', bearer(alice.token), { title: 'mine' });
    expect(created.status).toBe(201);
    expect(created.body.requester).toBe('alice');
    expect((await call('GET', `/api/v1/tasks/${created.body.id}`, bearer(alice.token, 'alice'))).status).toBe(200);
    const mallory = await issue('mallory');
    const stolen = await call('PATCH', `/api/v1/tasks/${created.body.id}`, bearer(mallory.token), { status: 'cancelled' });
    expect(stolen).toMatchObject({ status: 403, body: { code: 'forbidden' } });
  });

  it("the long-poll's :id check and the schedule's requester use the token's identity", async () => {
    const scout = await issue('scout');
    expect((await call('GET', '/api/v1/agents/scout/assignments', bearer(scout.token))).status).toBe(200);
    expect((await call('GET', '/api/v1/agents/builder/assignments', bearer(scout.token))).body.code).toBe('forbidden');
    const made = await call('POST', '/api/v1/schedules', bearer(scout.token), { name: 'nightly', cron: '0 3 * * *', task: { title: 'n' } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.requester).toBe('scout');
    const other = await issue('mallory');
    expect((await call('PATCH', `/api/v1/schedules/${made.body.id}`, bearer(other.token), { paused: true })).status).toBe(403);
  });

  it('no token, a malformed header, an unknown or revoked token, a spoofed X-Agent-ID → 401/403 and nothing changed', async () => {
    const scout = await issue('scout');
    const revoked = await issue('scout');
    expect((await call('DELETE', `/api/v1/agents/scout/tokens/${revoked.id}`, admin)).status).toBe(204);
    const before = await counts(t.sql);
    const body = { title: 'refused' };
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ 'x-agent-id': 'scout' }, 401, 'unauthorized'],
      [{ authorization: 'Basic abc', 'x-agent-id': 'scout' }, 401, 'unauthorized'],
      [{ authorization: 'Bearer' }, 401, 'unauthorized'],
      [bearer('dsp_not-a-token'), 401, 'unauthorized'],
      [bearer(revoked.token), 401, 'unauthorized'],
      [bearer(scout.token, 'builder'), 403, 'agent_mismatch'],
      [bearer(scout.token, 'bad id'), 401, 'missing_agent_id'],
    ];
    for (const [headers, status, code] of cases) {
      const res = await call('POST', '/api/v1/tasks', headers, body);
      expect([res.status, res.body.code], JSON.stringify(headers)).toEqual([status, code]);
    }
    expect(await counts(t.sql)).toEqual(before);
    // An agent token is no admin token.
    expect((await call('GET', '/api/v1/stats', bearer(scout.token))).status).toBe(401);
    expect((await call('POST', '/api/v1/agents/scout/tokens', bearer(scout.token))).status).toBe(401);
    const metrics = await t.dispatch.context.metrics.registry.getSingleMetricAsString('dispatch_auth_failures_total');
    for (const reason of ['missing', 'malformed', 'unknown', 'revoked', 'mismatch']) expect(metrics).toContain(`reason="${reason}"`);
  });

  it('20 concurrent revokes and uses: no use that starts after its revoke returned succeeds', async () => {
    const tokens = await Promise.all(Array.from({ length: 20 }, () => issue('builder')));
    const results = await Promise.all(
      tokens.map(async ({ id, token }) => {
        // A use racing the revoke may go either way; once the revoke answered, every use is refused.
        const racing = call('GET', '/api/v1/tasks?limit=1', bearer(token));
        const revoke = await call('DELETE', `/api/v1/agents/builder/tokens/${id}`, admin);
        const after = await Promise.all([1, 2, 3].map(() => call('GET', '/api/v1/tasks?limit=1', bearer(token))));
        return { revoke: revoke.status, racing: (await racing).status, after: after.map((a) => a.status) };
      }),
    );
    for (const r of results) {
      expect(r.revoke).toBe(204);
      expect([200, 401]).toContain(r.racing);
      expect(r.after).toEqual([401, 401, 401]);
    }
    expect((await call('DELETE', `/api/v1/agents/builder/tokens/${tokens[0]!.id}`, admin)).status).toBe(404);
  });

  it('a revoke on one replica drops the identity another replica cached, by NOTIFY (its cache never expires here)', async () => {
    // The other replica's authenticator with a frozen monotonic clock: only the NOTIFY can drop its entry.
    const other = createTokenAuthenticator({ sql: t.sql, clock: { now: () => new Date() }, logger: pino({ level: 'silent' }) }, { now: () => 0, ttlMs: 1 });
    const listening = other.loop.nextRun();
    await other.start();
    try {
      await listening; // the first run follows the first LISTEN
      const { id, token } = await issue('scout');
      expect(await other.authenticate(token)).toMatchObject({ ok: true, agent: 'scout' }); // cached from now on
      expect((await call('DELETE', `/api/v1/agents/scout/tokens/${id}`, admin)).status).toBe(204);
      await waitFor(async () => !(await other.authenticate(token)).ok, 'the other replica refuses the token', 5000, 10);
      expect(await other.authenticate(token)).toEqual({ ok: false, reason: 'revoked' });
    } finally {
      await other.stop();
    }
  });

  it('without the NOTIFY a cached identity lives at most CACHE_TTL_MS = 1 s', () => {
    expect(CACHE_TTL_MS).toBeLessThanOrEqual(1000);
  });

  it('header mode is unchanged: X-Agent-ID is required and trusted, no token needed', async () => {
    await using h = await startApp({ db: t.db });
    expect((await h.call('POST', '/api/v1/tasks', { agent: 'anyone', body: { title: 'x' } })).status).toBe(201);
    expect((await h.call('GET', '/api/v1/tasks', { agent: null })).body.code).toBe('missing_agent_id');
  });
});

describe('failed-authentication limit', () => {
  it('more than 20 failures from one address in a minute → 429 for the rest of the minute; others unaffected', () => {
    let now = 0;
    const l = new AuthFailureLimiter(() => now);
    for (let i = 0; i < MAX_FAILURES; i++) l.fail('10.0.0.1');
    expect(l.blockedFor('10.0.0.1')).toBe(0);
    l.fail('10.0.0.1');
    expect(l.blockedFor('10.0.0.1')).toBe(60);
    expect(l.blockedFor('10.0.0.2')).toBe(0);
    now = 59_500;
    expect(l.blockedFor('10.0.0.1')).toBe(1);
    now = 60_000;
    expect(l.blockedFor('10.0.0.1')).toBe(0);
  });

  it('over HTTP: the 22nd bad try gets 429 with Retry-After, and so does a valid token from that address', async () => {
    await using app = await startApp({ config: { auth: { mode: 'token' } } });
    const good = (await request(`${app.apiUrl}/api/v1/agents/scout/tokens`, { method: 'POST', headers: admin }).then((r) => r.body.json())) as {
      token: string;
    };
    for (let i = 0; i <= MAX_FAILURES; i++) {
      const r = await request(`${app.apiUrl}/api/v1/tasks`, { headers: bearer(`dsp_guess${i}`) });
      await r.body.text();
      expect(r.statusCode).toBe(401);
    }
    const blocked = await request(`${app.apiUrl}/api/v1/tasks`, { headers: bearer(good.token) });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(((await blocked.body.json()) as { code: string }).code).toBe('rate_limited');
  });
});
