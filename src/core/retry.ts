// Retry decision and backoff (CONTRACT §3): exponential with full jitter,
// base × 2^retry_count, capped; the random source is injected so tests are exact.

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export type RetryDecision =
  | { retry: true; retryCount: number; delayMs: number }
  | { retry: false };

/** `random` returns a number in [0, 1). */
export function backoffDelay(retryCount: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(retryCount, 30));
  return Math.floor(random() * ceiling);
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
