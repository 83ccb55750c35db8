// What a report's write costs the service's own process, beside what the same statement costs
// when its text is already built (issue #23, docs/benchmarks.md run 19): Node's CPU per call
// (process.cpuUsage) of
//   - `composed`: applyChanges as the services call it for a completion — the envelope built and
//     serialised, the statement composed from its fragments (store/tasks.ts applyOne, the events'
//     and track record's CTEs) and built by postgres.js;
//   - `as text`: the very statement postgres.js built for it (captured with its `debug` hook), sent
//     again with the same values through `unsafe` (prepared): no envelope, no composition.
// The difference bounds what a fixed statement text for the completion would save. Every call after
// the first loses its compare-and-set (the task is completed), so each call runs the same statement
// with the same values, and Postgres's share is the same for both. Rounds alternate; compare medians.
//   npx tsx scripts/bench/write-cost.ts [--calls 3000] [--rounds 5]
import { decideAssignment, decideComplete, decideCreate } from '../../src/core/decisions.js';
import { connect, migrate } from '../../src/store/db.js';
import { applyChanges, getTaskRow, insertTaskRows } from '../../src/store/tasks.js';
import { newTaskInput } from '../../test/helpers/factories.js';
import { num, parseArgs } from './lib/args.js';
import { startBenchPostgres } from './lib/postgres.js';

const args = parseArgs();
const calls = num(args.get('calls'), 3000);
const rounds = num(args.get('rounds'), 5);

const pg = await startBenchPostgres();
const db = connect(await pg.createDatabase('bench_write_cost'), { max: 1 });
try {
  await migrate(db);
  let built: { string: string; params: unknown[]; types: number[] } | undefined;
  // postgres.js calls options.debug with each statement it builds (connection.js build()).
  (db as unknown as { options: { debug: unknown } }).options.debug = (_c: number, string: string, params: unknown[], types: number[]) => {
    built = { string, params: [...params], types: [...types] };
  };

  const now = new Date();
  const created = decideCreate(
    newTaskInput({ title: 'a benchmark task', requester: 'bench', capabilities: ['code'], required_tags: ['code'], context: { a: 1 } }),
    now,
  );
  await insertTaskRows(db, [created.row], created.events, now);
  const pending = (await getTaskRow(db, created.row.id))!;
  await applyChanges(db, [decideAssignment(pending, { agent: 'agent-a', score: 1, woke: false }, now, 30_000)], now);
  const assigned = (await getTaskRow(db, created.row.id))!;
  // The completion as services/tasks.ts writes it: compare-and-set on the version it remembers.
  const done = { ...decideComplete(assigned, 'agent-a', { answer: 42 }, new Date()), version: (assigned as unknown as { version: string }).version };
  const composed = () => applyChanges(db, [done], done.next.updated_at);
  await composed(); // writes; every later call loses its compare-and-set
  const { string, params, types } = built!;
  const values = params.map((v, i) => db.typed(v as never, types[i]!));
  const asText = () => db.unsafe(string, values as never[], { prepare: true });

  const cpuPerCall = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 300; i++) await fn();
    const c0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) await fn();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / calls;
  };
  const out: Record<string, number[]> = { composed: [], 'as text': [] };
  for (let r = 0; r < rounds; r++) {
    out.composed!.push(await cpuPerCall(composed));
    out['as text']!.push(await cpuPerCall(asText));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`A completion's write: Node CPU µs per call (${rounds} rounds of ${calls}; ${params.length} parameters, ${string.length} characters):`);
  for (const [name, xs] of Object.entries(out)) console.log(`  ${name}: ${xs.map((x) => x.toFixed(1)).join(' · ')} (median ${median(xs).toFixed(1)})`);
} finally {
  await db.end();
  await pg.stop();
}
