import { randomUUID } from 'node:crypto';
import { Loop } from '../../src/loop.js';
import type { TestApp } from './app.js';

// Await a condition, never a fixed sleep: waitFor polls `fn` until it returns something truthy
// (failing with `what` after a generous `timeoutMs`); quiesce waits for the app's loops to go quiet.
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

/** Every loop shell among the app's components (scheduler, relay, housekeeping, the gauges' fold). */
export function loopsOf(t: TestApp): Array<Loop<unknown>> {
  const out: Array<Loop<unknown>> = [];
  for (const c of t.dispatch.components as unknown as Array<Record<string, unknown>>) {
    for (const v of Object.values(c)) if (v instanceof Loop) out.push(v as Loop<unknown>);
  }
  return out;
}

const MARKER = 'dispatch_test_marker';

/**
 * Wait until the app is quiet, without sleeping: every NOTIFY committed before the call has
 * reached its listeners (a marker notification on the same listen connection arrives after
 * them, in commit order), and no loop has a run in flight or about to start. Repeated until a
 * round sees no run, since a run can notify or signal in turn.
 */
export async function quiesce(t: TestApp, maxRounds = 50): Promise<void> {
  const sql = t.dispatch.context.sql;
  const loops = loopsOf(t);
  let arrived: ((payload: string) => void) | undefined;
  const sub = await sql.listen(MARKER, (payload) => arrived?.(payload));
  try {
    for (let round = 0; round < maxRounds; round++) {
      let runs = 0;
      const count = () => {
        runs++;
      };
      for (const l of loops) l.on('run', count).on('idle', count);
      try {
        const token = randomUUID();
        const seen = new Promise<void>((resolve) => {
          arrived = (p) => {
            if (p === token) resolve();
          };
        });
        await sql`select pg_notify(${MARKER}, ${token})`;
        await seen;
        const active = loops.some((l) => l.active);
        await Promise.all(loops.map((l) => l.idle()));
        if (!active && runs === 0) return;
      } finally {
        for (const l of loops) l.off('run', count).off('idle', count);
      }
    }
    throw new Error(`the app was still busy after ${maxRounds} rounds`);
  } finally {
    await sub.unlisten();
  }
}
