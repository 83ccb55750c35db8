// Await a condition, never a fixed sleep: poll `fn` until it returns something truthy; fail
// with `what` (and the last error `fn` threw) after `timeoutMs`.
export async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 15_000, intervalMs = 20): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
