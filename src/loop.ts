// The loop shell every background component runs in: a `runOnce()` plus a declaration of what
// wakes it (an interval timer, Postgres LISTEN channels, in-process signals). The shell owns the
// rest, once: coalescing pokes, "go again at once", backoff after a failure, LISTEN retried until
// the database answers, a bounded stop(), and signals tests can await instead of sleeping.
//
// Invariants:
// - At most one run at a time per loop.
// - Pokes within one turn of the event loop fold into one run, started on setImmediate (never a
//   sleep first); pokes during a run fold into exactly one more run right after it.
// - The timer is armed only while no run is in flight: `everyMs` after the last run ended (or
//   after start), or the backoff delay after a failure. While backing off, pokes wait for it.
// - start() never waits on the database: LISTEN happens in the background and is retried every
//   LISTEN_RETRY_MS until it succeeds; the timer covers the gap. With `runAtStart` the first
//   run follows the first LISTEN attempt (or the timer, whichever comes first).
// - stop() waits for a run in flight at most STOP_WAIT_MS; nothing a run left undone is lost.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { backoffCeiling, type BackoffPolicy } from './core/retry.js';
import type { SignalMap, Signals } from './signals.js';
import type { Sql } from './store/db.js';

/** How long a component's stop() waits for work in flight before it lets go. */
export const STOP_WAIT_MS = 2000;

/**
 * Delay before a failed LISTEN is tried again. Not faster: postgres.js counts every failed
 * connection attempt of the pool (listen connection included) and backs its reconnects off
 * exponentially, up to 20 s, so frequent retries would delay the API's own queries.
 */
export const LISTEN_RETRY_MS = 5000;

/** Wait for `p` (settled either way) or `ms`, whichever comes first. Never throws. */
export async function waitAtMost(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p?.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Why a run started: 'start' (the first run, when `runAtStart`), 'timer' (the interval or the end
 * of a backoff), 'poke' (a notification, a signal, a call to poke()), 'again' (right after the
 * previous run: poked during it, or its result asked for more).
 */
export type Trigger = 'start' | 'timer' | 'poke' | 'again';

export interface ListenSpec {
  /** The pool whose (single, shared) listen connection carries the channel. */
  sql: Sql;
  channel: string;
  /** What a notification does (default: poke()). */
  onNotify?: (payload: string) => void;
  /** Called on every (re)LISTEN, before the poke: notifications may have been missed while it was down. */
  onListen?: () => void;
}

/** Per signal: `true` pokes, a function handles it (and pokes itself if it wants). */
export type SignalWakers = { [K in keyof SignalMap]?: true | ((...args: SignalMap[K]) => void) };

export interface LoopSpec<R> {
  name: string;
  log: Logger;
  runOnce(trigger: Trigger): Promise<R>;
  /** The interval timer: the next run this long after a run ends. */
  everyMs: number;
  /** Run at start (on setImmediate) instead of one interval after it. */
  runAtStart?: boolean;
  listen?: ListenSpec[];
  signals?: { emitter: Signals; on: SignalWakers };
  /** A result that asks for another run at once (e.g. a full batch). */
  again?(result: R): boolean;
  /**
   * The timer after a successful run, from its result (default everyMs): e.g. the schedule firer
   * sleeps until the earliest next_run_at.
   */
  delayAfter?(result: R): number;
  /** A result that counts as a failure, like a throw (e.g. some publishes failed). */
  failed?(result: R): boolean;
  /**
   * After the n-th consecutive failure (n from 1) the next run waits backoffCeiling(n - 1) and
   * pokes wait with it. Without: a failure is logged and the loop carries on as after a success.
   */
  backoff?: BackoffPolicy;
  /** Called with what runOnce threw (default: a warning). */
  onError?(err: unknown): void;
}

export interface LoopEvents<R> {
  /** A run completed (a result counted as failed included). */
  run: [result: R, trigger: Trigger];
  /** runOnce threw. Emitted only while someone listens, so an unheard failure never throws. */
  error: [err: unknown, trigger: Trigger];
  /** No run in flight and none started: the loop waits for its timer or a poke. */
  idle: [];
}

export interface PokeOptions {
  /** Checked only while no run is in flight: start a run only if it holds. A poke during a run always folds into one more run. */
  when?: () => boolean;
  /** End a backoff now (e.g. the broken dependency came back). */
  clearBackoff?: boolean;
}

export class Loop<R> extends EventEmitter<LoopEvents<R>> {
  private stoppedFlag = true;
  private stopRequested = false;
  private busy = false;
  private inflight: Promise<void> | undefined;
  private again = false;
  private backingOff = false;
  private consecutiveFailures = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly subs = new Map<string, () => Promise<void>>();
  private readonly listening = new Set<string>();
  private listenWarned = false;
  private listenRetry: NodeJS.Timeout | undefined;
  /** Counts start()s, so a start-up continuation never acts on a later start. */
  private generation = 0;
  private readonly signalHandlers: Array<[string, (...args: unknown[]) => void]> = [];

  constructor(private readonly spec: LoopSpec<R>) {
    super();
    for (const [name, how] of Object.entries(spec.signals?.on ?? {})) {
      const fn = how === true ? () => this.poke() : (how as (...args: unknown[]) => void);
      this.signalHandlers.push([name, fn]);
    }
  }

  get name(): string {
    return this.spec.name;
  }

  /** True once stop() was called (until the next start): long runs check it between batches. */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Failures since the last success. */
  get failures(): number {
    return this.consecutiveFailures;
  }

  /** Whether a run is in flight or about to start. */
  get active(): boolean {
    return this.busy || this.immediate !== undefined;
  }

  start(): void {
    if (!this.stoppedFlag) return;
    this.stoppedFlag = false;
    this.stopRequested = false;
    this.backingOff = false;
    this.consecutiveFailures = 0;
    const emitter = this.spec.signals?.emitter as EventEmitter | undefined;
    for (const [name, fn] of this.signalHandlers) emitter?.off(name, fn).on(name, fn);
    const generation = ++this.generation;
    const listening = this.listenAll();
    this.arm(this.spec.everyMs);
    if (!this.spec.runAtStart) return;
    // The first run follows the first LISTEN attempt (never held up longer than the timer): it
    // then sees everything committed before notifications could reach us.
    void listening.then(() => {
      if (this.stoppedFlag || generation !== this.generation || this.busy) return;
      if (this.immediate) clearImmediate(this.immediate);
      this.immediate = setImmediate(() => this.cycle('start'));
    });
  }

  /**
   * Stop waking: no timer, notifications or signals. Waits for a run in flight (and the
   * UNLISTENs) at most STOP_WAIT_MS: with the database unreachable they can wait on connection
   * attempts. runOnce() stays callable by hand.
   */
  async stop(): Promise<void> {
    this.stoppedFlag = true;
    this.stopRequested = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.listenRetry);
    this.listenRetry = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    const emitter = this.spec.signals?.emitter as EventEmitter | undefined;
    for (const [name, fn] of this.signalHandlers) emitter?.off(name, fn);
    const unlistens = [...this.subs.values()].map((u) => u().catch(() => {}));
    this.subs.clear();
    await waitAtMost(Promise.all([this.inflight, ...unlistens]), STOP_WAIT_MS);
  }

  /** Ask for a run now (see the invariants at the top). */
  poke(opts: PokeOptions = {}): void {
    if (this.stoppedFlag) return;
    if (opts.clearBackoff) this.backingOff = false;
    if (this.backingOff) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    if (opts.when && !opts.when()) return;
    this.immediate ??= setImmediate(() => this.cycle('poke'));
  }

  /** The result of the next completed run that satisfies `predicate` (any run by default). */
  nextRun(predicate: (result: R, trigger: Trigger) => boolean = () => true): Promise<R> {
    return new Promise((resolve) => {
      const onRun = (result: R, trigger: Trigger) => {
        if (!predicate(result, trigger)) return;
        this.off('run', onRun);
        resolve(result);
      };
      this.on('run', onRun);
    });
  }

  /** Resolves at once if no run is in flight or about to start, else at the next 'idle'. */
  idle(): Promise<void> {
    if (!this.active) return Promise.resolve();
    return new Promise((resolve) => this.once('idle', () => resolve()));
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    if (this.stoppedFlag) return;
    // Unref'd: a waiting loop never keeps the process alive by itself (the servers do).
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.backingOff = false;
      this.cycle('timer');
    }, ms).unref();
  }

  private cycle(trigger: Trigger): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    if (this.stoppedFlag) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inflight = this.runs(trigger);
  }

  /** Runs until nothing asks for another; then arms the timer. Never throws. */
  private async runs(first: Trigger): Promise<void> {
    let trigger = first;
    let delay = this.spec.everyMs;
    try {
      for (;;) {
        this.again = false;
        let failed: boolean;
        try {
          const result = await this.spec.runOnce(trigger);
          failed = this.spec.failed?.(result) ?? false;
          if (!failed && this.spec.again?.(result)) this.again = true;
          delay = !failed && this.spec.delayAfter ? this.spec.delayAfter(result) : this.spec.everyMs;
          this.emit('run', result, trigger);
        } catch (err) {
          failed = true;
          (this.spec.onError ?? ((e: unknown) => this.spec.log.warn({ err: (e as Error).message }, `${this.spec.name} run failed`)))(err);
          if (this.listenerCount('error') > 0) this.emit('error', err, trigger);
        }
        if (failed) this.consecutiveFailures++;
        else this.consecutiveFailures = 0;
        if (failed && this.spec.backoff) {
          delay = backoffCeiling(this.consecutiveFailures - 1, this.spec.backoff);
          this.backingOff = true;
          this.again = false;
          break;
        }
        if (!this.again || this.stoppedFlag) break;
        trigger = 'again';
      }
    } finally {
      this.busy = false;
      this.inflight = undefined;
      this.again = false;
      this.arm(delay);
    }
    if (!this.active) this.emit('idle');
  }

  /**
   * LISTEN every channel not yet listened to, in the background; warns once per outage. Resolves
   * when these attempts have settled, either way.
   */
  private listenAll(): Promise<void> {
    const attempts: Promise<void>[] = [];
    for (const l of this.spec.listen ?? []) {
      if (this.stoppedFlag || this.subs.has(l.channel) || this.listening.has(l.channel)) continue;
      this.listening.add(l.channel);
      const onNotify = l.onNotify ?? (() => this.poke());
      // onlisten runs on every (re)LISTEN: a run then catches what was notified while it was down.
      attempts.push(
        l.sql
          .listen(l.channel, onNotify, () => {
            l.onListen?.();
            this.poke();
          })
          .then(
            (sub) => {
              this.listening.delete(l.channel);
              this.listenWarned = false;
              if (this.stoppedFlag) void sub.unlisten().catch(() => {});
              else this.subs.set(l.channel, () => sub.unlisten());
            },
            (err: unknown) => {
              this.listening.delete(l.channel);
              if (!this.stoppedFlag && !this.listenRetry) {
                this.listenRetry = setTimeout(() => {
                  this.listenRetry = undefined;
                  void this.listenAll();
                }, LISTEN_RETRY_MS).unref();
              }
              if (this.listenWarned) return;
              this.listenWarned = true;
              this.spec.log.warn(
                { err: (err as Error).message, channel: l.channel },
                `cannot LISTEN ${l.channel} yet; relying on the timer until the database is back`,
              );
            },
          ),
      );
    }
    return Promise.all(attempts).then(() => {});
  }
}
