// Flow limits hold across replicas (§20): two Dispatch instances on one database, their real
// scheduler loops, workers completing over HTTP on either replica. A sampler reads the key's
// active count every 20 ms and a test-only trigger records any moment the limit was exceeded.
import { describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { waitFor } from './helpers/wait.js';
import type { Sql } from '../src/store/db.js';

const AGENTS = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6'].map((id) => ({ id, name: id, capabilities: ['work'], state: 'ready' as const }));
const CONCURRENCY = 3;
const KEYED = 30;
const RATED = 12;
const RATE = { rate: 4, per_ms: 1000, burst: 2 };

async function installViolationTrigger(sql: Sql): Promise<void> {
  await sql.unsafe(`
    create table flow_violations (active int, at timestamptz default clock_timestamp());
    create function check_flow_limit() returns trigger language plpgsql as $$
    declare n int;
    begin
      if new.flow_key = 'model:gpt' then
        select count(*) into n from tasks where flow_key = 'model:gpt' and status in ('assigned','running','input_required');
        if n > ${CONCURRENCY} then insert into flow_violations (active) values (n); end if;
      end if;
      return null;
    end $$;
    create trigger tasks_check_flow_limit after update of status on tasks for each row execute function check_flow_limit();`);
}

/** Workers: take what is assigned to them and complete it a little later, over HTTP on either replica. */
function startWorkers(apps: TestApp[]): { stop(): Promise<void> } {
  let stopped = false;
  const sql = apps[0]!.sql;
  const loop = (async () => {
    let turn = 0;
    while (!stopped) {
      const mine = await sql<{ id: string; assignee: string }[]>`select id, assignee from tasks where status = 'assigned'`;
      await Promise.all(
        mine.map(async (t) => {
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 25)); // the work itself
          const app = apps[turn++ % apps.length]!;
          await app.call('POST', `/api/v1/tasks/${t.id}/complete`, { agent: t.assignee, body: {} });
        }),
      );
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

describe('flow limits across two replicas', { timeout: 120_000 }, () => {
  it(`concurrency ${CONCURRENCY} and a rate limit hold with two Dispatch instances on one database`, async () => {
    const config = {
      agents: AGENTS,
      assignment: { max_concurrent_per_agent: 3, tick_interval_ms: 100 },
      flow: {
        limits: [
          { key: 'model:gpt', concurrency: CONCURRENCY },
          { key: 'user:*', ...RATE },
        ],
      },
    };
    await using a = await startApp({ config });
    await using b = await startApp({ config, db: a.db });
    await installViolationTrigger(a.sql);

    let peak = 0;
    let samples = 0;
    let done = false;
    const sampler = (async () => {
      while (!done) {
        const [r] = await a.sql<{ n: number }[]>`
          select count(*)::int as n from tasks where flow_key = 'model:gpt' and status in ('assigned','running','input_required')`;
        peak = Math.max(peak, r!.n);
        samples++;
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    const workers = startWorkers([a, b]);
    try {
      // Creates on both replicas: keyed tasks, rate-limited ones and unkeyed ones beside them.
      const creates = [];
      for (let i = 0; i < KEYED; i++)
        creates.push((i % 2 ? a : b).call('POST', '/api/v1/tasks', { body: { title: `k${i}`, scope: 'work', flow_key: 'model:gpt' } }));
      for (let i = 0; i < RATED; i++)
        creates.push((i % 2 ? b : a).call('POST', '/api/v1/tasks', { body: { title: `r${i}`, scope: 'work', flow_key: 'user:1' } }));
      for (let i = 0; i < 10; i++) creates.push(a.call('POST', '/api/v1/tasks', { body: { title: `u${i}`, scope: 'work' } }));
      for (const r of await Promise.all(creates)) expect(r.status).toBe(201);
      const total = KEYED + RATED + 10;
      await waitFor(
        async () => {
          const [r] = await a.sql<{ n: number }[]>`select count(*)::int as n from tasks where status = 'completed'`;
          return r!.n === total;
        },
        `all ${total} tasks completed`,
        90_000,
        50,
      );
    } finally {
      done = true;
      await sampler;
      await workers.stop();
    }
    expect(samples).toBeGreaterThan(10);
    expect(peak).toBeLessThanOrEqual(CONCURRENCY);
    expect(peak).toBe(CONCURRENCY); // the limit was reached, so it was tested
    expect(await a.sql`select * from flow_violations`).toEqual([]);

    // The rate limit: in any window of w ms, at most burst + rate × w / per_ms starts of user:1.
    const starts = (await a.sql<{ at: Date }[]>`select assigned_at as at from tasks where flow_key = 'user:1' order by assigned_at`).map((r) => r.at.getTime());
    expect(starts).toHaveLength(RATED);
    for (const w of [250, 1000, 2000]) {
      for (const from of starts) {
        const n = starts.filter((x) => x >= from && x < from + w).length;
        expect(n, `window ${w} ms from ${from}`).toBeLessThanOrEqual(RATE.burst + (RATE.rate * w) / RATE.per_ms);
      }
    }
    // Both replicas assigned keyed work (the guard was exercised by both).
    const assignedBy = async (t: TestApp) => (await t.dispatch.context.metrics.transitions.get()).values.find((v) => v.labels.to === 'assigned')?.value ?? 0;
    expect(await assignedBy(a)).toBeGreaterThan(0);
    expect(await assignedBy(b)).toBeGreaterThan(0);
  });
});
