// Per-agent rate limit (429 + Retry-After, bounded memory).
import { describe, expect, it, vi } from 'vitest';
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
  it('answers 429 rate_limited with Retry-After per X-Agent-ID, storing nothing, and refills', async () => {
    // The limiter's clock is performance.now(), faked here: the bucket refills only when the test
    // moves time, however slow the machine (every other timer stays real).
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      await using t = await startApp({ config: { server: { rate_limit_per_second: 1, rate_limit_burst: 3 } } });
      for (let i = 0; i < 3; i++) expect((await t.call('POST', '/api/v1/tasks', { agent: 'greedy', body: { title: `x${i}` } })).status).toBe(201);
      const limited = await t.call('POST', '/api/v1/tasks', { agent: 'greedy', body: { title: 'one too many' } });
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ code: 'rate_limited', error: expect.any(String), details: { retry_after_s: 1 } });
      expect(limited.headers['retry-after']).toBe('1');
      const stored = (await t.sql<{ n: number }[]>`select count(*)::int as n from tasks`)[0]!.n;
      expect(stored).toBe(3); // the refused request stored nothing
      expect((await t.dispatch.context.metrics.tasksCreated.get()).values[0]?.value).toBe(3);
      // Another agent is not affected.
      expect((await t.call('GET', '/api/v1/tasks', { agent: 'modest' })).status).toBe(200);
      // One token a second: not yet after 999 ms, served again at 1 s.
      vi.advanceTimersByTime(999);
      expect((await t.call('GET', '/api/v1/tasks', { agent: 'greedy' })).status).toBe(429);
      vi.advanceTimersByTime(1);
      expect((await t.call('GET', '/api/v1/tasks', { agent: 'greedy' })).status).toBe(200);
      expect((await t.call('GET', '/api/v1/tasks', { agent: 'greedy' })).status).toBe(429);
    } finally {
      vi.useRealTimers();
    }
  });
});
