// The agent doors' overhead (docs/agent-doors.md, docs/benchmarks.md "Agent doors"): N task
// creates over REST (POST /api/v1/tasks) against N over MCP (the SDK's Client calling the
// create_task tool through /mcp, stateless Streamable HTTP), one Dispatch process, one caller,
// sequential, the two doors alternating request by request so both see the same database and
// machine state. Reports per door the latency p50/p99/mean (ms, as the client sees it) and the
// MCP − REST difference of the medians.
//
//   npx tsx scripts/bench/doors.ts [--n 2000] [--warmup 200] [--json FILE]
import { Agent, request } from 'undici';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connect, migrate } from '../../src/store/db.js';
import { num } from './lib/args.js';
import { startDispatch } from './lib/dispatch-proc.js';
import { LatencyRecorder, type LatencySummary } from './lib/latency.js';
import { runBenchScript, type BenchPostgres } from './lib/postgres.js';
import { fmt, markdownTable } from './lib/table.js';

const DB = 'bench_doors';

export interface DoorsBenchOptions {
  n: number;
  warmup: number;
}

export interface DoorsResult {
  n: number;
  rest: LatencySummary;
  mcp: LatencySummary;
}

export async function runDoorsBench(pg: BenchPostgres, o: DoorsBenchOptions): Promise<DoorsResult> {
  const url = await pg.createDatabase(DB);
  const mig = connect(url, { max: 1 });
  await migrate(mig);
  await mig.end();
  // No agents: the created tasks stay pending (the scheduler announces them unmatched once), so
  // both doors measure the create path only.
  const d = await startDispatch({ databaseUrl: url, agents: 0, tickMs: 60_000 });
  const http = new Agent({ connections: 4 });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${d.apiUrl}/mcp`), { requestInit: { headers: { 'X-Agent-ID': 'bench-requester' } } }));
    const body = (i: number) => ({ title: `bench task ${i}`, scope: 'bench', context: { i } });
    const viaRest = async (i: number) => {
      const res = await request(`${d.apiUrl}/api/v1/tasks`, {
        method: 'POST',
        dispatcher: http,
        headers: { 'content-type': 'application/json', 'x-agent-id': 'bench-requester' },
        body: JSON.stringify(body(i)),
      });
      await res.body.dump();
      if (res.statusCode !== 201) throw new Error(`REST create answered ${res.statusCode}`);
    };
    const viaMcp = async (i: number) => {
      const r = await client.callTool({ name: 'create_task', arguments: body(i) });
      if (r.isError) throw new Error(`MCP create_task refused: ${JSON.stringify(r.structuredContent)}`);
    };
    for (let i = 0; i < o.warmup; i++) {
      await viaRest(i);
      await viaMcp(i);
    }
    const rest = new LatencyRecorder();
    const mcp = new LatencyRecorder();
    for (let i = 0; i < o.n; i++) {
      let t0 = performance.now();
      await viaRest(i);
      rest.add(performance.now() - t0);
      t0 = performance.now();
      await viaMcp(i);
      mcp.add(performance.now() - t0);
    }
    return { n: o.n, rest: rest.summary(), mcp: mcp.summary() };
  } finally {
    await client.close();
    await http.close();
    await d.stop();
    await pg.dropDatabase(DB);
  }
}

export function doorsTable(r: DoorsResult): string {
  const row = (name: string, s: LatencySummary) => [name, String(s.count), fmt(s.p50, 2), fmt(s.p99, 2), fmt(s.mean, 2)];
  return [
    `Agent doors: ${r.n} sequential creates per door, alternating REST and MCP, one Dispatch`,
    '',
    markdownTable(['door', 'creates', 'p50 ms', 'p99 ms', 'mean ms'], [row('REST POST /api/v1/tasks', r.rest), row('MCP tools/call create_task', r.mcp)]),
    '',
    `MCP − REST: p50 ${fmt(r.mcp.p50 - r.rest.p50, 2)} ms, p99 ${fmt(r.mcp.p99 - r.rest.p99, 2)} ms`,
  ].join('\n');
}

runBenchScript(
  import.meta.url,
  (args) => ({ n: num(args.get('n'), 2000), warmup: num(args.get('warmup'), 200) }),
  runDoorsBench,
  doorsTable,
  'npx tsx scripts/bench/doors.ts [--n 2000] [--warmup 200] [--json FILE]: N task creates over REST against N over MCP (create_task), alternating, on one Dispatch; p50/p99 per door',
);
