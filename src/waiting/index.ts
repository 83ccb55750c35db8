// Held requests without NATS (CONTRACT §12 "Delivery without NATS"; docs/waiting.md): the waiters' registries (long-polls by agent id,
// awaits by task id), the event feed behind the SSE streams, and the open streams — one of each
// per replica. One loop shell carries the three LISTEN channels on the pool's single listen
// connection: dispatch_assigned (payload: agent id), dispatch_task_ended (task id), and
// dispatch_events (the outbox trigger), and runs the feed's reads.
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Component } from '../component.js';
import type { Sql } from '../store/db.js';
import { STOP_WAIT_MS } from '../loop.js';
import { EventFeed } from './feed.js';
import { WaiterSet } from './waiters.js';

export { EventFeed, type FeedRow, type FeedSubscriber } from './feed.js';
export { Waiter, WaiterSet, type WakeReason } from './waiters.js';

/** An open SSE stream, as the registry knows it: ended at once at shutdown. */
export interface OpenStream {
  end(): void;
}

export interface Waiting extends Component {
  /** Long-polls waiting for an assignment, by agent id. */
  agents: WaiterSet;
  /** Awaits waiting for a task to end, by task id. */
  tasks: WaiterSet;
  feed: EventFeed;
  streams: Set<OpenStream>;
  /**
   * Answer every held request and end every stream now (before the API server closes); resolves
   * when none is held any more (at most STOP_WAIT_MS). Their responses carry Connection: close.
   */
  release(): Promise<void>;
  /** True from release() until the next start(). */
  readonly closing: boolean;
  readonly loop: EventFeed['loop'];
}

export interface WaitingDeps {
  /** The request pool: its listen connection carries the channels. */
  sql: Sql;
  /** The pool the feed reads on. */
  readSql: Sql;
  logger: Logger;
}

export function createWaiting(deps: WaitingDeps): Waiting {
  const log = deps.logger.child({ component: 'waiting' });
  const agents = new WaiterSet();
  const tasks = new WaiterSet();
  const streams = new Set<OpenStream>();
  const feed = new EventFeed({
    sql: deps.readSql,
    listenSql: deps.sql,
    log,
    listen: [
      { sql: deps.sql, channel: 'dispatch_assigned', onNotify: (agent) => void agents.wake(agent), onListen: () => agents.wakeAll() },
      { sql: deps.sql, channel: 'dispatch_task_ended', onNotify: (id) => void tasks.wake(id), onListen: () => tasks.wakeAll() },
    ],
  });
  const release = async () => {
    agents.close();
    tasks.close();
    for (const s of [...streams]) s.end();
    const until = performance.now() + STOP_WAIT_MS;
    // The answers are on their way (an await re-reads its task first): poll in-process counts only.
    while (agents.size + tasks.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  };
  return {
    name: 'waiting',
    agents,
    tasks,
    feed,
    streams,
    loop: feed.loop,
    release,
    get closing() {
      return tasks.closed;
    },
    async start() {
      agents.open();
      tasks.open();
      feed.loop.start();
    },
    async stop() {
      await release();
      await feed.stop();
    },
  };
}

/** dispatch_held_requests{kind}: long-polls and awaits held now, and open SSE streams, on this replica. */
export function registerWaitingMetrics(registry: Registry, waiting: Waiting): void {
  new Gauge({
    name: 'dispatch_held_requests',
    help: 'Requests held by this replica: assignments (long-polls), tasks (awaits), streams (SSE)',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.set({ kind: 'assignments' }, waiting.agents.size);
      this.set({ kind: 'tasks' }, waiting.tasks.size);
      this.set({ kind: 'streams' }, waiting.streams.size);
    },
  });
}
