// Retry decision and backoff (docs/state-machine.md): exponential with full jitter,
// base × 2^retry_count, capped; the random source is injected so tests are exact.

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export type RetryDecision = { retry: true; retryCount: number; delayMs: number } | { retry: false };

/** The exponential ceiling of the n-th backoff (n from 0): base × 2^n, capped at max. */
export function backoffCeiling(n: number, policy: BackoffPolicy): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(n, 0), 30));
}

/**
 * The n-th backoff with full jitter: uniform in [0, backoffCeiling(n)). `random` returns a
 * number in [0, 1). Every retry in the service (task retries, neighbour calls) uses this one.
 */
export function backoffDelay(n: number, policy: BackoffPolicy, random: () => number): number {
  return Math.floor(random() * backoffCeiling(n, policy));
}

/**
 * Decide what follows a failed or timed-out attempt. `retryable=false` never retries;
 * otherwise a retry is spent while retry_count < max_retries (max_retries 0 = never).
 */
export function decideRetry(
  task: { retry_count: number; max_retries: number },
  retryable: boolean,
  policy: BackoffPolicy,
  random: () => number,
): RetryDecision {
  if (!retryable || task.retry_count >= task.max_retries) return { retry: false };
  return { retry: true, retryCount: task.retry_count + 1, delayMs: backoffDelay(task.retry_count, policy, random) };
}
