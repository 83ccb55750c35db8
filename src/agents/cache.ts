// A single-flight cache of one slow, fallible value: at most one fetch in flight, callers wait at
// most a budget for it, and the last good value is served (stale) while fetches fail.
// Cache ages use the process's monotonic time, not the business clock.
import { waitAtMost } from '../loop.js';

export type Outcome = { ok: true } | { ok: false; error: unknown };

export class Cached<T> {
  private value: T | undefined;
  private fetchedAt = -Infinity;
  private inflight: Promise<void> | undefined;
  /** Outcome of the last finished fetch; undefined before the first one ends. */
  last: Outcome | undefined;

  constructor(
    private readonly fetcher: () => Promise<T>,
    private readonly onOutcome: (o: Outcome) => void = () => {},
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  get current(): T | undefined {
    return this.value;
  }

  /** Milliseconds since the value was last fetched successfully (Infinity if never). */
  age(): number {
    return this.monotonic() - this.fetchedAt;
  }

  /** Start a fetch unless one is already running; resolves when it ends (never rejects). */
  refresh(): Promise<void> {
    if (!this.inflight) {
      const started = this.monotonic();
      this.inflight = this.fetcher()
        .then(
          (v) => {
            this.value = v;
            this.fetchedAt = started;
            this.last = { ok: true };
            this.onOutcome(this.last);
          },
          (error: unknown) => {
            this.last = { ok: false, error };
            this.onOutcome(this.last);
          },
        )
        .finally(() => {
          this.inflight = undefined;
        });
    }
    return this.inflight;
  }

  /**
   * The value, refreshed first when older than `maxAgeMs` (waiting at most `budgetMs` for the
   * fetch; it goes on in the background). Returns the last good value, possibly stale.
   */
  async get(maxAgeMs: number, budgetMs: number): Promise<T | undefined> {
    if (this.age() < maxAgeMs) return this.value;
    await waitAtMost(this.refresh(), budgetMs);
    return this.value;
  }
}
