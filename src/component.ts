// The lifecycle every background part of the service has (scheduler, relay, consumers, loops).
// A file of its own so the parts and the context that holds them (context.ts) both import it
// without importing each other.

/** A background part of the service (scheduler, relay, consumers) with a lifecycle. */
export interface Component {
  name: string;
  start(): Promise<void>;
  /** Stop taking new work and finish what is in flight (bounded: see loop.ts STOP_WAIT_MS). */
  stop(): Promise<void>;
}
