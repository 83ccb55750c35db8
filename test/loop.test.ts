// The loop shell (src/loop.ts) on its own: coalescing, one more run after pokes during a run,
// "again at once", backoff after failures, LISTEN retried, a bounded stop, and the signals tests
// await. Timers are vitest's fake ones: time moves only when a test moves it.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LISTEN_RETRY_MS, Loop, STOP_WAIT_MS, type LoopSpec, type Trigger } from '../src/loop.js';
import { Signals } from '../src/signals.js';
import type { Sql } from '../src/store/db.js';

const log = pino({ level: 'silent' });
const HOUR = 3600_000;

/** A promise released by hand. */
function gate() {
  let open!: () => void;
  const p = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { p, open };
}

/** A loop whose runs are recorded; `body` decides each run's result (default: its number). */
function recorded<R = number>(spec: Partial<LoopSpec<R>> & { body?: (n: number) => Promise<R> | R } = {}) {
  const triggers: Trigger[] = [];
  const { body, ...rest } = spec;
  const loop = new Loop<R>({
    name: 'test',
    log,
    everyMs: HOUR,
    runOnce: async (trigger) => {
      triggers.push(trigger);
      return body ? body(triggers.length) : (triggers.length as R);
    },
    ...rest,
  });
  return { loop, triggers };
}

/** Let every immediate and microtask due now run (fake time does not move). */
const turn = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('loop shell', () => {
  it('pokes within one turn fold into one run, started on setImmediate without waiting for the timer', async () => {
    const { loop, triggers } = recorded();
    loop.start();
    const next = loop.nextRun();
    for (let i = 0; i < 10; i++) loop.poke();
    expect(triggers).toEqual([]); // not synchronously: on setImmediate
    await turn();
    expect(await next).toBe(1);
    await loop.idle();
    expect(triggers).toEqual(['poke']);
    await loop.stop();
  });

  it('pokes during a run fold into exactly one more run right after it', async () => {
    const g = gate();
    const { loop, triggers } = recorded({
      body: async (n) => {
        if (n === 1) await g.p;
        return n;
      },
    });
    loop.start();
    loop.poke();
    await turn();
    expect(triggers).toEqual(['poke']);
    for (let i = 0; i < 5; i++) loop.poke();
    const second = loop.nextRun((r) => r === 2);
    g.open();
    expect(await second).toBe(2);
    await loop.idle();
    await turn();
    expect(triggers).toEqual(['poke', 'again']);
    await loop.stop();
  });

  it('a result that asks for more runs again at once, without a poke or the timer', async () => {
    const { loop, triggers } = recorded({ again: (n) => n < 3 });
    loop.start();
    loop.poke();
    await turn();
    await loop.idle();
    expect(triggers).toEqual(['poke', 'again', 'again']);
    await loop.stop();
  });

  it('runs on the interval after the last run ended, first one interval after start unless runAtStart', async () => {
    const { loop, triggers } = recorded({ everyMs: 1000 });
    loop.start();
    await vi.advanceTimersByTimeAsync(999);
    expect(triggers).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(triggers).toEqual(['timer']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(triggers).toEqual(['timer', 'timer']);
    await loop.stop();

    const eager = recorded({ everyMs: 1000, runAtStart: true });
    eager.loop.start();
    await turn();
    expect(eager.triggers).toEqual(['start']);
    await eager.loop.stop();
  });

  it('after a failure backs off, doubling from min to max, with pokes waiting; clearBackoff ends it', async () => {
    let fail = true;
    const { loop, triggers } = recorded<{ failed: number }>({
      body: () => {
        if (fail) throw new Error('database unreachable');
        return { failed: 0 };
      },
      failed: (r) => r.failed > 0,
      backoff: { baseMs: 100, maxMs: 350 },
      onError: () => {},
    });
    loop.start();
    loop.poke();
    await turn();
    expect(triggers).toEqual(['poke']);
    expect(loop.failures).toBe(1);
    // Backing off 100 ms: a poke does not start a run.
    loop.poke();
    await vi.advanceTimersByTimeAsync(99);
    expect(triggers).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(triggers).toEqual(['poke', 'timer']);
    // Then 200, then capped at 350.
    await vi.advanceTimersByTimeAsync(199);
    expect(triggers).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(triggers).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(349);
    expect(triggers).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(triggers).toHaveLength(4);
    expect(loop.failures).toBe(4);
    // The dependency is back: a poke that clears the backoff runs at once and resets the count.
    fail = false;
    loop.poke({ clearBackoff: true });
    await turn();
    expect(triggers).toHaveLength(5);
    expect(loop.failures).toBe(0);
    await loop.stop();
  });

  it('a result counted as failed backs off too, and still reaches nextRun', async () => {
    let poke = () => {};
    const { loop, triggers } = recorded<{ failed: number }>({
      body: () => {
        poke(); // a poke during the failing run waits for the backoff too
        return { failed: 1 };
      },
      failed: (r) => r.failed > 0,
      again: () => true,
      backoff: { baseMs: 100, maxMs: 1000 },
    });
    poke = () => loop.poke();
    loop.start();
    const next = loop.nextRun();
    loop.poke();
    await turn();
    expect(await next).toEqual({ failed: 1 });
    // Neither `again` nor a poke is honoured after a failure: no hot loop against a broken dependency.
    expect(triggers).toEqual(['poke']);
    await vi.advanceTimersByTimeAsync(100);
    expect(triggers).toEqual(['poke', 'timer']);
    await loop.stop();
  });

  it('without a backoff a failure is reported and the loop carries on', async () => {
    const errors: unknown[] = [];
    const { loop, triggers } = recorded({
      body: (n) => {
        if (n === 1) throw new Error('boom');
        return n;
      },
      onError: (err) => errors.push(err),
    });
    const heard = new Promise<unknown>((resolve) => loop.once('error', (err) => resolve(err)));
    loop.start();
    loop.poke();
    await turn();
    expect(((await heard) as Error).message).toBe('boom');
    expect(errors).toHaveLength(1);
    loop.poke();
    await turn();
    expect(triggers).toEqual(['poke', 'poke']);
    await loop.stop();
  });

  it('a conditional poke starts a run only if its condition holds, but always folds into a run in flight', async () => {
    const g = gate();
    const { loop, triggers } = recorded({
      body: async (n) => {
        if (n === 1) await g.p;
        return n;
      },
    });
    loop.start();
    loop.poke({ when: () => false });
    await turn();
    expect(triggers).toEqual([]);
    loop.poke();
    await turn();
    loop.poke({ when: () => false });
    g.open();
    await loop.nextRun((r) => r === 2);
    expect(triggers).toEqual(['poke', 'again']);
    await loop.stop();
  });

  it('signals poke the loop (or reach their handler) only while it runs', async () => {
    const signals = new Signals();
    const reasons: Array<string | undefined> = [];
    const { loop, triggers } = recorded({
      signals: { emitter: signals, on: { 'events-written': true, 'assign-needed': (reason) => reasons.push(reason) } },
    });
    loop.start();
    signals.emit('events-written');
    signals.emit('events-written');
    signals.emit('assign-needed', 'freed');
    await turn();
    expect(triggers).toEqual(['poke']);
    expect(reasons).toEqual(['freed']);
    await loop.stop();
    expect(signals.listenerCount('events-written')).toBe(0);
    signals.emit('events-written');
    await turn();
    expect(triggers).toEqual(['poke']);
    // A restart registers them again, once.
    loop.start();
    loop.start();
    expect(signals.listenerCount('events-written')).toBe(1);
    await loop.stop();
  });

  it('LISTEN never holds up start, is retried every LISTEN_RETRY_MS until it works, and its notifications poke', async () => {
    let notify: ((payload: string) => void) | undefined;
    let attempts = 0;
    let unlistened = 0;
    const sql = {
      listen: async (_channel: string, onNotify: (p: string) => void, onListen?: () => void) => {
        attempts++;
        if (attempts === 1) throw new Error('connection refused');
        notify = onNotify;
        onListen?.();
        return {
          state: {},
          unlisten: async () => {
            unlistened++;
          },
        };
      },
    } as unknown as Sql;
    const { loop, triggers } = recorded({ everyMs: HOUR, listen: [{ sql, channel: 'dispatch_test' }] });
    loop.start();
    await turn();
    expect(attempts).toBe(1);
    expect(triggers).toEqual([]);
    await vi.advanceTimersByTimeAsync(LISTEN_RETRY_MS - 1);
    expect(attempts).toBe(1);
    // Once it works, the (re)LISTEN pokes one run to catch up on what it missed.
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toBe(2);
    // (An immediate set inside a fake timer's callback runs on the next tick of fake time.)
    await vi.advanceTimersByTimeAsync(1);
    expect(triggers).toEqual(['poke']);
    notify!('x');
    await turn();
    expect(triggers).toEqual(['poke', 'poke']);
    await vi.advanceTimersByTimeAsync(LISTEN_RETRY_MS * 3);
    expect(attempts).toBe(2); // listening: not retried
    await loop.stop();
    expect(unlistened).toBe(1);
  });

  it('stop() waits for a run in flight, but at most STOP_WAIT_MS while runOnce hangs', async () => {
    const { loop, triggers } = recorded({ body: () => new Promise<number>(() => {}) });
    loop.start();
    loop.poke();
    await turn();
    expect(triggers).toEqual(['poke']);
    let stopped = false;
    void loop.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(STOP_WAIT_MS - 1);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stopped).toBe(true);
    expect(loop.stopping).toBe(true);
  });

  it('stop() waits for a run that finishes, and nothing runs after it', async () => {
    const g = gate();
    let finished = false;
    const { loop, triggers } = recorded({
      everyMs: 10,
      body: async () => {
        await g.p;
        finished = true;
        return 0;
      },
    });
    loop.start();
    loop.poke();
    await turn();
    const stopping = loop.stop();
    loop.poke();
    g.open();
    await stopping;
    expect(finished).toBe(true);
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(triggers).toEqual(['poke']);
  });

  it('with runAtStart the first run follows the first LISTEN attempt, whichever way it ends', async () => {
    let fail!: (err: Error) => void;
    const sql = {
      listen: () =>
        new Promise((_resolve, reject) => {
          fail = reject;
        }),
    } as unknown as Sql;
    const { loop, triggers } = recorded({ everyMs: HOUR, runAtStart: true, listen: [{ sql, channel: 'dispatch_test' }] });
    loop.start();
    await turn();
    expect(triggers).toEqual([]);
    fail(new Error('connection refused'));
    await turn();
    expect(triggers).toEqual(['start']);
    await loop.stop();
  });

  it("emits 'idle' once nothing is in flight or about to start; idle() resolves at once when idle", async () => {
    const { loop } = recorded({ again: (n) => n < 2 });
    loop.start();
    await loop.idle(); // nothing pending: resolves without a run
    let idles = 0;
    loop.on('idle', () => idles++);
    loop.poke();
    const idle = loop.idle();
    await turn();
    await idle;
    expect(idles).toBe(1);
    await loop.stop();
  });
});
