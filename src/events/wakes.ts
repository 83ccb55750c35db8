// Wake-ups without a NOTIFY inside a write (issue "The lean engine", docs/waiting.md "Wake-ups").
//
// A committed change may end a wait somewhere: a long-poll waiting for its agent's next
// assignment (an `assigned` or `input_received` event), an await waiting for its task to end or
// ask for input (`completed`, `failed`, `timeout`, `cancelled`, `input_required`), an SSE stream
// following the event feed (any event), a relay that should publish what no fast path sent.
// Until migration 0037 triggers sent these as NOTIFYs inside the writing transaction: Postgres
// serialises notifying commits on one lock, so they could not share a disk flush. Now:
//
// - This replica's own writes wake its own waiters in-process, after the commit: the hot paths
//   hand their committed events ('events-committed'), the other writers what they changed
//   ('tasks-changed', announceChanges in services/announce.ts).
// - Other replicas learn from NATS: every replica subscribes to the lifecycle subjects the fast
//   path and the relay publish on (the link's connection has noEcho: a replica never receives
//   what it published itself; the relay wakes for what it publishes on another's behalf).
// - Without NATS, and for the writers off the fast path (their events reach NATS only after the
//   relay's grace), one coalesced `select pg_notify(…)` per turn, outside any write: the channels
//   the feed, the waiters and the relay already LISTEN on. At most one such statement is in flight
//   per replica; wakes arriving meanwhile go together in the next.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Component, DispatchContext } from '../context.js';
import type { Waiting } from '../waiting/index.js';
import type { CommittedEvents } from '../store/events.js';
import { notifyWakes } from '../store/outbox.js';
import type { Sql } from '../store/db.js';
import type { NatsLink } from './nats.js';

/** Event types after which the assignee's long-poll has something to take. */
const AGENT_WAKING = new Set(['assigned', 'input_received']);
/** Event types after which an await re-reads its task (it ended, or waits for input). */
const TASK_WAKING = new Set(['completed', 'failed', 'timeout', 'cancelled', 'input_required']);
/** The subjects whose messages wake this replica (events/stream.ts): task, run and dead-letter events. */
const SUBJECTS = ['swarm.task.*.*', 'swarm.run.*.*', 'dlq.task.*'];

/** What a committed change may wake: agents (long-polls), tasks (awaits), and the event feed. */
export interface WakeSet {
  agents: Set<string>;
  tasks: Set<string>;
  events: boolean;
}

const emptyWakes = (): WakeSet => ({ agents: new Set(), tasks: new Set(), events: false });

/** The assignee named by an event envelope (JSON text), without trusting its shape. */
function assigneeOf(json: string): string | undefined {
  try {
    const a = (JSON.parse(json) as { data?: { task?: { assignee?: unknown } } }).data?.task?.assignee;
    return typeof a === 'string' ? a : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Add one event's wakes to `into`. The assignee is read from the envelope only when `wantAgents`
 * (someone could be waiting for it): parsing every event would cost more than the wake.
 */
export function addEventWakes(into: WakeSet, type: string, taskId: string, envelope: () => string, wantAgents: boolean): void {
  into.events = true;
  if (TASK_WAKING.has(type)) into.tasks.add(taskId);
  if (wantAgents && AGENT_WAKING.has(type)) {
    const a = assigneeOf(envelope());
    if (a) into.agents.add(a);
  }
}

export interface Wakes extends Component {
  /** Wake this replica's waiters (and, without NATS, the others') for events the relay published for another replica. */
  published(rows: readonly { type: string; taskId: string; envelope: string }[]): void;
}

export interface WakesDeps {
  nats: NatsLink;
  /** The pool the out-of-write notifications go on. */
  sql?: Sql;
}

export function createWakes(ctx: Pick<DispatchContext, 'signals' | 'logger' | 'waiting' | 'sql'>, deps: WakesDeps): Wakes {
  const log = ctx.logger.child({ component: 'wakes' });
  const sql = deps.sql ?? ctx.sql;
  const waiting: Waiting = ctx.waiting;
  let outgoing = emptyWakes();
  let outgoingRows = false;
  let sending = false;
  let scheduled = false;
  let stopped = true;
  let subs: Subscription[] = [];
  let subscribedOn: NatsConnection | undefined;

  function wakeHere(w: WakeSet): void {
    for (const a of w.agents) waiting.agents.wake(a);
    for (const t of w.tasks) waiting.tasks.wake(t);
    if (w.events) waiting.feed.wake();
  }

  /** Queue `w` for the other replicas (one statement per turn, outside any write). */
  function tellOthers(w: WakeSet): void {
    for (const a of w.agents) outgoing.agents.add(a);
    for (const t of w.tasks) outgoing.tasks.add(t);
    if (w.events) outgoingRows = true;
    if (scheduled || sending) return;
    scheduled = true;
    setImmediate(() => void flush());
  }

  async function flush(): Promise<void> {
    scheduled = false;
    if (sending || stopped) return;
    const w = outgoing;
    const rows = outgoingRows;
    outgoing = emptyWakes();
    outgoingRows = false;
    if (w.agents.size + w.tasks.size === 0 && !rows) return;
    sending = true;
    try {
      await notifyWakes(sql, { agents: [...w.agents], tasks: [...w.tasks], events: rows });
    } catch (err) {
      // The waiters' own timeouts and the pollers' timers are the safety net: nothing is lost.
      log.warn({ err: (err as Error).message }, 'could not notify the other replicas; they catch up on their timers');
    } finally {
      sending = false;
    }
    if (outgoing.agents.size + outgoing.tasks.size > 0 || outgoingRows) void flush();
  }

  /** This replica's hot writes: wake here; without NATS, tell the others. */
  const onCommitted = (c: CommittedEvents): void => {
    const remote = !deps.nats.enabled;
    const w = emptyWakes();
    const wantAgents = remote || waiting.agents.size > 0;
    for (const r of c.rows) addEventWakes(w, r.type, r.taskId, () => r.json, wantAgents);
    wakeHere(w);
    if (remote) tellOthers(w);
  };

  /** This replica's other writes (sweeps, cancels, drains, workflows): their events reach NATS late, so tell the others now. */
  const onChanged = (c: { agents: readonly string[]; tasks: readonly string[] }): void => {
    const w: WakeSet = { agents: new Set(c.agents), tasks: new Set(c.tasks), events: true };
    wakeHere(w);
    tellOthers(w);
  };
  const onWritten = (): void => {
    waiting.feed.wake();
    tellOthers({ agents: new Set(), tasks: new Set(), events: true });
  };

  /** Another replica's events, as NATS delivers them: the subject names the task and the type. */
  function onMessage(subject: string, data: () => string): void {
    const parts = subject.split('.');
    const type = parts[parts.length - 1]!;
    const taskId = parts.length === 4 ? parts[2]! : '';
    const w = emptyWakes();
    addEventWakes(w, type, taskId, data, waiting.agents.size > 0);
    wakeHere(w);
  }

  function subscribe(nc: NatsConnection): void {
    if (stopped || subscribedOn === nc) return; // a reconnect keeps the connection's subscriptions
    subscribedOn = nc;
    const decoder = new TextDecoder();
    subs = SUBJECTS.map((subject) =>
      nc.subscribe(subject, {
        callback: (err, msg) => {
          if (!err) onMessage(msg.subject, () => decoder.decode(msg.data));
        },
      }),
    );
  }
  deps.nats.onConnected(subscribe);

  return {
    name: 'wakes',
    published(rows) {
      const w = emptyWakes();
      for (const r of rows) addEventWakes(w, r.type, r.taskId, () => r.envelope, true);
      wakeHere(w);
    },
    async start() {
      stopped = false;
      ctx.signals.on('events-committed', onCommitted);
      ctx.signals.on('tasks-changed', onChanged);
      ctx.signals.on('events-written', onWritten);
      const nc = deps.nats.connection();
      if (nc) subscribe(nc);
    },
    async stop() {
      stopped = true;
      ctx.signals.off('events-committed', onCommitted);
      ctx.signals.off('tasks-changed', onChanged);
      ctx.signals.off('events-written', onWritten);
      for (const s of subs) s.unsubscribe();
      subs = [];
      subscribedOn = undefined;
    },
  };
}
