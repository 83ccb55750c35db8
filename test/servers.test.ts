import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { request } from 'undici';
import { createDispatch } from '../src/app.js';
import { connect } from '../src/store/db.js';
import { freePort } from '../src/store/embedded.js';
import { callApi, startApp, testConfig } from './helpers/app.js';

describe('servers', () => {
  it('answers identity on the API port and health and metrics on the ops port', async () => {
    await using t = await startApp();
    const root = await t.call('GET', '/', { agent: null });
    expect(root.status).toBe(200);
    expect(root.body).toEqual({ service: 'dispatch', version: expect.any(String) });
    const health = await request(`${t.opsUrl}/health`);
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toMatchObject({ status: 'ok', checks: { database: 'ok' } });
    const metrics = await request(`${t.opsUrl}/metrics`);
    expect(metrics.statusCode).toBe(200);
    const text = await metrics.body.text();
    expect(text).toContain('dispatch_tasks_created_total');
    expect(text).toContain('dispatch_events_unpublished');
  });

  it('gives unknown routes and missing agent ids the contract error shape', async () => {
    await using t = await startApp();
    const missing = await t.call('GET', '/api/v1/nothing-here', { agent: null });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: expect.any(String), code: 'missing_agent_id' });
    const spaced = await t.call('GET', '/api/v1/nothing-here', { agent: 'has space' });
    expect(spaced.body.code).toBe('missing_agent_id');
    const unknown = await t.call('GET', '/api/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: expect.any(String), code: 'not_found' });
    expect(unknown.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('reports 503 down when the database is unreachable', async () => {
    const port = await freePort();
    const sql = connect(`postgres://nobody:x@127.0.0.1:${port}/none`, { max: 1 });
    const d = await createDispatch({ config: testConfig(), sql, logger: pino({ level: 'silent' }) });
    const { apiUrl, opsUrl } = await d.start();
    try {
      const res = await request(`${opsUrl}/health`);
      expect(res.statusCode).toBe(503);
      expect(await res.body.json()).toMatchObject({ status: 'down', checks: { database: 'down' } });
      // A client's request meanwhile is refused as 503 unavailable, never 500.
      const create = await callApi(apiUrl, 'POST', '/api/v1/tasks', { body: { title: 'while the database is away' } });
      expect(create.status).toBe(503);
      expect(create.body).toEqual({ error: expect.any(String), code: 'unavailable' });
      expect(create.headers['retry-after']).toBe('1');
    } finally {
      await d.stop();
      await sql.end({ timeout: 0 });
    }
    // Every connection attempt to the dead port is postgres.js's to back off (it grows with the
    // failed attempts of every component's LISTEN): the 503 can take ~20 s on a loaded box.
  }, 60_000);
});
