// createDispatch wires the services, background components and both servers around an open
// database. It builds no connections of its own: main.ts (or a test) passes them in.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createEvents } from './events/index.js';
import type { RelayOptions } from './events/relay.js';
import { buildApiServer } from './http/api-server.js';
import { buildOpsServer } from './http/ops-server.js';
import { apiRoutes } from './http/routes/index.js';
import { createMetrics } from './observability/metrics.js';
import { systemClock, type Clock, type Random } from './ports.js';
import { describeDatabaseWait, pingDatabase, probeHosts, type Sql } from './store/db.js';
import { Signals } from './signals.js';
import { buildAgentDirectory } from './agents/index.js';
import { AgentSlots } from './agents/slots.js';
import { RowVersions } from './store/versions.js';
import { CreateWrites, ReportWrites } from './services/group-commit.js';
import { createScheduler } from './assignment/scheduler.js';
import type { Component, DispatchContext } from './context.js';

export type { Component, DispatchContext } from './context.js';
import { createHousekeeping } from './services/housekeeping.js';
import { createRetention } from './services/retention.js';
import { loadWorkflowDir } from './services/workflows.js';
import { loadScheduleDir } from './services/schedules.js';
import { createTokenAuthenticator } from './services/tokens.js';
import type { AuthFailureLimiter } from './http/auth.js';
import { createScheduleFirer } from './schedules/firer.js';
import { createWaiting, registerWaitingMetrics } from './waiting/index.js';
import { createSender } from './callbacks/sender.js';
import { createHeartbeats } from './services/heartbeats.js';
import { sweepDeadlines } from './services/sweeps.js';
import { createExecutor } from './calls/executor.js';

export interface DispatchDeps {
  config: Config;
  sql: Sql;
  /**
   * A small pool of its own for the background components, the scheduler and the outbox relay
   * (main.ts: BACKGROUND_POOL_SIZE connections), so neither a tick nor a relay batch queues behind
   * API requests waiting for one of `sql`'s connections. Default: `sql`.
   */
  backgroundSql?: Sql;
  logger: Logger;
  clock?: Clock;
  random?: Random;
  /** The failed-authentication limiter (tests give one with a higher limit; default: 20 a minute). */
  authFailures?: AuthFailureLimiter;
  /** Relay tuning (tests: a longer fast-path grace). */
  relay?: Pick<RelayOptions, 'fastGraceMs'>;
}

export interface Dispatch extends AsyncDisposable {
  context: DispatchContext;
  api: FastifyInstance;
  ops: FastifyInstance;
  components: Component[];
  /** Listen on the configured ports (0 = any free port) and start the components. */
  start(): Promise<{ apiUrl: string; opsUrl: string }>;
  stop(): Promise<void>;
}

export async function createDispatch(deps: DispatchDeps): Promise<Dispatch> {
  // postgres.js learns the array types from the first connection of a pool; a query built before
  // that (a create's event arrays, if it is the pool's first query) would send an array as text.
  // One round trip on each pool first (bounded: an unreachable database must not stop the start).
  await Promise.all([pingDatabase(deps.sql, 1000), deps.backgroundSql ? pingDatabase(deps.backgroundSql, 1000) : undefined]);
  const metrics = createMetrics();
  const waiting = createWaiting({ sql: deps.sql, readSql: deps.backgroundSql ?? deps.sql, logger: deps.logger });
  registerWaitingMetrics(metrics.registry, waiting);
  const signals = new Signals();
  const random = deps.random ?? Math.random;
  const neighbours = buildAgentDirectory({ config: deps.config, logger: deps.logger, metrics, random, signals });
  const clock = deps.clock ?? systemClock;
  const ctx: DispatchContext = {
    config: deps.config,
    sql: deps.sql,
    logger: deps.logger,
    clock,
    random,
    metrics,
    signals,
    health: [
      {
        name: 'database',
        check: async () => ((await pingDatabase(deps.sql, 700)) ? 'ok' : 'down'),
        waitingFor: async () => describeDatabaseWait(await probeHosts(deps.sql)),
      },
    ],
    agents: neighbours.directory,
    // Views older than two safety-net ticks are not trusted for a sync match (every tick refreshes them).
    slots: new AgentSlots(2 * deps.config.assignment.tick_interval_ms),
    versions: new RowVersions(),
    reports: new ReportWrites(deps.sql),
    creates: new CreateWrites(deps.sql),
    tokens: createTokenAuthenticator({ sql: deps.sql, clock, logger: deps.logger }),
    waiting,
    heartbeats: createHeartbeats({ sql: deps.sql, clock, logger: deps.logger }),
  };
  const components: Component[] = [];
  const events = createEvents(ctx, deps.backgroundSql ?? deps.sql, deps.relay);

  // Neighbours: health from the last call's outcome (never a live call from /health).
  ctx.health.push(
    { name: 'warren', check: () => ctx.agents.health('availability') },
    { name: 'promptforge', check: () => ctx.agents.health('capabilities') },
    { name: 'alexandria', check: () => ctx.agents.health('ownership') },
  );
  components.push(
    { name: 'neighbour-clients', start: async () => {}, stop: () => neighbours.close() },
    ctx.tokens,
    createScheduler(ctx, ctx.agents, (sql, log) => sweepDeadlines({ ...ctx, sql, log }), deps.backgroundSql ?? deps.sql),
    createHousekeeping(ctx),
    createRetention(ctx),
    createScheduleFirer(ctx, deps.backgroundSql ?? deps.sql),
    waiting,
    // The API pool: callbacks follow the request load, and never queue behind a scheduler tick.
    createSender(ctx),
    // Call tasks and endpoint pushes (§18): the API pool, as the callbacks (their writes are reports).
    createExecutor(ctx),
    ctx.heartbeats,
  );
  if (ctx.config.schedules.dir) {
    const dir = ctx.config.schedules.dir;
    components.unshift({ name: 'schedule-files', start: async () => void (await loadScheduleDir(ctx, dir)), stop: async () => {} });
  }
  // Before the schedule files: a schedule may start runs of a workflow from workflows.dir.
  if (ctx.config.workflows.dir) {
    const dir = ctx.config.workflows.dir;
    components.unshift({ name: 'workflow-definitions', start: async () => void (await loadWorkflowDir(ctx, dir)), stop: async () => {} });
  }

  const api = await buildApiServer({
    logger: ctx.logger,
    adminToken: ctx.config.server.admin_token,
    auth: { mode: ctx.config.auth.mode, tokens: ctx.tokens, ...(deps.authFailures ? { failures: deps.authFailures } : {}) },
    bodyLimit: ctx.config.server.body_limit_bytes,
    metrics: ctx.metrics,
    routes: apiRoutes(ctx),
  });
  const ops = await buildOpsServer({
    logger: ctx.logger,
    metrics: ctx.metrics,
    checks: ctx.health,
    beforeScrape: () => events.gauges.refresh(),
  });
  components.push(...events.components);

  if (ctx.config.auth.mode === 'token') ctx.logger.info('auth.mode=token: every /api/v1 request needs a bearer token');
  if (!ctx.config.server.admin_token) {
    ctx.logger.warn('no server.admin_token configured: admin routes answer 401 admin_disabled');
  }

  let started = false;
  const dispatch: Dispatch = {
    context: ctx,
    api,
    ops,
    components,
    async start() {
      const host = ctx.config.server.host;
      const apiUrl = await api.listen({ port: ctx.config.server.port, host });
      const opsUrl = await ops.listen({ port: ctx.config.server.metrics_port, host });
      try {
        for (const c of components) await c.start();
      } catch (err) {
        // A part that cannot start (a bad workflow definition) leaves nothing running behind it.
        await dispatch.stop();
        throw err;
      }
      started = true;
      ctx.logger.info({ apiUrl, opsUrl }, 'dispatch started');
      return { apiUrl, opsUrl };
    },
    async stop() {
      // Stop taking requests first (in-flight ones finish), then the loops. Held long-polls,
      // awaits and SSE streams are answered/ended first, or closing would wait for them.
      await waiting.release();
      await api.close();
      // All at once: each stop is bounded (STOP_WAIT_MS) and none needs another to be running
      // (an unfinished relay batch is republished by the next leader, deduplicated by Nats-Msg-Id),
      // so a shutdown with the database unreachable takes one bound, not one per component.
      await Promise.all(
        [...components].reverse().map((c) => c.stop().catch((err) => ctx.logger.error({ err, component: c.name }, 'component failed to stop'))),
      );
      await ops.close();
      if (started) ctx.logger.info('dispatch stopped');
      started = false;
    },
    async [Symbol.asyncDispose]() {
      await dispatch.stop();
    },
  };
  return dispatch;
}
