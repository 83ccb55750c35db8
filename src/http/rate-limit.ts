// Per-agent request rate limit: a token bucket per X-Agent-ID (rate_limit_per_second refill,
// rate_limit_burst capacity). Memory is bounded: the map keeps the most recently seen agents
// and forgets the least recently seen one beyond `maxKeys` (an evicted agent comes back with a
// full bucket, which only matters to someone cycling through more than `maxKeys` ids).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { DispatchError } from '../errors.js';

export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Most agents tracked at once. */
  maxKeys?: number;
  /** Monotonic milliseconds (default performance.now: request pacing is not business time, and
   *  a test's frozen business clock must not freeze the buckets). Injectable for unit tests. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterS: number };

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly opts: RateLimitOptions) {
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.now = opts.now ?? (() => performance.now());
  }

  get size(): number {
    return this.buckets.size;
  }

  take(key: string): RateDecision {
    const now = this.now();
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key); // re-insert below: Map order is the LRU order
      const elapsed = Math.max(0, now - b.at) / 1000;
      b = { tokens: Math.min(this.opts.burst, b.tokens + elapsed * this.opts.perSecond), at: now };
    } else {
      b = { tokens: this.opts.burst, at: now };
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    let decision: RateDecision;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      decision = { ok: true };
    } else {
      decision = { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / this.opts.perSecond)) };
    }
    this.buckets.set(key, b);
    return decision;
  }
}

/**
 * A plugin that applies the limit to every /api/v1 route registered after it (it breaks
 * encapsulation on purpose, like fastify-plugin). Runs after the auth hook, so the key is a
 * validated X-Agent-ID; requests without one were already refused with 401.
 */
export function rateLimitPlugin(limiter: RateLimiter): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    // Callback-style (it never waits): no promise per request.
    app.addHook('onRequest', (req: FastifyRequest, _reply, done) => {
      const d = req.agentId ? limiter.take(req.agentId) : undefined;
      if (d && !d.ok) {
        done(
          new DispatchError('rate_limited', 429, `too many requests from agent ${req.agentId}; retry in ${d.retryAfterS}s`, {
            retry_after_s: d.retryAfterS,
          }),
        );
        return;
      }
      done();
    });
  };
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
