// NATS commands coalesced per turn. nats.js writes its outbound buffer in a microtask queued by
// the first command after a write, so commands issued from separate microtask chains — each
// completion's publish as its group-commit batch resolves, each consumer ack as the reports loop
// awaits the next message — cost a socket write each (a burn-down of 20,000 lifecycles made
// ~42,000 writes to nats-server). On a loaded 2-core box every write also wakes nats-server,
// which takes the core from Dispatch. Commands deferred here are issued together once the chains
// already queued have run (a microtask queued behind them: a group-commit batch's completions all
// continue before it), and the connection's buffer is written right then (writeOutbound): before
// what those chains queued next, such as the HTTP answer of the create whose `assigned` event this
// is. (Until 2026-12-07 the flush waited for the turn's check phase, setImmediate, behind the
// answer and every other I/O callback of the turn: the 200/s notified p50 was ~0.1 ms longer,
// docs/benchmarks.md run 15.)

export class TurnBatch {
  /** `write`: what puts the commands on the wire once they are issued (writeOutbound). */
  constructor(private readonly write: () => void = () => {}) {}

  private queue: (() => void)[] = [];
  private scheduled = false;
  /** Flushes so far, and the commands they carried (test/events-turn.test.ts reads these). */
  readonly stats = { flushes: 0, commands: 0 };

  /** Run `command` once the microtasks already queued have run, with every other command deferred meanwhile, in order. */
  defer(command: () => void): void {
    this.queue.push(command);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    const commands = this.queue;
    this.queue = [];
    this.scheduled = false;
    this.stats.flushes++;
    this.stats.commands += commands.length;
    for (const c of commands) {
      try {
        c();
      } catch {
        // A command reports its own failures (a publish rejects its promise); one that throws
        // anyway (an ack on a closed connection: the message is redelivered) stops no other.
      }
    }
    try {
      this.write();
    } catch {
      // The connection is going away: its commands are lost with it, as a failed write's are.
    }
  }
}

const turns = new WeakMap<object, TurnBatch>();

/**
 * Write a NATS connection's buffered commands now, not in the microtask nats.js queued for them
 * (which runs after whatever the caller's chain queued meanwhile): its ProtocolHandler's
 * flushPending in @nats-io/nats-core 3.x, not in the public type. Without it, nats.js writes them
 * in its own microtask, as before.
 */
export function writeOutbound(connection: object): void {
  (connection as { protocol?: { flushPending?: () => void } }).protocol?.flushPending?.();
}

/** The one batch of a connection: its publishes and acks of a turn share a write. */
export function turnOf(connection: object): TurnBatch {
  let t = turns.get(connection);
  if (!t) {
    t = new TurnBatch(() => writeOutbound(connection));
    turns.set(connection, t);
  }
  return t;
}
