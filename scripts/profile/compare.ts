// Where one system's main thread spends a lifecycle next to another's: two V8 CPU profiles
// (`--cpu-prof`, e.g. DISPATCH_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" on
// `npm run bench` or `npm run bench:floor`), each cut to a window of seconds from its start,
// their samples grouped (this service's code, postgres.js, nats.js, fastify and its helpers, node's
// HTTP, socket writes, GC, …) and divided by the lifecycles in the window. V8 samples wall time
// while the thread runs JavaScript or a native call: a socket write's share includes time the
// thread spent descheduled inside the call, so it is an upper bound on that write's CPU.
//   npx tsx scripts/profile/compare.ts <a.cpuprofile> <from s> <to s> <b.cpuprofile> <from s> <to s> <lifecycles in each window>
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
}
interface Profile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}

const FASTIFY = new Set([
  'fastify',
  'find-my-way',
  'ajv',
  'fast-json-stringify',
  'secure-json-parse',
  'avvio',
  'fast-uri',
  'toad-cache',
  'fast-querystring',
  'rfdc',
  'pino',
  '@pinojs/redact',
]);

export function groupOf(cf: CallFrame): string {
  const url = cf.url;
  if (!url) {
    if (cf.functionName === 'writeBuffer' || cf.functionName === 'writev') return 'socket writes';
    return cf.functionName.startsWith('(') ? cf.functionName : 'native (JSON, buffers, …)';
  }
  if (url.includes('node_modules/')) {
    const parts = url.split('node_modules/').pop()!.split('/');
    const pkg = parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
    if (FASTIFY.has(pkg) || pkg.startsWith('@fastify/')) return 'fastify and helpers';
    if (pkg.startsWith('@nats-io/')) return 'nats.js';
    if (pkg === 'postgres') return 'postgres.js';
    return pkg;
  }
  if (url.startsWith('node:_http')) return "node's HTTP";
  if (url.startsWith('node:')) return 'node (streams, timers, …)';
  return 'the service’s own code';
}

/** Milliseconds of samples per group within [from, to] seconds of the profile's start. */
export function groups(p: Profile, fromS: number, toS: number): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const out = new Map<string, number>();
  let t = 0;
  p.samples.forEach((id, i) => {
    const d = p.timeDeltas[i] ?? 0;
    t += d;
    if (t < fromS * 1e6 || t > toS * 1e6) return;
    const g = groupOf(byId.get(id)!);
    if (g === '(idle)') return;
    out.set(g, (out.get(g) ?? 0) + d / 1000);
  });
  return out;
}

const [a, af, at, b, bf, bt, n] = process.argv.slice(2);
if (!n) {
  console.error('usage: compare.ts <a.cpuprofile> <from s> <to s> <b.cpuprofile> <from s> <to s> <lifecycles in each window>');
  process.exit(2);
}
const A = groups(JSON.parse(readFileSync(a!, 'utf8')) as Profile, Number(af), Number(at));
const B = groups(JSON.parse(readFileSync(b!, 'utf8')) as Profile, Number(bf), Number(bt));
const per = (m: Map<string, number>, k: string) => (m.get(k) ?? 0) / Number(n);
const rows = [...new Set([...A.keys(), ...B.keys()])].map((k) => [k, per(A, k), per(B, k)] as const).sort((x, y) => y[1] - y[2] - (x[1] - x[2]));
const total = (i: 1 | 2) => rows.reduce((s, r) => s + r[i], 0);
console.log('| group | a ms per lifecycle | b ms per lifecycle | a − b |\n| --- | --- | --- | --- |');
for (const [k, x, y] of rows) if (x >= 0.005 || y >= 0.005) console.log(`| ${k} | ${x.toFixed(3)} | ${y.toFixed(3)} | ${(x - y).toFixed(3)} |`);
console.log(`| total | ${total(1).toFixed(3)} | ${total(2).toFixed(3)} | ${(total(1) - total(2)).toFixed(3)} |`);
