// max_concurrent_per_agent holds at every instant, with one Dispatch and with two on one database.
// Checked two ways while simulated workers start and complete tasks: a sampler querying the
// database throughout the run, and a trigger that records any moment an agent holds too much.
import { describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { activeByAgent, completeWork, startFakes, startWork, waitFor, type Fakes } from './fakes/swarm.js';
import type { Sql } from '../src/store/db.js';

const AGENTS = ['w1', 'w2', 'w3'];
const MAX = 2;
const TASKS = 50;

async function installViolationTrigger(sql: Sql): Promise<void> {
  await sql.unsafe(`
    create table limit_violations (agent text, active int, at timestamptz default clock_timestamp());
    create function check_agent_limit() returns trigger language plpgsql as $$
    declare n int;
    begin
      if new.assignee is not null then
        select count(*) into n from tasks where assignee = new.assignee and status in ('assigned','running');
        if n > ${MAX} then insert into limit_violations (agent, active) values (new.assignee, n); end if;
      end if;
      return null;
    end $$;
    create trigger tasks_check_agent_limit after update of status on tasks for each row execute function check_agent_limit();`);
}

/** Workers that poll for their tasks, report progress, then complete after a short while. */
function startWorkers(sql: Sql): { stop(): Promise<void> } {
  let stopped = false;
  const loops = AGENTS.map(async (agent) => {
    while (!stopped) {
      const mine = await sql<{ id: string; status: string }[]>`
        select id, status from tasks where assignee = ${agent} and status in ('assigned','running')`;
      for (const t of mine) {
        if (t.status === 'assigned') await startWork(sql, t.id, agent).catch(() => {});
        else if (Math.random() < 0.5) await completeWork(sql, t.id, agent);
      }
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 15));
    }
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

async function runAndSample(sql: Sql): Promise<Record<string, number>> {
  const peak: Record<string, number> = {};
  let done = false;
  const sampler = (async () => {
    while (!done) {
      for (const [agent, n] of Object.entries(await activeByAgent(sql))) peak[agent] = Math.max(peak[agent] ?? 0, n);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  const workers = startWorkers(sql);
  try {
    await waitFor(
      async () => {
        const [r] = await sql<{ n: number }[]>`select count(*)::int as n from tasks where status = 'completed'`;
        return r!.n === TASKS;
      },
      `all ${TASKS} tasks completed`,
      60_000,
      50,
    );
  } finally {
    done = true;
    await sampler;
    await workers.stop();
  }
  return peak;
}

function configFor(fakes: Fakes) {
  return { ...fakes.config, assignment: { max_concurrent_per_agent: MAX, tick_interval_ms: 200, wake_timeout_ms: 60_000 } };
}

async function seed(t: TestApp): Promise<void> {
  await installViolationTrigger(t.sql);
  await Promise.all(Array.from({ length: TASKS }, (_, i) => insertTask(t.sql, { scope: 'work', created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) })));
}

describe('per-agent limit', { timeout: 90_000 }, () => {
  it(`50 tasks, 3 agents, max ${MAX}: never more than ${MAX} active per agent (one Dispatch)`, async () => {
    await using fakes = await startFakes();
    for (const id of AGENTS) fakes.addAgent(id, ['work'], 'ready');
    await using t = await startApp({ config: configFor(fakes) });
    await seed(t);
    const peak = await runAndSample(t.sql);
    expect(Object.keys(peak).sort()).toEqual(AGENTS);
    for (const a of AGENTS) expect(peak[a]).toBeLessThanOrEqual(MAX);
    expect(Math.max(...Object.values(peak))).toBe(MAX); // the limit was reached, so it was tested
    expect(await t.sql`select * from limit_violations`).toEqual([]);
  });

  it(`the same with two Dispatch instances on one database`, async () => {
    await using fakes = await startFakes();
    for (const id of AGENTS) fakes.addAgent(id, ['work'], 'ready');
    await using a = await startApp({ config: configFor(fakes) });
    await using b = await startApp({ config: configFor(fakes), db: a.db });
    await seed(a);
    const peak = await runAndSample(a.sql);
    for (const x of AGENTS) expect(peak[x]).toBeLessThanOrEqual(MAX);
    expect(await a.sql`select * from limit_violations`).toEqual([]);
    // Between them the replicas assigned every task (some more than once: none was lost).
    const a1 = a.dispatch.context.metrics.transitions.get();
    const b1 = b.dispatch.context.metrics.transitions.get();
    const assignedBy = async (m: typeof a1) => (await m).values.find((v) => v.labels.to === 'assigned')?.value ?? 0;
    expect((await assignedBy(a1)) + (await assignedBy(b1))).toBeGreaterThanOrEqual(TASKS);
  });
});
