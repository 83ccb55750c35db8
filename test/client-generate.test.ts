// The typed client is generated from openapi.yaml (packages/client/scripts/generate.ts): the
// committed sources must be what the generator makes of the committed contract today.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, generateClientSources } from '../packages/client/scripts/generate.js';
import { ADMIN_OPERATIONS } from '../packages/client/src/generated/admin-routes.js';
import { bearerFor } from '../packages/client/src/index.js';

describe('packages/client/src/generated', () => {
  it('is up to date with openapi.yaml (run `npm run client:generate` when this fails)', async () => {
    const files = await generateClientSources();
    expect(Object.keys(files).sort()).toEqual(['admin-routes.ts', 'openapi.ts']);
    // Regenerated into a temporary directory, compared file by file with the committed ones.
    const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-client-gen-'));
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(path.join(dir, name), content);
      expect(readFileSync(path.join(dir, name), 'utf8'), name).toBe(readFileSync(path.join(GENERATED_DIR, name), 'utf8'));
    }
  }, 60_000);

  it('names the shapes of openapi.yaml as types and knows which operations are admin', () => {
    const types = readFileSync(path.join(GENERATED_DIR, 'openapi.ts'), 'utf8');
    for (const name of ['Task', 'Run', 'Schedule', 'Workflow', 'Error', 'Agent', 'Event', 'Stats']) expect(types).toMatch(new RegExp(`^    ${name}: \\{`, 'm'));
    expect(ADMIN_OPERATIONS.has('GET /api/v1/stats')).toBe(true);
    expect(ADMIN_OPERATIONS.has('POST /api/v1/tasks')).toBe(false);
    expect(bearerFor({ token: 'agent', adminToken: 'admin' }, 'post', '/api/v1/agents/{id}/drain')).toBe('admin');
    expect(bearerFor({ token: 'agent', adminToken: 'admin' }, 'GET', '/api/v1/tasks')).toBe('agent');
    expect(bearerFor({ adminToken: 'admin' }, 'GET', '/api/v1/tasks')).toBe('admin');
  });
});
