// The control of docs/benchmarks.md "Retention run 3": the 200/s open loop of the retention
// scenario for `--minutes` (default 6) on an empty database with no purge, and each minute's
// figures (latencies, outbox backlog, depths, ticks) as the purge window logs them. Run something
// else on the box meanwhile (the docs' control ran `npx tsc --noEmit && npx eslint src test scripts`
// 2.5 minutes in) to see what the machine alone does to the assignment path.
//   npx tsx scripts/bench/long-run.ts [--minutes 6] [--rate 200] [--step-s 60]   (--step-s 5: a fresh Dispatch's warm-up)
import { connect, migrate } from '../../src/store/db.js';
import { startNatsServer } from '../../test/helpers/nats-server.js';
import { parseArgs } from './lib/args.js';
import { startDispatch } from './lib/dispatch-proc.js';
import { startBenchPostgres } from './lib/postgres.js';
import { logMinutes, runLoad, watchReplica } from './retention.js';

const args = parseArgs();
const minutes = Number(args.get('minutes') ?? 6);
const rate = Number(args.get('rate') ?? 200);
const stepMs = Number(args.get('step-s') ?? 60) * 1000;
const log = (m: string) => console.log(m);

const pg = await startBenchPostgres();
const nats = await startNatsServer();
try {
  const url = await pg.createDatabase('bench_long');
  const sql = connect(url, { max: 1 });
  await migrate(sql);
  await sql.end();
  const d = await startDispatch({
    databaseUrl: url,
    natsUrl: nats.url,
    agents: 50,
    maxConcurrent: 3,
    tickMs: 1000,
    extra: { retention: { finished_task_ms: 0 } },
  });
  try {
    log(`[long-run] ${rate} tasks/s for ${minutes} min, no purge (started ${new Date().toISOString()})`);
    const watch = watchReplica(d.opsUrl);
    const run = await runLoad(d, nats.url, rate, minutes * 60_000);
    await watch.stop();
    const from = run.samples.find(Boolean)?.sentAt ?? 0;
    logMinutes(run, watch.timeline, from, from + minutes * 60_000, log, stepMs);
  } finally {
    await d.stop();
  }
} finally {
  await nats.stop();
  await pg.stop();
}
