// openapi.yaml is generated from the route schemas (npm run openapi), committed, served, and
// linted with a real OpenAPI linter (@redocly/cli).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as yaml from 'js-yaml';
import { OPENAPI_FILE, renderOpenapi } from '../scripts/openapi.js';
import { startApp, type TestApp } from './helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(async () => t?.stop());

const committed = () => readFileSync(OPENAPI_FILE, 'utf8');

describe('openapi.yaml', () => {
  it('is up to date with the route schemas (run `npm run openapi` when this fails)', async () => {
    expect(await renderOpenapi()).toBe(committed());
  });

  it('is what the server publishes at /openapi.json and /openapi.yaml', async () => {
    const json = await t.call('GET', '/openapi.json', { agent: null });
    expect(json.status).toBe(200);
    expect(json.body).toEqual(yaml.load(committed()));
    const y = await t.call('GET', '/openapi.yaml', { agent: null });
    expect(y.status).toBe(200);
    expect(y.body).toBe(committed());
  });

  it('describes every task route with security and every status it can answer', () => {
    const doc = yaml.load(committed()) as { paths: Record<string, Record<string, any>> };
    const expected: Record<string, Record<string, number[]>> = {
      '/api/v1/tasks': { post: [200, 201, 400, 401, 409, 413, 415, 429, 500, 503], get: [200, 400, 401, 429, 500, 503] },
      '/api/v1/tasks/{id}': { get: [200, 400, 401, 404, 429, 500, 503], patch: [200, 400, 401, 403, 404, 409, 413, 415, 429, 500, 503] },
      '/api/v1/tasks/{id}/complete': { post: [200, 400, 401, 403, 404, 409, 413, 415, 429, 500, 503] },
      '/api/v1/tasks/{id}/fail': { post: [200, 400, 401, 403, 404, 409, 413, 415, 429, 500, 503] },
      '/api/v1/tasks/{id}/progress': { post: [200, 400, 401, 403, 404, 409, 413, 415, 429, 500, 503] },
      '/api/v1/tasks/{id}/events': { get: [200, 400, 401, 404, 429, 500, 503] },
    };
    for (const [path, methods] of Object.entries(expected)) {
      for (const [method, statuses] of Object.entries(methods)) {
        const op = doc.paths[path]?.[method];
        expect(op, `${method} ${path}`).toBeDefined();
        expect(op.security).toEqual([{ agentId: [] }]);
        expect(op.operationId).toEqual(expect.any(String));
        expect(
          Object.keys(op.responses)
            .map(Number)
            .sort((a, b) => a - b),
        ).toEqual(statuses);
      }
    }
    const create = doc.paths['/api/v1/tasks']!.post;
    expect(create.responses['201'].headers.Location).toBeDefined();
    expect(create.responses['429'].headers['Retry-After']).toBeDefined();
    expect(create.parameters.map((p: { name: string }) => p.name)).toContain('idempotency-key');
  });

  it('names its shapes once in components.schemas and refers to them (CONTRACT §22), under 300 KB', () => {
    const text = committed();
    expect(Buffer.byteLength(text)).toBeLessThan(300 * 1024);
    const doc = yaml.load(text) as { components: { schemas: Record<string, unknown> }; paths: Record<string, Record<string, any>> };
    for (const name of ['Task', 'Run', 'Schedule', 'Workflow', 'Error', 'Agent', 'Event', 'Stats', 'CreateTaskRequest']) {
      expect(doc.components.schemas[name], name).toBeDefined();
    }
    const create = doc.paths['/api/v1/tasks']!.post;
    expect(create.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/CreateTaskRequest' });
    expect(create.responses['201'].content['application/json'].schema.$ref).toBe('#/components/schemas/Task');
    expect(create.responses['400'].content['application/json'].schema.$ref).toBe('#/components/schemas/Error');
    // Every $ref resolves.
    for (const [, name] of text.matchAll(/\$ref: '#\/components\/schemas\/([^']+)'/g)) expect(doc.components.schemas[name!], name).toBeDefined();
    expect(text).not.toContain('x-component');
  });

  it('lints clean with @redocly/cli (no errors)', () => {
    const redocly = fileURLToPath(new URL('../node_modules/.bin/redocly', import.meta.url));
    const run = spawnSync(redocly, ['lint', OPENAPI_FILE, '--format=json'], { encoding: 'utf8', timeout: 120_000 });
    const report = JSON.parse(run.stdout) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; message: string }> };
    expect(report.totals.errors, JSON.stringify(report.problems)).toBe(0);
    expect(run.status).toBe(0);
  });
});
