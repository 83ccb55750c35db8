// The ops server on server.metrics_port: /health and /metrics for Prometheus and orchestrators.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { HealthCheck, HealthState } from '../ports.js';
import type { Metrics } from '../observability/metrics.js';
import { installErrorHandling } from './errors.js';

export interface OpsServerOptions {
  logger: Logger;
  metrics: Metrics;
  /** `database` decides up/down; every other check can only degrade. */
  checks: HealthCheck[];
  /** Called before each scrape to refresh gauges that are cheap to read on demand. */
  beforeScrape?: () => Promise<void>;
}

const CHECK_TIMEOUT_MS = 800;

async function runCheck(c: HealthCheck): Promise<HealthState> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve(c.check()),
      new Promise<HealthState>((resolve) => {
        timer = setTimeout(() => resolve('down'), CHECK_TIMEOUT_MS);
      }),
    ]);
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** A check's `waitingFor`, bounded like the check; undefined when it has none, fails or is slow. */
async function runWaiting(c: HealthCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve(c.waitingFor?.()),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), CHECK_TIMEOUT_MS);
      }),
    ]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

export async function healthReport(checks: HealthCheck[]) {
  const results = await Promise.all(checks.map(async (c) => [c.name, await runCheck(c)] as const));
  const out: Record<string, HealthState> = Object.fromEntries(results);
  const dbDown = out.database !== 'ok';
  const degraded = results.some(([name, s]) => name !== 'database' && (s === 'down' || s === 'degraded'));
  const status = dbDown ? 'down' : degraded ? 'degraded' : 'ok';
  // What the checks that are not ok wait for (e.g. which database host is down, which is still a
  // standby): asked only then, since it may cost a probe.
  const waiting = await Promise.all(
    checks.filter((c) => c.waitingFor && (out[c.name] === 'down' || out[c.name] === 'degraded')).map(async (c) => [c.name, await runWaiting(c)] as const),
  );
  const waitingFor = Object.fromEntries(waiting.filter((w): w is readonly [string, string] => w[1] !== undefined));
  return { status, checks: out, ...(Object.keys(waitingFor).length > 0 ? { waiting_for: waitingFor } : {}) } as const;
}

export async function buildOpsServer(opts: OpsServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: opts.logger.child({ component: 'ops' }, { level: 'warn' }) as FastifyBaseLogger });
  installErrorHandling(app);
  app.get('/health', async (_req, reply) => {
    const report = await healthReport(opts.checks);
    return reply.code(report.status === 'down' ? 503 : 200).send(report);
  });
  app.get('/metrics', async (_req, reply) => {
    if (opts.beforeScrape) await opts.beforeScrape().catch(() => {});
    return reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });
  return app;
}
