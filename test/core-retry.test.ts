import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { backoffCeiling, backoffDelay, decideRetry, type BackoffPolicy } from '../src/core/retry.js';

const P: BackoffPolicy = { baseMs: 100, maxMs: 10_000 };
/** A number in [0, 1), as Math.random returns. */
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const policy = fc.integer({ min: 1, max: 100_000 }).chain((baseMs) => fc.integer({ min: baseMs, max: 10_000_000 }).map((maxMs) => ({ baseMs, maxMs })));

describe('backoffCeiling', () => {
  it.each([
    [0, 100],
    [1, 200],
    [2, 400],
    [3, 800],
    [4, 1600],
    [5, 3200],
    [6, 6400],
    [7, 10_000],
    [8, 10_000],
    [20, 10_000],
  ])('n=%i → %i (base 100 doubling, capped at 10 000)', (n, want) => {
    expect(backoffCeiling(n, P)).toBe(want);
  });

  it('treats a negative n as the first backoff', () => {
    expect(backoffCeiling(-1, P)).toBe(100);
    expect(backoffCeiling(-1e9, P)).toBe(100);
  });

  it.each([31, 64, 1024, 1e6, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Infinity])('n=%d is the cap, finite', (n) => {
    const c = backoffCeiling(n, P);
    expect(c).toBe(10_000);
    expect(Number.isFinite(c)).toBe(true);
  });

  it('is finite for huge n even when the cap is huge', () => {
    for (const n of [100, 1e6, Infinity]) {
      const c = backoffCeiling(n, { baseMs: 1000, maxMs: Number.MAX_SAFE_INTEGER });
      expect(Number.isFinite(c)).toBe(true);
      expect(c).toBeGreaterThan(0);
    }
  });

  it('a zero base (neighbour calls may pass backoffBaseMs 0) is 0 for every n, never NaN', () => {
    for (const n of [0, 5, 31, 1e6, Infinity]) expect(backoffCeiling(n, { baseMs: 0, maxMs: 1000 })).toBe(0);
    expect(backoffDelay(Infinity, { baseMs: 0, maxMs: 1000 }, () => 0.5)).toBe(0);
  });

  it('property: min(max, base × 2^n) for every retry count, monotone, never above the cap', () => {
    fc.assert(
      fc.property(policy, fc.integer({ min: 0, max: 30 }), ({ baseMs, maxMs }, n) => {
        const c = backoffCeiling(n, { baseMs, maxMs });
        expect(c).toBe(Math.min(maxMs, baseMs * 2 ** n));
        expect(c).toBeLessThanOrEqual(maxMs);
        expect(c).toBeGreaterThanOrEqual(Math.min(baseMs, maxMs));
        expect(backoffCeiling(n + 1, { baseMs, maxMs })).toBeGreaterThanOrEqual(c);
      }),
    );
  });
});

describe('backoffDelay', () => {
  it('is full jitter over [0, ceiling): random 0 → 0, 0.5 → half, just under 1 → ceiling − 1', () => {
    expect(backoffDelay(2, P, () => 0)).toBe(0);
    expect(backoffDelay(2, P, () => 0.5)).toBe(200);
    expect(backoffDelay(2, P, () => 0.999_999)).toBe(399);
    expect(backoffDelay(10, P, () => 0.999_999)).toBe(9_999);
  });

  it('draws exactly one random number', () => {
    const random = vi.fn(() => 0.25);
    expect(backoffDelay(3, P, random)).toBe(200);
    expect(random).toHaveBeenCalledTimes(1);
  });

  it('property: an integer in [0, backoffCeiling(n)) for any random in [0, 1)', () => {
    fc.assert(
      fc.property(policy, fc.integer({ min: -5, max: 200 }), unit, (p, n, r) => {
        const d = backoffDelay(n, p, () => r);
        const c = backoffCeiling(n, p);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(c);
        expect(d).toBe(Math.floor(r * c));
      }),
    );
  });
});

describe('decideRetry', () => {
  it('retryable=false never retries and draws no random number', () => {
    const random = vi.fn(() => 0.5);
    for (const [retry_count, max_retries] of [
      [0, 3],
      [2, 3],
      [0, 20],
      [3, 3],
    ] as const) {
      expect(decideRetry({ retry_count, max_retries }, false, P, random)).toEqual({ retry: false });
    }
    expect(random).not.toHaveBeenCalled();
  });

  it('max_retries 0 never retries', () => {
    expect(decideRetry({ retry_count: 0, max_retries: 0 }, true, P, () => 0.5)).toEqual({ retry: false });
  });

  it.each([
    // retry_count, max_retries, random, expected
    [0, 1, 0.5, { retry: true, retryCount: 1, delayMs: 50 }],
    [0, 3, 0.999_999, { retry: true, retryCount: 1, delayMs: 99 }],
    [1, 3, 0.999_999, { retry: true, retryCount: 2, delayMs: 199 }],
    [2, 3, 0.5, { retry: true, retryCount: 3, delayMs: 200 }],
    [2, 3, 0, { retry: true, retryCount: 3, delayMs: 0 }],
    [3, 3, 0.5, { retry: false }],
    [4, 3, 0.5, { retry: false }],
    [19, 20, 0.5, { retry: true, retryCount: 20, delayMs: 5_000 }],
    [20, 20, 0.5, { retry: false }],
  ] as const)('retry_count %i of %i, random %f → %j (delay from the current retry_count)', (retry_count, max_retries, r, want) => {
    expect(decideRetry({ retry_count, max_retries }, true, P, () => r)).toEqual(want);
  });

  it('property: retries exactly while retryable and retry_count < max_retries, with backoff of the current count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 20 }), fc.boolean(), policy, unit, (retry_count, max_retries, retryable, p, r) => {
        const d = decideRetry({ retry_count, max_retries }, retryable, p, () => r);
        if (retryable && retry_count < max_retries) {
          expect(d).toEqual({ retry: true, retryCount: retry_count + 1, delayMs: backoffDelay(retry_count, p, () => r) });
        } else {
          expect(d).toEqual({ retry: false });
        }
      }),
    );
  });
});
