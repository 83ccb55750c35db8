// Open-loop producer: send i is due at t0 + i/rate and is fired when due, whether or not earlier
// sends have finished, so a slow system shows up as latency, not as a lower offered rate.
export interface OpenLoopResult {
  /** Sends fired. */
  sent: number;
  /** Sends whose promise resolved / rejected. */
  ok: number;
  failed: number;
  /** Wall time from the first due send to the last one fired, ms. */
  elapsedMs: number;
  /** Largest delay between a send's due time and its firing (producer lag), ms. */
  maxLagMs: number;
  errors: string[];
}

/**
 * The same open loop for `warmupMs` before a measured window, its sends numbered -1, -2, … (outside
 * every window's range, so no recorder counts them): a fresh process's first second (JIT, pools
 * connecting) is start-up, not the steady state a rate's latency describes. Every system in a run
 * gets the same warm-up (`--warmup-s`, default 2; 0: none).
 */
export async function warmUp(rate: number, warmupMs: number, send: (i: number) => Promise<unknown>): Promise<void> {
  if (warmupMs <= 0) return;
  await openLoop({ rate, durationMs: warmupMs, send: (k) => send(-1 - k), drainTimeoutMs: 10_000 });
}

export async function openLoop(opts: {
  rate: number;
  durationMs: number;
  send: (i: number) => Promise<unknown>;
  /** Wait at most this long for in-flight sends after the last one fired. */
  drainTimeoutMs?: number;
  /** Stop firing early once this returns true (checked every pump, at most 5 ms apart; `durationMs` is the cap). */
  until?: () => boolean;
}): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round((opts.rate * opts.durationMs) / 1000));
  const interval = 1000 / opts.rate;
  const inflight = new Set<Promise<unknown>>();
  const res: OpenLoopResult = { sent: 0, ok: 0, failed: 0, elapsedMs: 0, maxLagMs: 0, errors: [] };
  const t0 = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      const now = performance.now();
      while (i < total && t0 + i * interval <= now) {
        res.maxLagMs = Math.max(res.maxLagMs, now - (t0 + i * interval));
        const p = opts.send(i).then(
          () => {
            res.ok++;
          },
          (err: unknown) => {
            res.failed++;
            if (res.errors.length < 5) res.errors.push(String((err as Error)?.message ?? err));
          },
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        i++;
        res.sent++;
      }
      if (i < total && opts.until?.()) i = total;
      if (i >= total) {
        res.elapsedMs = performance.now() - t0;
        resolve();
        return;
      }
      const next = t0 + i * interval - performance.now();
      setTimeout(pump, Math.max(0, Math.min(next, 5)));
    };
    pump();
  });
  const drain = Promise.allSettled([...inflight]);
  await Promise.race([drain, new Promise((r) => setTimeout(r, opts.drainTimeoutMs ?? 30_000).unref())]);
  return res;
}
