// The body guard refuses what Postgres cannot store (NUL, lone surrogates) and what nests too
// deep, as 400 validation_failed, before any route runs.
import { describe, expect, it } from 'vitest';
import { findBodyProblem, MAX_JSON_DEPTH } from '../src/core/json-guard.js';
import pino from 'pino';
import { buildApiServer } from '../src/http/api-server.js';
import { createMetrics } from '../src/observability/metrics.js';

const nested = (depth: number): unknown => {
  let v: unknown = 1;
  for (let k = 0; k < depth; k++) v = { a: v };
  return v;
};

describe('findBodyProblem', () => {
  it('accepts ordinary JSON, emoji and paired surrogates included', () => {
    expect(findBodyProblem({ title: 'ok 🚀', context: { list: [1, 'two', null, { x: true }] } })).toBeUndefined();
    expect(findBodyProblem(nested(MAX_JSON_DEPTH - 1))).toBeUndefined();
  });

  it('names the field with a NUL, a lone surrogate, or a key with one', () => {
    expect(findBodyProblem({ title: 'a\u0000b' })).toMatchObject({ field: 'title' });
    expect(findBodyProblem({ context: { list: ['ok', '\ud800'] } })).toMatchObject({ field: 'context.list.1' });
    expect(findBodyProblem({ context: { 'k\u0000': 1 } })?.message).toMatch(/keys/);
  });

  it('refuses nesting past the limit without recursing (100,000 levels)', () => {
    expect(findBodyProblem(nested(MAX_JSON_DEPTH + 1))?.message).toMatch(/deeper/);
    expect(findBodyProblem(nested(100_000))?.message).toMatch(/deeper/);
  });
});

describe('on the API server', () => {
  it('answers 400 validation_failed, and the contract shape for router refusals', async () => {
    const app = await buildApiServer({
      logger: pino({ level: 'silent' }),
      adminToken: 'x',
      bodyLimit: 1_048_576,
      metrics: createMetrics(),
      routes: [
        async (f) => {
          f.get('/api/v1/things/:id', async () => ({ ok: true }));
          f.post('/api/v1/things', async () => ({ ok: true }));
        },
      ],
    });
    try {
      const call = async (method: 'GET' | 'POST', url: string, body?: string) => {
        const res = await app.inject({
          method,
          url,
          headers: { 'x-agent-id': 'a', ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { payload: body } : {}),
        });
        return { status: res.statusCode, body: res.json() };
      };
      expect(await call('POST', '/api/v1/things', '{"title":"fine"}')).toEqual({ status: 200, body: { ok: true } });
      const nul = await call('POST', '/api/v1/things', '{"title":"a\\u0000b"}');
      expect(nul).toMatchObject({ status: 400, body: { code: 'validation_failed', details: [{ field: 'title' }] } });
      const deep = await call('POST', '/api/v1/things', `{"c":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
      expect(deep).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
      const nulQuery = await call('GET', '/api/v1/things/x?owner=a%00b');
      expect(nulQuery).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
      const longId = await call('GET', `/api/v1/things/${'1'.repeat(4000)}`);
      expect(longId).toMatchObject({ status: 400, body: { code: 'invalid_id', error: expect.any(String) } });
      const badUrl = await call('GET', '/api/v1/things/%E0%A4%A');
      expect(badUrl).toMatchObject({ status: 400, body: { code: 'validation_failed', error: expect.any(String) } });
    } finally {
      await app.close();
    }
  });
});
