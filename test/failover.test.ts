// CONTRACT §23, beyond one machine: two Dispatch processes (dist/main.js) under a steady load of
// creates while (1) the leader of the event stream of a three-node JetStream cluster (streams with
// 3 replicas) is killed with SIGKILL, and (2) the Postgres primary (Debian's server binaries, with
// a synchronous streaming standby) is killed with SIGKILL and the standby promoted. The runs are
// the `nats-leader-kill` and `pg-failover` scenarios of `npm run chaos` (scripts/chaos/), and the
// assertions are on the invariant checker's verdict (scripts/chaos/checker.ts) and the facts the
// scenario measured, never on a sleep.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { attachPostgres, type BenchPostgres } from '../scripts/bench/lib/postgres.js';
import { runScenario, scenariosNamed, type ChaosRow } from '../scripts/chaos/scenarios.js';
import { postgresBin } from './helpers/pg-pair.js';

let pg: BenchPostgres;
beforeAll(async () => {
  pg = await attachPostgres(inject('pgAdminUrl'), { settings: "the test suite's Postgres" });
});

async function run(name: string): Promise<{ row: ChaosRow; why: string }> {
  const [scenario] = scenariosNamed([name]);
  const log: string[] = [];
  const t0 = performance.now();
  const row = await runScenario(pg, scenario!, {
    rate: 25,
    durationMs: 10_000,
    notify: 'nats',
    db: `failover_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    drainMs: 60_000,
    log: (m) => log.push(`${((performance.now() - t0) / 1000).toFixed(1)} s ${m}`),
  });
  return { row, why: [...log, ...row.extra, ...row.notes].join('\n') };
}

function expectClean({ row, why }: { row: ChaosRow; why: string }): void {
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
      natsOutOfOrder: row.natsOutOfOrder,
      unfinished: row.unfinished,
      creates500: row.facts['creates answered 500'],
      reports500: row.facts['reports answered 500'],
    },
    why,
  ).toEqual({
    lost: 0,
    duplicated: 0,
    breaches: 0,
    eventsMissing: 0,
    eventsDuplicated: 0,
    natsMissing: 0,
    natsDuplicated: 0,
    natsOutOfOrder: 0,
    unfinished: 0,
    creates500: 0,
    reports500: 0,
  });
}

describe('failover (CONTRACT §23)', () => {
  it('a three-node JetStream cluster loses its stream leader (SIGKILL) under load: no event lost or duplicated, order per task kept', async () => {
    const r = await run('nats-leader-kill');
    expectClean(r);
    expect(r.row.facts.killed, r.why).toBe(1);
    expect(r.row.facts['stream replicas'], r.why).toBe(3); // created so by hermes.stream_replicas: 3
    // Events went on into the stream after the kill (the relay and the fast path rode through).
    expect(r.row.facts['stream growing again after (ms)'], r.why).toBeGreaterThan(0);
  }, 150_000);

  it('the Postgres primary is killed (SIGKILL) under load and its synchronous standby promoted: nothing acknowledged lost, 503s not 500s, healthy within 15 s, schedules and timers go on', async () => {
    // Fails with what to install when the server binaries are missing (never skipped).
    postgresBin();
    const r = await run('pg-failover');
    expectClean(r);
    expect(r.row.facts['healthy after promotion (ms)'], r.why).toBeLessThanOrEqual(15_000);
    expect(r.row.facts['schedule runs after promotion'], r.why).toBeGreaterThanOrEqual(3);
    expect(r.row.facts['timers fired after promotion'], r.why).toBe(3);
  }, 150_000);
});
