// The NATS connection (Hermes): connects in the background, reconnects forever, and tells
// /health and the relay whether it is usable. Start never blocks on NATS: the service accepts and
// assigns work while NATS is down; events wait in the outbox.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { HealthState } from '../ports.js';

export type NatsState = 'ok' | 'down' | 'disabled';

/** Delay between first-connect attempts while NATS is unreachable at start. */
const FIRST_CONNECT_RETRY_MS = 1000;
/** Delay between reconnect attempts once connected (the client retries forever). */
const RECONNECT_WAIT_MS = 500;

/**
 * hermes.url's servers: one URL, or several separated by commas (the servers of a cluster). The
 * client tries them in turn, reconnects to any of them, and also learns the cluster's other
 * servers from the one it reaches.
 */
export function natsServers(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export interface NatsLinkOptions {
  url: string;
  logger: Logger;
  name?: string;
}

/**
 * One NATS connection per replica, shared by the relay and the consumers. `onConnected`
 * listeners run on the first connect and after each reconnect (e.g. to re-check the stream).
 */
export class NatsLink {
  private nc: NatsConnection | undefined;
  private connected = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly listeners: Array<(nc: NatsConnection) => void> = [];
  private readonly log: Logger;

  constructor(private readonly opts: NatsLinkOptions) {
    this.log = opts.logger.child({ component: 'nats' });
  }

  get enabled(): boolean {
    return this.opts.url !== '';
  }

  state(): NatsState {
    if (!this.enabled) return 'disabled';
    return this.connected && this.nc && !this.nc.isClosed() ? 'ok' : 'down';
  }

  health(): HealthState {
    return this.state();
  }

  /** /health's `waiting_for` while down: which servers it is trying (passwords left out). */
  waitingFor(): string | undefined {
    if (this.state() !== 'down') return undefined;
    const servers = natsServers(this.opts.url).map((s) => s.replace(/\/\/[^@/]*@/, '//'));
    return `a connection to ${servers.length > 1 ? `any of ${servers.join(', ')}` : servers[0]} (events wait in the outbox)`;
  }

  /** The connection while it is up, else undefined. */
  connection(): NatsConnection | undefined {
    return this.state() === 'ok' ? this.nc : undefined;
  }

  /** Run `fn` on every (re)connect; immediately too if connected now. */
  onConnected(fn: (nc: NatsConnection) => void): void {
    this.listeners.push(fn);
    const nc = this.connection();
    if (nc) fn(nc);
  }

  start(): void {
    if (!this.enabled) {
      this.log.info('no hermes.url configured: lifecycle events are recorded in the database only, not published');
      return;
    }
    this.stopped = false;
    void this.tryConnect(true);
  }

  private async tryConnect(first: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      const nc = await connect({
        servers: natsServers(this.opts.url),
        name: this.opts.name ?? 'dispatch',
        maxReconnectAttempts: -1,
        reconnectTimeWait: RECONNECT_WAIT_MS,
        timeout: 2000,
        pingInterval: 5000,
        maxPingOut: 2,
        // No Error (with its stack) created up front for every request: in a CPU profile of the
        // benchmark at 200 tasks/s, those constructors took ~3.5 % of the process' time.
        noAsyncTraces: true,
        // The replica's own publishes are not delivered back to its subscriptions (events/wakes.ts
        // wakes its own waiters in-process; nothing else here subscribes to what it publishes).
        noEcho: true,
      });
      if (this.stopped) {
        await nc.close().catch(() => {});
        return;
      }
      this.nc = nc;
      this.connected = true;
      this.log.info({ server: nc.getServer() }, 'connected to NATS');
      void this.watch(nc);
      this.fire(nc);
    } catch (err) {
      if (first) this.log.warn({ err: (err as Error).message }, 'NATS unreachable; events wait in the outbox; retrying');
      this.retryTimer = setTimeout(() => void this.tryConnect(false), FIRST_CONNECT_RETRY_MS);
    }
  }

  private fire(nc: NatsConnection): void {
    for (const fn of this.listeners) {
      try {
        fn(nc);
      } catch (err) {
        this.log.error({ err }, 'NATS connect listener failed');
      }
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        if (this.connected) this.log.warn('disconnected from NATS; reconnecting');
        this.connected = false;
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.log.info('reconnected to NATS');
        this.fire(nc);
      }
    }
    // The iterator ends when the connection closes (stop(), or a fatal error).
    this.connected = false;
    if (!this.stopped) {
      this.log.error('NATS connection closed; connecting again');
      this.retryTimer = setTimeout(() => void this.tryConnect(false), FIRST_CONNECT_RETRY_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const nc = this.nc;
    this.nc = undefined;
    this.connected = false;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close().catch(() => {}));
  }
}
