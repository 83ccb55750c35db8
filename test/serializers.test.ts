// The API server builds one response serializer per distinct response schema (http/api-server.ts),
// not one per route and status as fastify's default compiler does: each fast-json-stringify build
// of a schema with a union holds an Ajv instance of its own, and a started Dispatch held ~520 of
// them (idle RSS 151 → 126 MB). The responses themselves are the API tests' business.
import { describe, expect, it } from 'vitest';
import { startApp } from './helpers/app.js';
import { serializerStats } from '../src/http/api-server.js';

describe('response serializers', () => {
  it('are built once per distinct schema and shared by the routes that answer with it', async () => {
    const before = { ...serializerStats };
    await using t = await startApp();
    const asked = serializerStats.asked - before.asked;
    const built = serializerStats.built - before.built;
    expect(asked).toBeGreaterThan(100);
    expect(built).toBeGreaterThan(0);
    expect(built).toBeLessThan(asked / 3);
    // A shared serializer still answers each route with its own schema's shape.
    const created = await t.call('POST', '/api/v1/tasks', { agent: 'r1', body: { title: 'x', capabilities: ['c'] } });
    expect(created.status).toBe(201);
    const got = await t.call('GET', `/api/v1/tasks/${created.body.id}`);
    expect(got.body).toEqual(created.body);
  });
});
