// The API server builds one response serializer per distinct response schema (http/api-server.ts),
// not one per route and status as fastify's default compiler does: each fast-json-stringify build
// of a schema with a union holds an Ajv instance of its own, and a started Dispatch held ~520 of
// them (idle RSS 151 → 126 MB). The responses themselves are the API tests' business.
import { describe, expect, it } from 'vitest';
import fastJsonStringify from 'fast-json-stringify';
import { startApp } from './helpers/app.js';
import { assignedTask } from './helpers/tasks-api.js';
import { serializerStats } from '../src/http/api-server.js';
import { buildSerializer, nullableUnions } from '../src/http/serializers.js';
import { TaskSchema } from '../src/schemas/task.js';

/** Every anyOf/oneOf in a schema that is a typed schema or null (what nullableUnions rewrites). */
function nullableUnionCount(schema: unknown): number {
  if (Array.isArray(schema)) return schema.reduce((n: number, s) => n + nullableUnionCount(s), 0);
  if (typeof schema !== 'object' || schema === null) return 0;
  const alts = (schema as { anyOf?: unknown[] }).anyOf;
  const here = Array.isArray(alts) && alts.length === 2 && alts.some((a) => (a as { type?: string }).type === 'null') ? 1 : 0;
  return here + Object.values(schema).reduce((n: number, s) => n + nullableUnionCount(s), 0);
}

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

describe('nullable unions in response serializers', () => {
  it('are rewritten as nullable types, and the JSON written is the same as through anyOf', async () => {
    expect(nullableUnionCount(TaskSchema)).toBeGreaterThan(10);
    expect(nullableUnionCount(nullableUnions(TaskSchema))).toBeLessThan(nullableUnionCount(TaskSchema) / 4);
    const plain = fastJsonStringify(TaskSchema as never) as (d: unknown) => string;
    const ours = buildSerializer(TaskSchema);

    await using t = await startApp();
    const tasks: Record<string, unknown>[] = [];
    const created = await t.call('POST', '/api/v1/tasks', { agent: 'r1', body: { title: 'plain', capabilities: ['c'], context: { k: [1, 'two', null] } } });
    tasks.push(created.body);
    const running = await assignedTask(t.sql, 'w1', { title: 'running "quoted" \\ text' });
    tasks.push((await t.call('POST', `/api/v1/tasks/${running.id}/progress`, { agent: 'w1', body: { message: 'half', percent: 50, data: { a: 1 } } })).body);
    const done = await assignedTask(t.sql, 'w1');
    tasks.push((await t.call('POST', `/api/v1/tasks/${done.id}/complete`, { agent: 'w1', body: { result: { ok: true, list: [1, { x: null }] } } })).body);
    const failed = await assignedTask(t.sql, 'w1');
    tasks.push((await t.call('POST', `/api/v1/tasks/${failed.id}/fail`, { agent: 'w1', body: { error: 'boom', retryable: false } })).body);
    for (const task of tasks) {
      expect(task.id).toBeTypeOf('string');
      expect(ours(task)).toBe(plain(task));
      expect(JSON.parse(ours(task))).toEqual(task);
      // Dates as the services hold them (not yet strings) are written the same way too.
      const withDates = {
        ...task,
        created_at: new Date(task.created_at as string),
        completed_at: task.completed_at ? new Date(task.completed_at as string) : null,
      };
      expect(ours(withDates)).toBe(plain(withDates));
    }
  });

  it('leave other unions alone', () => {
    const mixed = { anyOf: [{ type: 'string' }, { type: 'number' }] };
    const nested = { anyOf: [{ anyOf: [{ type: 'string' }, { type: 'number' }] }, { type: 'null' }] };
    expect(nullableUnions(mixed)).toEqual(mixed);
    expect(nullableUnions(nested)).toEqual(nested);
    expect(nullableUnions({ anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }], description: 'd' })).toEqual({
      type: ['string', 'null'],
      format: 'date-time',
      description: 'd',
    });
    expect(nullableUnions({ anyOf: [{ type: 'null' }, { type: 'object', properties: {} }] })).toEqual({ type: 'object', properties: {}, nullable: true });
  });
});
