// GET /api/v1/tasks: filters, limit, keyset cursor (newest first, stable under inserts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { counts } from './helpers/tasks-api.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp({ config: { server: { rate_limit_burst: 10_000 } } });
});
afterAll(async () => t?.stop());

async function all(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = query ? '&' : '';
    const res = await t.call('GET', `/api/v1/tasks?${query}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    ids.push(...res.body.tasks.map((x: { id: string }) => x.id));
    cursor = res.body.next_cursor;
    pages++;
  } while (cursor && pages < 100);
  return { ids, pages };
}

describe('GET /api/v1/tasks', () => {
  it('pages newest first with an opaque cursor; next_cursor null at the end; same-millisecond rows neither skipped nor repeated', async () => {
    const base = new Date('2030-01-01T00:00:00.000Z').getTime();
    const made = [];
    // Pairs share a created_at, so ordering falls back to id.
    for (let i = 0; i < 13; i++) made.push(await insertTask(t.sql, { requester: 'pager', created_at: new Date(base + Math.floor(i / 2) * 1000) }));
    const expected = [...made].sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : -1)).map((r) => r.id);
    const { ids, pages } = await all('requester=pager', 5);
    expect(ids).toEqual(expected);
    expect(pages).toBe(3);
    const whole = await t.call('GET', '/api/v1/tasks?requester=pager&limit=13');
    expect(whole.body.next_cursor).toBeNull();
    const first = await t.call('GET', '/api/v1/tasks?requester=pager&limit=5');
    expect(first.body.next_cursor).toEqual(expect.any(String));
    expect(first.body.next_cursor).not.toContain(made[0]!.id); // opaque
  });

  it('is stable while tasks are being inserted between pages', async () => {
    for (let i = 0; i < 6; i++) await t.call('POST', '/api/v1/tasks', { agent: 'streamer', body: { title: `t${i}` } });
    const p1 = await t.call('GET', '/api/v1/tasks?requester=streamer&limit=3');
    for (let i = 0; i < 4; i++) await t.call('POST', '/api/v1/tasks', { agent: 'streamer', body: { title: `late${i}` } });
    const p2 = await t.call('GET', `/api/v1/tasks?requester=streamer&limit=3&cursor=${encodeURIComponent(p1.body.next_cursor)}`);
    const titles = [...p1.body.tasks, ...p2.body.tasks].map((x: { title: string }) => x.title);
    expect(titles).toEqual(['t5', 't4', 't3', 't2', 't1', 't0']);
  });

  it('filters by status (comma list), requester, assignee, scope and owner', async () => {
    await insertTask(t.sql, { requester: 'filt', status: 'pending', scope: 'research', owner: 'o1' });
    await insertTask(t.sql, { requester: 'filt', status: 'running', assignee: 'w9', scope: 'code' });
    await insertTask(t.sql, { requester: 'filt', status: 'completed', owner: 'o1' });
    await insertTask(t.sql, { requester: 'other', status: 'running', assignee: 'w9' });
    const q = async (qs: string) => (await t.call('GET', `/api/v1/tasks?${qs}`)).body.tasks as Array<Record<string, unknown>>;
    expect((await q('requester=filt')).length).toBe(3);
    expect((await q('requester=filt&status=pending,running')).map((x) => x.status).sort()).toEqual(['pending', 'running']);
    expect((await q('requester=filt&status=completed')).map((x) => x.status)).toEqual(['completed']);
    expect((await q('assignee=w9')).length).toBe(2);
    expect((await q('assignee=w9&requester=filt')).length).toBe(1);
    expect((await q('scope=research')).map((x) => x.requester)).toEqual(['filt']);
    expect((await q('owner=o1')).length).toBe(2);
    expect(await q('owner=nobody')).toEqual([]);
  });

  it('defaults to 50 and caps at 500', async () => {
    await t.sql`insert into tasks (id, title, requester, timeout_ms, max_retries, queued_at, created_at, updated_at)
      select gen_random_uuid(), 'bulk', 'bulk', 1000, 3, now(), now() - (g || ' ms')::interval, now() from generate_series(1, 520) g`;
    const def = await t.call('GET', '/api/v1/tasks?requester=bulk');
    expect(def.body.tasks).toHaveLength(50);
    const max = await t.call('GET', '/api/v1/tasks?requester=bulk&limit=500');
    expect(max.body.tasks).toHaveLength(500);
    expect(max.body.next_cursor).toEqual(expect.any(String));
  });

  it('refuses a tampered cursor with 400 validation_failed', async () => {
    await insertTask(t.sql, { requester: 'tamper' });
    await insertTask(t.sql, { requester: 'tamper' });
    const p1 = await t.call('GET', '/api/v1/tasks?requester=tamper&limit=1');
    const cursor: string = p1.body.next_cursor;
    const [payload, mac] = cursor.split('.');
    const decoded = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const edited = Buffer.from(JSON.stringify({ ...decoded, t: '2099-01-01T00:00:00.000000Z' })).toString('base64url');
    const before = await counts(t.sql);
    for (const bad of [`${edited}.${mac}`, `${payload}.AAAA${mac!.slice(4)}`, payload!, `${cursor}x`, 'x.y.z']) {
      const res = await t.call('GET', `/api/v1/tasks?cursor=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
    expect(await counts(t.sql)).toEqual(before);
    const ok = await t.call('GET', `/api/v1/tasks?requester=tamper&limit=1&cursor=${encodeURIComponent(cursor)}`);
    expect(ok.status).toBe(200);
    expect(ok.body.tasks).toHaveLength(1);
  });
});
