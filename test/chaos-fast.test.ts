// A short `npm run chaos` inside the suite: two Dispatch processes on a database of the suite's
// Postgres and a private nats-server, 25 creates/s for 9 s while a replica is killed with SIGKILL,
// or while the neighbours (fakes) answer 500, hang and answer garbage. The assertions are on the
// invariant checker's verdict only (scripts/chaos/checker.ts, itself tested in
// chaos-checker.test.ts), never on timing.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { attachPostgres, type BenchPostgres } from '../scripts/bench/lib/postgres.js';
import { runScenario, scenariosNamed, type ChaosRow } from '../scripts/chaos/scenarios.js';

let pg: BenchPostgres;
beforeAll(async () => {
  pg = await attachPostgres(inject('pgAdminUrl'), { settings: "the test suite's Postgres" });
});

async function run(name: string): Promise<{ row: ChaosRow; log: string[] }> {
  const [scenario] = scenariosNamed([name]);
  const log: string[] = [];
  const t0 = performance.now();
  const row = await runScenario(pg, scenario!, {
    rate: 25,
    durationMs: 9000,
    notify: 'nats',
    db: `chaos_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    drainMs: 60_000,
    log: (m) => log.push(`${((performance.now() - t0) / 1000).toFixed(1)} s ${m}`),
  });
  return { row, log };
}

function expectClean({ row, log }: { row: ChaosRow; log: string[] }): void {
  const why = [...log, ...row.extra, ...row.notes].join('\n');
  expect(row.tasks, why).toBeGreaterThan(100);
  expect(
    {
      lost: row.lost,
      duplicated: row.duplicated,
      breaches: row.breaches,
      eventsMissing: row.eventsMissing,
      eventsDuplicated: row.eventsDuplicated,
      natsMissing: row.natsMissing,
      natsDuplicated: row.natsDuplicated,
      unfinished: row.unfinished,
      lateAccepted: row.lateAccepted,
    },
    why,
  ).toEqual({ lost: 0, duplicated: 0, breaches: 0, eventsMissing: 0, eventsDuplicated: 0, natsMissing: 0, natsDuplicated: 0, unfinished: 0, lateAccepted: 0 });
}

describe('chaos, short', () => {
  it('kill -9 of a replica under load: nothing lost, duplicated, over the limit or unfinished', async () => {
    const r = await run('kill-replica');
    expectClean(r);
    expect(r.row.facts.kills).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('neighbours answering 500, hanging 10 s, then garbage: the same, and tasks complete after healing', async () => {
    const r = await run('neighbour-faults');
    expectClean(r);
    // The faults reached Dispatch: it kept calling the broken neighbours during every phase.
    for (const phase of ['500s', '10 s hangs', 'garbage']) expect(r.row.facts[`neighbour calls during ${phase}`], phase).toBeGreaterThan(0);
    expect(r.row.facts['completed after healing']).toBeGreaterThan(0);
    expect(r.row.extra.join('\n')).not.toMatch(/unexpected call/);
  }, 180_000);
});
