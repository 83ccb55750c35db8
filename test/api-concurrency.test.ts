// Races against real Postgres: compare-and-set means exactly one writer wins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { eventTypes } from './helpers/tasks-api.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp({ config: { database: { pool_size: 20 }, server: { rate_limit_burst: 10_000 } } });
});
afterAll(async () => t?.stop());

describe('concurrency', () => {
  it('20 concurrent completes: exactly one 200, the rest 409, one completed event', async () => {
    const task = await insertTask(t.sql, { status: 'running', assignee: 'w1' });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: { result: i } })));
    const ok = results.filter((r) => r.status === 200);
    const conflicts = results.filter((r) => r.status === 409);
    expect(ok).toHaveLength(1);
    expect(conflicts).toHaveLength(19);
    for (const c of conflicts) expect(c.body).toMatchObject({ code: 'invalid_transition', details: { from: 'completed', to: 'completed' } });
    expect(await eventTypes(t.sql, task.id)).toEqual(['created', 'completed']);
    const [row] = await t.sql`select status, result from tasks where id = ${task.id}`;
    expect(row).toEqual({ status: 'completed', result: ok[0]!.body.result });
  });

  it('cancel racing complete: exactly one wins and the final state agrees with the events', async () => {
    for (let round = 0; round < 10; round++) {
      const task = await insertTask(t.sql, { status: round % 2 ? 'assigned' : 'running', assignee: 'w1', requester: 'alice' });
      const [cancel, complete] = await Promise.all([
        t.call('PATCH', `/api/v1/tasks/${task.id}`, { agent: 'alice', body: { status: 'cancelled' } }),
        t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: { result: 'r' } }),
      ]);
      const statuses = [cancel.status, complete.status].sort();
      expect(statuses).toEqual([200, 409]);
      const winner = cancel.status === 200 ? 'cancelled' : 'completed';
      const [row] = await t.sql`select status from tasks where id = ${task.id}`;
      expect(row!.status).toBe(winner);
      expect(await eventTypes(t.sql, task.id)).toEqual(['created', winner]);
      const loser = cancel.status === 409 ? cancel : complete;
      expect(loser.body).toMatchObject({ code: 'invalid_transition', details: { from: winner } });
    }
  });

  it('fail racing progress from the same assignee never double-applies', async () => {
    const task = await insertTask(t.sql, { status: 'assigned', assignee: 'w1', max_retries: 0 });
    const [fail, progress] = await Promise.all([
      t.call('POST', `/api/v1/tasks/${task.id}/fail`, { agent: 'w1', body: { error: 'e' } }),
      t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'w1', body: { percent: 10 } }),
    ]);
    expect(fail.status).toBe(200);
    const types = await eventTypes(t.sql, task.id);
    if (progress.status === 200) expect(types).toEqual(['created', 'started', 'progress', 'failed']);
    else {
      expect(progress.status).toBe(409);
      expect(types).toEqual(['created', 'failed']);
    }
  });
});
