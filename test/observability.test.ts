// Metrics, health and stats as operators see them: `promtool check metrics` on the live /metrics,
// dashboards and alerts naming only exported metrics, cheap queue gauges, GET /api/v1/stats.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startApp } from './helpers/app.js';
import { waitFor } from './helpers/events.js';
import { applyDecision, insertTask } from './helpers/factories.js';
import { decideComplete, decideFail, decidePatch } from '../src/core/decisions.js';
import { foldStatDeltas, readQueueStats } from '../src/store/stats.js';

async function scrape(opsUrl: string): Promise<string> {
  const res = await request(`${opsUrl}/metrics`);
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ').pop()) : NaN;
}

/** Metric names referenced by a PromQL-bearing file, histogram suffixes folded to the family. */
function referencedMetrics(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\bdispatch_[a-z0-9_]+\b/g)) names.add(m[0].replace(/_(bucket|sum|count)$/, ''));
  return [...names].sort();
}

describe('observability', () => {
  it('/metrics passes promtool check metrics with tasks in every live state', async () => {
    await using t = await startApp();
    await insertTask(t.sql);
    await insertTask(t.sql, { status: 'running', assignee: 'scout' });
    const text = await scrape(t.opsUrl);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
    for (const name of [
      'dispatch_tasks_created_total',
      'dispatch_task_transitions_total',
      'dispatch_queue_depth',
      'dispatch_schedule_to_assign_seconds',
      'dispatch_task_duration_seconds',
      'dispatch_tick_duration_seconds',
      'dispatch_agent_active_tasks',
      'dispatch_retries_total',
      'dispatch_upstream_requests_total',
      'dispatch_upstream_request_duration_seconds',
      'dispatch_events_unpublished',
    ])
      expect(text).toContain(`# TYPE ${name} `);
  });

  it('queue gauges come from the counters and follow transitions', async () => {
    await using t = await startApp();
    const a = await insertTask(t.sql, { created_at: new Date(Date.now() - 60_000) });
    await insertTask(t.sql);
    await insertTask(t.sql, { status: 'running', assignee: 'scout' });
    await insertTask(t.sql, { status: 'assigned', assignee: 'scout' });
    const text = await scrape(t.opsUrl);
    expect(value(text, 'dispatch_queue_depth{status="pending"}')).toBe(2);
    expect(value(text, 'dispatch_queue_depth{status="running"}')).toBe(1);
    expect(value(text, 'dispatch_queue_depth{status="assigned"}')).toBe(1);
    expect(value(text, 'dispatch_agent_active_tasks{agent="scout"}')).toBe(2);
    expect(value(text, 'dispatch_queue_oldest_pending_seconds')).toBeGreaterThanOrEqual(59);
    await applyDecision(t.sql, a.id, (r) => decidePatch(r, { status: 'cancelled' }, new Date(), 1 << 20));
    await waitFor('gauge refresh', async () => value(await scrape(t.opsUrl), 'dispatch_queue_depth{status="pending"}') === 1);
  });

  it('dispatch_agent_active_tasks has a series for every known agent, idle ones at 0, and for any agent holding tasks', async () => {
    await using t = await startApp({
      config: {
        assignment: { tick_interval_ms: 600_000 },
        agents: [
          { id: 'idle-one', name: 'Idle', capabilities: ['x'], state: 'ready' },
          { id: 'busy-one', name: 'Busy', capabilities: ['x'], state: 'ready' },
        ] as never,
      },
    });
    await insertTask(t.sql, { status: 'running', assignee: 'busy-one' });
    await insertTask(t.sql, { status: 'assigned', assignee: 'not-in-roster' });
    const text = await scrape(t.opsUrl);
    expect(value(text, 'dispatch_agent_active_tasks{agent="idle-one"}')).toBe(0);
    expect(value(text, 'dispatch_agent_active_tasks{agent="busy-one"}')).toBe(1);
    expect(value(text, 'dispatch_agent_active_tasks{agent="not-in-roster"}')).toBe(1);
  });

  it('dashboard and alert rules reference only metrics the service exports, and the rules load', async () => {
    await using t = await startApp();
    const text = await scrape(t.opsUrl);
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const dashboard = readFileSync('deploy/grafana-dashboard.json', 'utf8');
    const alerts = readFileSync('deploy/alerts.yml', 'utf8');
    JSON.parse(dashboard);
    for (const [file, body] of [
      ['dashboard', dashboard],
      ['alerts', alerts],
    ] as const) {
      const used = referencedMetrics(body);
      expect(used.length, file).toBeGreaterThan(3);
      expect(
        used.filter((n) => !exported.has(n)),
        `${file} names metrics /metrics does not export`,
      ).toEqual([]);
    }
    const r = spawnSync('promtool', ['check', 'rules', 'deploy/alerts.yml'], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    for (const alert of ['DispatchQueueGrowing', 'DispatchOldestPendingTooOld', 'DispatchEventsUnpublished', 'DispatchNeighbourDown']) {
      expect(alerts).toContain(`alert: ${alert}`);
    }
  });

  it('GET /api/v1/stats answers the contract shape for admins only', async () => {
    await using t = await startApp();
    const created = new Date(Date.now() - 10_000);
    const done = await insertTask(t.sql, { status: 'running', assignee: 'scout', created_at: created });
    await applyDecision(t.sql, done.id, (r) => decideComplete(r, 'scout', undefined, new Date(created.getTime() + 4000)));
    const done2 = await insertTask(t.sql, { status: 'running', assignee: 'scout', created_at: created });
    await applyDecision(t.sql, done2.id, (r) => decideComplete(r, 'scout', undefined, new Date(created.getTime() + 2000)));
    await insertTask(t.sql, { created_at: new Date(Date.now() - 5000) });
    await insertTask(t.sql, { status: 'assigned', assignee: 'builder' });
    const failed = await insertTask(t.sql, { status: 'running', assignee: 'builder' });
    await applyDecision(t.sql, failed.id, (r) => decideFail(r, 'builder', { error: 'x', retryable: false }, { baseMs: 1, maxMs: 1 }, () => 0, new Date()));

    const res = await t.call('GET', '/api/v1/stats', { admin: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      waiting: 0,
      pending: 1,
      assigned: 1,
      running: 0,
      input_required: 0,
      completed: 2,
      failed: 1,
      timed_out: 0,
      cancelled: 0,
      in_progress: 1,
      total: 5,
      avg_completion_ms: 3000,
      oldest_pending_ms: expect.any(Number),
    });
    expect(res.body.oldest_pending_ms).toBeGreaterThanOrEqual(5000);

    // Folding the deltas into task_stats does not change the figures.
    await foldStatDeltas(t.sql);
    const [{ n }] = (await t.sql<{ n: number }[]>`select count(*)::int as n from task_stat_deltas`) as unknown as [{ n: number }];
    expect(n).toBe(0);
    const after = await readQueueStats(t.sql, new Date());
    expect(after.counts).toMatchObject({ pending: 1, assigned: 1, completed: 2, failed: 1 });
    expect(after.avg_completion_ms).toBe(3000);

    expect((await t.call('GET', '/api/v1/stats')).body.code).toBe('unauthorized');
    expect((await t.call('GET', '/api/v1/stats', { agent: null })).body.code).toBe('missing_agent_id');
  });

  it('stats on an empty database are zeros', async () => {
    await using t = await startApp();
    const res = await t.call('GET', '/api/v1/stats', { admin: true });
    expect(res.body).toEqual({
      waiting: 0,
      pending: 0,
      assigned: 0,
      running: 0,
      input_required: 0,
      completed: 0,
      failed: 0,
      timed_out: 0,
      cancelled: 0,
      in_progress: 0,
      total: 0,
      avg_completion_ms: 0,
      oldest_pending_ms: 0,
    });
  });
});
