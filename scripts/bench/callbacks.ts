// Callback scenario (docs/callbacks.md): tasks created open loop at `--rate` tasks/s for `--s` s,
// each with callback_url → a local receiver and callback_events ["created"], so every task makes
// exactly one delivery. Latency: the event's envelope timestamp (the decision's clock, at the
// create) → the receiver has read the POST's body. Dispatch runs as its own process (main.ts) on
// embedded Postgres (lib/postgres.ts settings), no NATS; no agents (the tasks stay pending).
//   npx tsx scripts/bench/callbacks.ts [--rate 200] [--s 30]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { sleep } from './lib/child.js';
import { startDispatch } from './lib/dispatch-proc.js';
import { LatencyRecorder, wallMs } from './lib/latency.js';
import { openLoop } from './lib/open-loop.js';
import { startBenchPostgres } from './lib/postgres.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const rate = arg('rate', 200);
const seconds = arg('s', 30);

const latency = new LatencyRecorder();
const seen = new Set<string>();
let duplicates = 0;
const receiver = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    const at = wallMs();
    const id = req.headers['x-dispatch-delivery'] as string;
    if (seen.has(id)) duplicates++;
    else {
      seen.add(id);
      latency.add(at - Date.parse((JSON.parse(body) as { timestamp: string }).timestamp));
    }
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const pg = await startBenchPostgres();
const dispatch = await startDispatch({
  databaseUrl: await pg.createDatabase('bench_callbacks'),
  agents: 0,
  extra: { webhooks: { secret: 'bench-secret', allowed_hosts: ['127.0.0.1'] } },
});
try {
  const api = new Pool(dispatch.apiUrl, { connections: 64 });
  const body = JSON.stringify({ title: 'bench callback', scope: 'nobody', callback_url: hook, callback_events: ['created'] });
  const run = await openLoop({
    rate,
    durationMs: seconds * 1000,
    send: async () => {
      const res = await api.request({ path: '/api/v1/tasks', method: 'POST', headers: { 'content-type': 'application/json', 'x-agent-id': 'bench' }, body });
      const text = await res.body.text();
      if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${text.slice(0, 200)}`);
    },
  });
  const until = Date.now() + 60_000;
  while (seen.size < run.ok && Date.now() < until) await sleep(100);
  const s = latency.summary();
  console.log(`callbacks: ${rate} tasks/s for ${seconds} s (created ${run.ok}, failed ${run.failed}, producer lag max ${run.maxLagMs.toFixed(0)} ms)`);
  if (run.errors.length) console.log(`  errors: ${run.errors.join(' | ')}`);
  console.log(`  received ${seen.size} of ${run.ok} (duplicates ${duplicates}); Postgres: ${pg.settings}`);
  console.log(`  event → callback received: p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`);
  await api.close();
} finally {
  await dispatch.stop();
  await pg.stop();
  receiver.close();
}
