// The scheduler: sweeps deadlines and assigns pending tasks.
//
// Concurrency model: one tick at a time per replica; reads without locks; every write is a
// compare-and-set in one short transaction, with its events in the same transaction. The
// per-agent limit is re-checked inside the assignment transaction while the agent's row is
// locked, so any number of replicas on one database never exceed max_concurrent_per_agent.
// A replica's scheduler is woken by its own replica's writes (the 'assign-needed' signal the
// services emit after a task became pending or freed a slot), never by a NOTIFY inside a write
// (migrations/0020); another replica's work is that replica's to assign, and the tick interval is
// the safety net (a replica that stopped mid-way, rows written by hand).
import type { Logger } from 'pino';
import type { Component, DispatchContext } from '../context.js';
import type { AgentDirectory } from '../agents/directory.js';
import type { Sql } from '../store/db.js';
import { Loop, type Trigger } from '../loop.js';
import { Assigner, MAX_PAGES_PER_TICK } from './assign.js';
import { emptyTick, since, type SweepCounts, type TickResult } from './tick.js';

/**
 * Ticks started by a notification or signal sweep deadlines only if the last sweep is at least
 * this old (the tick_interval_ms timer always sweeps): under a stream of creates most ticks then
 * go straight to assignment. Deadline precision stays within this gap.
 */
export const SWEEP_MIN_GAP_MS = 100;

export type { TickPhases, TickResult } from './tick.js';
export { MAX_PAGES_PER_TICK } from './assign.js';

export interface Scheduler extends Component {
  /**
   * The loop shell around runOnce(): the tick_interval_ms timer (a safety net) and the
   * 'assign-needed' signal. Tests await its 'run' signals.
   */
  readonly loop: Loop<TickResult>;
  /**
   * Stop ticking on timers, notifications and signals, keeping the directory's background
   * refresh: runOnce() still works (tests drive ticks by hand this way).
   */
  stopLoop(): Promise<void>;
  /**
   * Ask for a tick now; the loop shell coalesces (see loop.ts). A 'freed' poke (a slot freed, no
   * task became pending) starts a tick only while tasks wait (`backlog`); during a tick it always
   * folds into one more, since that tick may have counted the slot as taken.
   */
  poke(reason?: 'freed'): void;
  /**
   * One tick: sweep deadlines (unless `sweep: false`), then read → plan → write assignments for a
   * bounded batch (a lean one with `lean: true`: assign/RunOptions; the loop's pokes run lean ticks).
   */
  runOnce(opts?: { sweep?: boolean; lean?: boolean }): Promise<TickResult>;
}

/**
 * `sweep`: the deadline sweeps (services/sweeps.ts sweepDeadlines, wired by app.ts), on the
 * scheduler's pool and log. `sql`: the pool the scheduler's own statements use (a dedicated small
 * pool in production, so ticks do not wait behind API requests for a connection).
 */
export function createScheduler(
  ctx: DispatchContext,
  directory: AgentDirectory,
  sweep: (sql: Sql, log: Logger) => Promise<SweepCounts>,
  sql: Sql = ctx.sql,
): Scheduler {
  const log = ctx.logger.child({ component: 'scheduler' });
  const assigner = new Assigner({ ...ctx, sql, log, directory });
  const a = ctx.config.assignment;
  /** performance.now() of the last sweep (monotonic: scheduling, not business time). */
  let lastSweepAt = -Infinity;
  /**
   * Whether the last tick left due tasks unassigned (or did not see the whole queue): only then
   * is a freed slot worth a tick. A task that becomes pending always pokes.
   */
  let backlog = true;

  const poke = (reason?: 'freed'): void => loop.poke(reason === 'freed' ? { when: () => backlog } : {});
  /** Kept while the loop is stopped too: a state change must reach the directory either way. */
  const onAgentState = ({ agent, state }: { agent: string; state: string }) => {
    directory.applyState(agent, state);
    ctx.slots.stateChanged(agent, state);
    poke();
  };
  /** The timer (and the first tick) always sweep; pokes only if the last sweep is old enough. */
  const sweepDue = (trigger: Trigger): boolean => trigger === 'start' || trigger === 'timer' || performance.now() - lastSweepAt >= SWEEP_MIN_GAP_MS;

  async function runOnce(opts: { sweep?: boolean; lean?: boolean } = {}): Promise<TickResult> {
    const endTimer = ctx.metrics.tickDuration.startTimer();
    try {
      const result = emptyTick();
      if (opts.sweep ?? true) {
        const t0 = performance.now();
        lastSweepAt = t0;
        Object.assign(result, await sweep(sql, log));
        result.phases.sweep = since(t0);
      }
      const more = await assigner.run(result, { lean: opts.lean });
      if (directory.hasAgentSource) backlog = more;
      return result;
    } finally {
      endTimer();
    }
  }

  const loop: Loop<TickResult> = new Loop<TickResult>({
    name: 'scheduler',
    log,
    everyMs: a.tick_interval_ms,
    runAtStart: true,
    // The timer and the start run full ticks; pokes (and their follow-ups) lean ones (assign.ts RunOptions).
    runOnce: (trigger) => runOnce({ sweep: sweepDue(trigger), lean: trigger === 'poke' || trigger === 'again' }),
    // A full tick that assigned something may leave more to do: go again at once.
    again: (r) => r.considered >= a.batch_size * MAX_PAGES_PER_TICK && r.assigned.length > 0,
    // A held flow key frees by itself at its next token or the end of its pause (data in
    // flow_keys, read each tick): tick then rather than at the next interval.
    delayAfter: (r) => (r.flowWakeAt === null ? a.tick_interval_ms : Math.max(1, Math.min(a.tick_interval_ms, r.flowWakeAt - ctx.clock.now().getTime()))),
    signals: { emitter: ctx.signals, on: { 'assign-needed': (reason) => poke(reason) } },
    onError: (err) => log.error({ err }, 'scheduler tick failed'),
  });

  return {
    name: 'scheduler',
    loop,
    poke,
    runOnce,
    async start() {
      if (!directory.hasAgentSource) {
        log.warn('no agents: the roster (agents:) is empty and no PromptForge/Warren/Alexandria URL is set; tasks wait, only deadlines are swept');
      }
      directory.start();
      ctx.signals.off('agent-state', onAgentState).on('agent-state', onAgentState);
      loop.start();
    },
    async stop() {
      await loop.stop();
      ctx.signals.off('agent-state', onAgentState);
      directory.stop();
    },
    stopLoop: () => loop.stop(),
  };
}
