// Idempotency keys are forgotten once their 24 h window is over (in small batches), and a key
// whose window ended starts a new task.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHousekeeping, IDEMPOTENCY_WINDOW_MS } from '../src/services/housekeeping.js';
import { startApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';

describe('housekeeping', () => {
  it('deletes idempotency keys older than 24 h in batches and keeps the live ones', async () => {
    const now = new Date(Date.UTC(2026, 5, 1, 12));
    await using t = await startApp({ clock: { now: () => new Date(now) } });
    const task = await insertTask(t.sql);
    const at = (msAgo: number) => new Date(now.getTime() - msAgo);
    const rows = [
      ...Array.from({ length: 7 }, (_, i) => ({ key: `old-${i}`, created_at: at(IDEMPOTENCY_WINDOW_MS + 1000 * (i + 1)) })),
      { key: 'just-live', created_at: at(IDEMPOTENCY_WINDOW_MS - 1000) },
      { key: 'fresh', created_at: at(0) },
    ].map((r) => ({ requester: 'alice', body_hash: 'h', task_id: task.id, ...r }));
    await t.sql`delete from idempotency_keys`;
    await t.sql`insert into idempotency_keys ${t.sql(rows)}`;
    const hk = createHousekeeping(t.dispatch.context, { batch: 3 });
    expect(await hk.runOnce()).toBe(7);
    const left = await t.sql<{ key: string }[]>`select key from idempotency_keys order by key`;
    expect(left.map((r) => r.key)).toEqual(['fresh', 'just-live']);
    expect(await hk.runOnce()).toBe(0);
  });

  it('a key whose window is over creates a new task instead of replaying the old one', async () => {
    let now = Date.UTC(2026, 5, 1, 12);
    await using t = await startApp({ clock: { now: () => new Date(now) } });
    const key = randomUUID();
    const first = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'a' }, headers: { 'idempotency-key': key } });
    const replay = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'a' }, headers: { 'idempotency-key': key } });
    expect(replay.body.id).toBe(first.body.id);
    now += IDEMPOTENCY_WINDOW_MS + 1;
    expect(await createHousekeeping(t.dispatch.context).runOnce()).toBe(1);
    const later = await t.call('POST', '/api/v1/tasks', { agent: 'alice', body: { title: 'a' }, headers: { 'idempotency-key': key } });
    expect(later.status).toBe(201);
    expect(later.body.id).not.toBe(first.body.id);
  });
});
