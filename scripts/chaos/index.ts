// `npm run chaos`: Dispatch under a steady load of a few hundred tasks while something breaks,
// then the invariant checker (checker.ts) on the database and the NATS stream. Two replicas on
// one database, simulated workers completing what they are assigned (scenarios.ts).
//   npm run chaos -- [--scenarios kill-replica,pg-terminate,pg-restart,nats-restart,late-report,neighbour-faults]
//       [--rate 40] [--duration-s 15] [--notify nats|poll] [--json out.json]
// neighbour-faults points both replicas at the fakes of test/fakes (PromptForge, Warren,
// Alexandria) instead of the roster and makes them answer 500, hang 10 s, then answer garbage.
// A short kill-replica + neighbour-faults run is part of `npm test` (test/chaos-fast.test.ts).
import { writeFileSync } from 'node:fs';
import { num, parseArgs } from '../bench/lib/args.js';
import { startBenchPostgres } from '../bench/lib/postgres.js';
import { chaosTable, isClean, runScenario, SCENARIOS, scenariosNamed, type ChaosRow } from './scenarios.js';

async function main() {
  const args = parseArgs();
  const scenarios = scenariosNamed((args.get('scenarios') ?? SCENARIOS.map((s) => s.name).join(',')).split(','));
  const o = {
    rate: num(args.get('rate'), 40),
    durationMs: num(args.get('duration-s'), 15) * 1000,
    notify: (args.get('notify') === 'poll' ? 'poll' : 'nats') as 'nats' | 'poll',
  };
  const pg = await startBenchPostgres();
  const rows: Array<{ name: string; v: ChaosRow }> = [];
  try {
    for (const sc of scenarios) {
      try {
        rows.push({ name: sc.name, v: await runScenario(pg, sc, o) });
      } catch (err) {
        console.error(`[${sc.name}] failed to run:`, err);
        rows.push({
          name: sc.name,
          v: {
            tasks: 0,
            lost: NaN,
            duplicated: NaN,
            breaches: NaN,
            eventsMissing: NaN,
            eventsDuplicated: NaN,
            natsMissing: null,
            natsDuplicated: null,
            natsOutOfOrder: null,
            unfinished: NaN,
            notes: [`did not run: ${(err as Error).message}`],
            extra: [],
            facts: {},
            lateAccepted: NaN,
          },
        });
      }
    }
  } finally {
    await pg.stop();
  }
  console.log(chaosTable(rows));
  const json = args.get('json');
  if (json) writeFileSync(json, JSON.stringify(rows, null, 2));
  process.exit(rows.every(({ v }) => isClean(v)) ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
