// Per-agent rate limit (429 + Retry-After, bounded memory).
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/http/rate-limit.js';
import { startApp } from './helpers/app.js';

describe('RateLimiter', () => {
  it('allows the burst, then refills at the configured rate', () => {
    let now = 0;
    const rl = new RateLimiter({ perSecond: 2, burst: 3, now: () => now });
    expect([rl.take('a'), rl.take('a'), rl.take('a')].every((d) => d.ok)).toBe(true);
    expect(rl.take('a')).toEqual({ ok: false, retryAfterS: 1 });
    now += 500; // one token back
    expect(rl.take('a').ok).toBe(true);
    expect(rl.take('a').ok).toBe(false);
    expect(rl.take('b').ok).toBe(true); // per agent
  });

  it('keeps memory bounded: the least recently seen agent is forgotten', () => {
    const rl = new RateLimiter({ perSecond: 1, burst: 1, now: () => 0, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) rl.take(`agent-${i}`);
    expect(rl.size).toBe(100);
  });

  it('computes Retry-After from the refill rate', () => {
    const rl = new RateLimiter({ perSecond: 0.1 as number, burst: 1, now: () => 0 });
    rl.take('slow');
    expect(rl.take('slow')).toEqual({ ok: false, retryAfterS: 10 });
  });
});

describe('rate limit over HTTP', () => {
  it('answers 429 rate_limited with Retry-After per X-Agent-ID, storing nothing', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    await using t = await startApp({ clock: { now: () => now }, config: { server: { rate_limit_per_second: 1, rate_limit_burst: 3 } } });
    for (let i = 0; i < 3; i++) expect((await t.call('GET', '/api/v1/tasks', { agent: 'greedy' })).status).toBe(200);
    const limited = await t.call('POST', '/api/v1/tasks', { agent: 'greedy', body: { title: 'x' } });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'rate_limited', error: expect.any(String) });
    expect(limited.headers['retry-after']).toBe('1');
    const [row] = await t.sql`select count(*)::int as n from tasks`;
    expect(row!.n).toBe(0);
    // Another agent is not affected; the bucket refills with time.
    expect((await t.call('GET', '/api/v1/tasks', { agent: 'modest' })).status).toBe(200);
    now = new Date(now.getTime() + 1000);
    expect((await t.call('GET', '/api/v1/tasks', { agent: 'greedy' })).status).toBe(200);
  });
});
