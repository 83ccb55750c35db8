// The in-process registry of held requests (docs/waiting.md): key (an agent id, a task id) → the
// requests waiting on it. A waiter is registered BEFORE the request's first read, so a change
// committed between that read and the wait still wakes it (the wake is remembered until the
// request waits). While held, a request costs a timer and a set entry: no database work.
export type WakeReason = 'woken' | 'timeout' | 'closed';

export class Waiter {
  private pending: WakeReason | undefined;
  private resolve: ((r: WakeReason) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    private readonly owner: WaiterSet,
  ) {}

  /** 'woken' by a change of its key (remembered if it came before the wait), 'timeout' after ms, or 'closed' at shutdown. */
  wait(ms: number): Promise<WakeReason> {
    if (this.pending) {
      const r = this.pending;
      this.pending = r === 'closed' ? r : undefined;
      return Promise.resolve(r);
    }
    return new Promise((resolve) => {
      this.resolve = resolve;
      // Unref'd: a held request never keeps the process alive by itself (the server does).
      this.timer = setTimeout(() => this.settle('timeout'), Math.max(0, ms)).unref();
    });
  }

  /** @internal called by the set. */
  settle(reason: WakeReason): void {
    const resolve = this.resolve;
    if (!resolve) {
      if (this.pending !== 'closed') this.pending = reason;
      return;
    }
    this.resolve = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    resolve(reason);
  }

  /** Leave the registry (always, in a finally). */
  release(): void {
    clearTimeout(this.timer);
    this.owner.remove(this);
  }
}

export class WaiterSet {
  private readonly byKey = new Map<string, Set<Waiter>>();
  private count = 0;
  private closedFlag = false;

  /** Held requests (waiting or about to). */
  get size(): number {
    return this.count;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  register(key: string): Waiter {
    const w = new Waiter(key, this);
    if (this.closedFlag) {
      w.settle('closed');
      return w;
    }
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(w);
    this.count++;
    return w;
  }

  /** Wake every request waiting on `key`; returns how many. */
  wake(key: string): number {
    const set = this.byKey.get(key);
    if (!set) return 0;
    for (const w of set) w.settle('woken');
    return set.size;
  }

  /** Wake every request (e.g. after the LISTEN connection came back: a notification may have been missed). */
  wakeAll(): void {
    for (const set of this.byKey.values()) for (const w of set) w.settle('woken');
  }

  /** Shutdown: answer every held request now; later ones do not wait. */
  close(): void {
    this.closedFlag = true;
    for (const set of this.byKey.values()) for (const w of set) w.settle('closed');
  }

  open(): void {
    this.closedFlag = false;
  }

  /** @internal */
  remove(w: Waiter): void {
    const set = this.byKey.get(w.key);
    if (!set?.delete(w)) return;
    this.count--;
    if (set.size === 0) this.byKey.delete(w.key);
  }
}
