// request.log is a pino child made only when a request logs at an enabled level
// (http/request-logger.ts): a request that logs nothing makes no child; one that logs writes the
// same line fastify's own child would (its reqId, the redaction).
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApiServer } from '../src/http/api-server.js';
import { loggerOptions } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';

/** A service logger at `level` whose lines are collected, and a count of the children made of it. */
function collectingLogger(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const { transport: _none, ...opts } = loggerOptions(level, 'json');
  const logger = pino(opts, stream);
  let children = 0;
  // pino's children inherit from their parent: one wrapper counts every child of every logger
  // below this one (fastify wraps the instance in a child of its own at start: counted before).
  const child = logger.child;
  logger.child = function (this: Logger, ...args: Parameters<Logger['child']>) {
    children++;
    return child.apply(this, args);
  } as Logger['child'];
  return { logger, lines, children: () => children };
}

async function server(logger: Logger) {
  return buildApiServer({
    logger,
    adminToken: 'x',
    bodyLimit: 1_048_576,
    metrics: createMetrics(),
    routes: [
      async (f) => {
        f.get('/api/v1/quiet', async () => ({ ok: true }));
        f.get('/api/v1/chatty', async (req) => {
          req.log.info({ step: 'info' }, 'an info line');
          req.log.warn({ headers: { authorization: 'Bearer s3cret' } }, 'a warn line');
          return { ok: true };
        });
        f.get('/api/v1/broken', async () => {
          throw new Error('boom');
        });
      },
    ],
  });
}

const get = (app: Awaited<ReturnType<typeof server>>, url: string, id: string) =>
  app.inject({ method: 'GET', url, headers: { 'x-agent-id': 'a', 'x-request-id': id } });

/** A started server logging at `level`, handed to `body` with its log; closed after. */
async function withServer(level: string, body: (app: Awaited<ReturnType<typeof server>>, log: ReturnType<typeof collectingLogger>) => Promise<void>) {
  const log = collectingLogger(level);
  const app = await server(log.logger);
  try {
    await app.ready();
    await body(app, log);
  } finally {
    await app.close();
  }
}

describe('request.log', () => {
  it('makes no child for a request that logs nothing at the level the service logs', () =>
    withServer('warn', async (app, log) => {
      const before = log.children();
      for (let i = 0; i < 5; i++) expect((await get(app, '/api/v1/quiet', `q-${i}`)).statusCode).toBe(200);
      expect(log.children() - before).toBe(0);
      expect(log.lines).toEqual([]);
    }));

  it('writes what the request logs at an enabled level, with its reqId and the redaction', () =>
    withServer('warn', async (app, log) => {
      const before = log.children();
      expect((await get(app, '/api/v1/chatty', 'req-chatty')).statusCode).toBe(200);
      expect(log.children() - before).toBe(1);
      expect(log.lines).toHaveLength(1);
      expect(log.lines[0]).toMatchObject({ level: 40, msg: 'a warn line', reqId: 'req-chatty', service: 'dispatch', headers: { authorization: '[redacted]' } });

      expect((await get(app, '/api/v1/broken', 'req-broken')).statusCode).toBe(500);
      expect(log.lines.find((l) => l.reqId === 'req-broken')).toMatchObject({ level: 50, msg: 'unhandled error' });
    }));

  it('at info, writes fastify’s request lines and the route’s info line, each with its reqId', () =>
    withServer('info', async (app, log) => {
      expect((await get(app, '/api/v1/chatty', 'req-info')).statusCode).toBe(200);
      const mine = log.lines.filter((l) => l.reqId === 'req-info').map((l) => l.msg);
      expect(mine).toEqual(['incoming request', 'an info line', 'a warn line', 'request completed']);
    }));
});
