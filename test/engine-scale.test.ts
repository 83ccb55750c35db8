// Tick cost stays bounded: 20,000 pending tasks and 200 agents; one tick reads a bounded batch and
// makes at most one call per neighbour (counted by the fakes).
import { describe, expect, it } from 'vitest';
import { startApp } from './helpers/app.js';
import { schedulerOf, startFakes, waitFor } from './fakes/swarm.js';
import { MAX_PAGES_PER_TICK } from '../src/assignment/scheduler.js';

const TASKS = 20_000;
const AGENTS = 200;
const BATCH = 100;
const TAGS = ['research', 'code', 'review', 'ops', 'writing'];

describe('tick cost', { timeout: 120_000 }, () => {
  it(`${TASKS} pending tasks, ${AGENTS} agents: one tick reads a bounded batch and calls each neighbour at most once`, async () => {
    await using fakes = await startFakes();
    for (let i = 0; i < AGENTS; i++)
      fakes.addAgent(`agent-${String(i).padStart(3, '0')}`, [TAGS[i % TAGS.length]!, TAGS[(i + 1) % TAGS.length]!], i % 10 === 0 ? 'sleeping' : 'ready');
    fakes.alexandria.addDevice('team-a', 'agent-001');
    await using t = await startApp({
      config: { ...fakes.config, assignment: { tick_interval_ms: 600_000, batch_size: BATCH, max_concurrent_per_agent: 3, owner_filter_enabled: true } },
    });
    const s = schedulerOf(t);
    await s.stopLoop();
    await waitFor(() => t.dispatch.context.agents.cachedAgents().filter((a) => a.capabilities.length === 2).length === AGENTS, 'capabilities of every agent');
    // Bulk insert straight into the table: a few owned by team-a, the rest without owner.
    await t.sql`
      insert into tasks (id, title, requester, owner, scope, capabilities, required_tags, priority, timeout_ms, max_retries, queued_at, created_at, updated_at)
      select gen_random_uuid(), 'task ' || g, 'bench', case when g % 1000 = 0 then 'team-a' end,
             (${TAGS}::text[])[1 + g % 5], '{}', array[(${TAGS}::text[])[1 + g % 5]], g % 11, 300000, 3,
             now() - make_interval(secs => ${TASKS} - g), now() - make_interval(secs => ${TASKS} - g), now()
      from generate_series(1, ${TASKS}) g`;
    fakes.resetCalls();

    const started = performance.now();
    const r = await s.runOnce();
    const elapsed = performance.now() - started;

    expect(r.considered).toBeGreaterThan(0);
    expect(r.considered).toBeLessThanOrEqual(BATCH * MAX_PAGES_PER_TICK);
    expect(r.assigned.length).toBeGreaterThan(0);
    expect(r.assigned.length).toBeLessThanOrEqual(AGENTS * 3);
    expect(fakes.warren.count('/admin/agents', 'GET')).toBeLessThanOrEqual(1);
    expect(fakes.promptforge.count()).toBe(0); // served from the background-refreshed cache
    expect(fakes.alexandria.count()).toBeLessThanOrEqual(1);
    // Wakes are requests too: one per sleeping winner at most, never one per task.
    const wakes = fakes.warren.count('/admin/agents/', 'POST');
    expect(wakes).toBeLessThanOrEqual(AGENTS / 10);
    expect(new Set(fakes.warren.wakes).size).toBe(fakes.warren.wakes.length);
    // Generous bound: a slow shared machine, but nowhere near the time to read 20,000 rows per tick per agent.
    expect(elapsed).toBeLessThan(30_000);
    const [row] = await t.sql<{ n: number }[]>`select count(*)::int as n from tasks where status = 'pending'`;
    const n = row!.n;
    expect(n).toBe(TASKS - r.assigned.length);
  });
});
