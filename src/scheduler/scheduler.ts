// The scheduler: sweeps deadlines and assigns pending tasks.
//
// Concurrency model: one tick at a time per replica; reads without locks; every write is a
// compare-and-set in one short transaction, with its events in the same transaction. The
// per-agent limit is re-checked inside the assignment transaction while the agent's row is
// locked, so any number of replicas on one database never exceed max_concurrent_per_agent.
// Replicas wake each other through Postgres NOTIFY `dispatch_assign` (fired by a trigger when a
// task becomes pending or leaves assigned/running); the tick interval is only a safety net.
import type { Logger } from 'pino';
import type { Component, DispatchContext } from '../context.js';
import type { AgentDirectory } from '../agents/directory.js';
import type { Sql } from '../store/db.js';
import { STOP_WAIT_MS, waitAtMost } from '../wait.js';
import { Assigner, MAX_PAGES_PER_TICK } from './assign.js';
import { sweepDeadlines } from './sweeps.js';
import { emptyTick, since, type TickResult } from './tick.js';

/**
 * Ticks started by a notification or signal sweep deadlines only if the last sweep is at least
 * this old (the tick_interval_ms timer always sweeps): under a stream of creates most ticks then
 * go straight to assignment. Deadline precision stays within this gap.
 */
export const SWEEP_MIN_GAP_MS = 100;

export type { TickPhases, TickResult } from './tick.js';
export { MAX_PAGES_PER_TICK } from './assign.js';

export class Scheduler implements Component {
  readonly name = 'scheduler';
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** performance.now() of the last sweep (monotonic: scheduling, not business time). */
  private lastSweepAt = -Infinity;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private unlisten: (() => Promise<void>) | undefined;
  private listenWarned = false;
  private readonly assigner: Assigner;
  /**
   * Whether the last tick left due tasks unassigned (or did not see the whole queue): only then
   * is a freed slot worth a tick. A task that becomes pending always pokes.
   */
  private backlog = true;
  private readonly onAssignNeeded = (reason?: 'freed') => this.poke(reason);
  /** Kept while the loop is stopped too: a state change must reach the directory either way. */
  private readonly onAgentState = ({ agent, state }: { agent: string; state: string }) => {
    this.directory.applyState(agent, state);
    this.poke();
  };

  /**
   * `sql`: the pool the scheduler's own statements use (a dedicated small pool in production, so
   * ticks do not wait behind API requests for a connection; the shared pool by default).
   */
  constructor(private readonly ctx: DispatchContext, private readonly directory: AgentDirectory, private readonly sql: Sql = ctx.sql) {
    this.log = ctx.logger.child({ component: 'scheduler' });
    this.assigner = new Assigner({ ...ctx, sql, log: this.log, directory });
  }

  async start(): Promise<void> {
    this.stopped = false;
    if (!this.directory.hasAgentSource) {
      this.log.warn('no agents: the roster (agents:) is empty and no PromptForge/Warren/Alexandria URL is set; tasks wait, only deadlines are swept');
    }
    this.directory.start();
    await this.listen();
    this.ctx.signals.off('assign-needed', this.onAssignNeeded).on('assign-needed', this.onAssignNeeded);
    this.ctx.signals.off('agent-state', this.onAgentState).on('agent-state', this.onAgentState);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    // Shutdown waits for a tick in flight, but not forever: with the database unreachable a tick
    // (or the UNLISTEN) can wait on connection attempts, and nothing it left undone is lost.
    await waitAtMost(this.stopLoop(), STOP_WAIT_MS);
    this.ctx.signals.off('agent-state', this.onAgentState);
    this.directory.stop();
  }

  /**
   * Stop ticking on timers, notifications and signals, keeping the directory's background
   * refresh: runOnce() still works (tests drive ticks by hand this way).
   */
  async stopLoop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.ctx.signals.off('assign-needed', this.onAssignNeeded);
    await this.unlisten?.().catch(() => {});
    this.unlisten = undefined;
    await this.running;
  }

  /**
   * LISTEN dispatch_assign (postgres.js re-listens by itself after a reconnect). If the database
   * is unreachable at start, the service still starts; every tick tries again.
   */
  private async listen(): Promise<void> {
    if (this.unlisten || this.stopped) return;
    try {
      const sub = await this.ctx.sql.listen('dispatch_assign', (payload) => this.poke(payload === 'freed' ? 'freed' : undefined));
      this.unlisten = () => sub.unlisten();
    } catch (err) {
      if (this.listenWarned) return;
      this.listenWarned = true;
      this.log.warn({ err: (err as Error).message }, 'cannot LISTEN dispatch_assign yet; relying on the tick until the database is back');
    }
  }

  /**
   * Ask for a tick now. Coalesced, never delayed: pokes within one turn of the event loop fold
   * into one tick started on setImmediate (no sleep first); pokes while a tick runs fold into
   * exactly one more tick right after it. A 'freed' poke (a slot freed, no task became pending)
   * starts a tick only while tasks wait (`backlog`); during a tick it always folds into one more,
   * since that tick may have counted the slot as taken.
   */
  poke(reason?: 'freed'): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (reason === 'freed' && !this.backlog) return;
    if (!this.immediate) this.immediate = setImmediate(() => this.loop(false));
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.stopped) this.timer = setTimeout(() => this.loop(true), ms);
  }

  /** `timer`: started by the safety-net timer (always sweeps) rather than a poke. */
  private loop(timer: boolean): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    if (this.running || this.stopped) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      let first = true;
      do {
        this.again = false;
        try {
          await this.listen();
          const sweep = (first && timer) || performance.now() - this.lastSweepAt >= SWEEP_MIN_GAP_MS;
          first = false;
          const r = await this.runOnce({ sweep });
          // A full tick that assigned something may leave more to do: go again at once.
          if (r.considered >= this.ctx.config.assignment.batch_size * MAX_PAGES_PER_TICK && r.assigned.length > 0) this.again = true;
        } catch (err) {
          this.log.error({ err }, 'scheduler tick failed');
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
      this.schedule(this.ctx.config.assignment.tick_interval_ms);
    });
  }

  /**
   * One tick: sweep deadlines (unless `sweep: false`), then read → plan → write assignments for a
   * bounded batch.
   */
  async runOnce(opts: { sweep?: boolean } = {}): Promise<TickResult> {
    const endTimer = this.ctx.metrics.tickDuration.startTimer();
    try {
      const result = emptyTick();
      if (opts.sweep ?? true) {
        const t0 = performance.now();
        this.lastSweepAt = t0;
        await sweepDeadlines({ ...this.ctx, sql: this.sql, log: this.log }, result);
        result.phases.sweep = since(t0);
      }
      const backlog = await this.assigner.run(result);
      if (this.directory.hasAgentSource) this.backlog = backlog;
      return result;
    } finally {
      endTimer();
    }
  }

}
