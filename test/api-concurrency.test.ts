// Races against real Postgres: compare-and-set means exactly one writer wins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { decideComplete } from '../src/core/decisions.js';
import { rowToTask } from '../src/core/task.js';
import { applyChanges, getVersionedTaskRow, unversioned } from '../src/store/tasks.js';
import { eventTypes } from './helpers/tasks-api.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp({ config: { database: { pool_size: 20 }, server: { rate_limit_burst: 10_000 } } });
});
afterAll(async () => t?.stop());

describe('concurrency', () => {
  it('20 concurrent completes: exactly one 200, the rest 409, one completed event', async () => {
    const task = await insertTask(t.sql, { status: 'running', assignee: 'w1' });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.call('POST', `/api/v1/tasks/${task.id}/complete`, { agent: 'w1', body: { result: i } })),
    );
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

  it('the optimistic report write refuses a row that changed since it was read, and writes no event', async () => {
    const task = await insertTask(t.sql, { status: 'running', assignee: 'w1' });
    const stale = (await getVersionedTaskRow(t.sql, task.id))!;
    // Another write lands between the read and the compare-and-set (same status, same assignee).
    await t.sql`update tasks set progress = ${t.sql.json({ percent: 50 })} where id = ${task.id}`;
    const now = new Date();
    const write = (read: typeof stale) => ({ ...decideComplete(unversioned(read), 'w1', undefined, now), version: read.version });
    expect((await applyChanges(t.sql, [write(stale)], now)).has(task.id)).toBe(false);
    expect(await eventTypes(t.sql, task.id)).toEqual(['created']);
    const fresh = (await getVersionedTaskRow(t.sql, task.id))!;
    expect(fresh.version).not.toBe(stale.version);
    const decided = write(fresh);
    expect((await applyChanges(t.sql, [decided], now)).has(task.id)).toBe(true);
    const after = decided.next;
    expect(after).toMatchObject({ status: 'completed', assignee: 'w1', progress: { percent: 50 } });
    const [stored] = await t.sql`select * from tasks where id = ${task.id}`;
    expect(rowToTask(stored as never)).toEqual(rowToTask(after));
    // The event carries the row as stored, including the write that came between.
    const [ev] = await t.sql<
      { envelope: { data: { task: unknown } } }[]
    >`select dispatch_task_envelope(task_events) as envelope from task_events where task_id = ${task.id} and type = 'completed'`;
    expect(ev!.envelope.data.task).toEqual(JSON.parse(JSON.stringify(rowToTask(after))));
  });

  it('30 concurrent progress reports from the assignee all land, each with its one event', async () => {
    const task = await insertTask(t.sql, { status: 'assigned', assignee: 'w1' });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => t.call('POST', `/api/v1/tasks/${task.id}/progress`, { agent: 'w1', body: { percent: i } })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    const types = await eventTypes(t.sql, task.id);
    expect(types.filter((x) => x === 'started')).toHaveLength(1);
    expect(types.filter((x) => x === 'progress')).toHaveLength(30);
    const [row] = await t.sql`select status from tasks where id = ${task.id}`;
    expect(row!.status).toBe('running');
  });
});
