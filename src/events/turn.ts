// NATS commands coalesced per event-loop turn. nats.js writes its outbound buffer in a microtask
// queued by the first command after a write, so commands issued from separate microtask chains —
// each completion's publish as its group-commit batch resolves, each consumer ack as the reports
// loop awaits the next message — cost a socket write each (a burn-down of 20,000 lifecycles made
// ~42,000 writes to nats-server). On a loaded 2-core box every write also wakes nats-server,
// which takes the core from Dispatch. Commands deferred here are issued together in the turn's
// check phase (setImmediate), after the turn's I/O callbacks: one write for all of them. A quiet
// system waits for nothing but the rest of its current turn.

export class TurnBatch {
  private queue: (() => void)[] = [];
  private scheduled = false;
  /** Flushes so far, and the commands they carried (tests read these). */
  readonly stats = { flushes: 0, commands: 0 };

  /** Run `command` at the end of this turn, with every other command deferred in it, in order. */
  defer(command: () => void): void {
    this.queue.push(command);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
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
  }
}

const turns = new WeakMap<object, TurnBatch>();

/** The one batch of a connection: its publishes and acks of a turn share a write. */
export function turnOf(connection: object): TurnBatch {
  let t = turns.get(connection);
  if (!t) {
    t = new TurnBatch();
    turns.set(connection, t);
  }
  return t;
}
