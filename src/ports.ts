// Interfaces between the core and the world. Implementations live in clients/, events/, store/.

/** The one clock. Every "now" in SQL is bound from here, never a hidden now(). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A source of uniform randoms in [0,1), injected so backoff jitter is testable. */
export type Random = () => number;

export type HealthState = 'ok' | 'down' | 'disabled' | 'degraded';

/** A component that reports on /health under `name`. Must answer fast (it is raced against 1 s). */
export interface HealthCheck {
  name: string;
  check(): Promise<HealthState> | HealthState;
  /** While not ok: what it is waiting for, in a sentence for an operator (/health `waiting_for`). */
  waitingFor?(): Promise<string | undefined> | string | undefined;
}
