// What a process allocates per lifecycle, by allocation site, garbage included: V8's sampling heap
// profiler with the objects already collected by a scavenge or a mark-compact kept in the profile
// (node's own --heap-prof keeps only what is still alive when it stops, which leaves out nearly
// everything a request allocates). Two uses:
//   1. A preload in the process to measure (a benchmark passes node flags with DISPATCH_BENCH_NODE_ARGS):
//        DISPATCH_BENCH_NODE_ARGS="--import ./scripts/profile/heap-sample.mjs" npm run bench -- …
//      It samples from HEAP_SAMPLE_AFTER_S (default 5) for HEAP_SAMPLE_FOR_S seconds (default 8)
//      and writes <HEAP_SAMPLE_DIR, default the temp dir>/heap.<pid>.json. With HEAP_SAMPLE_MINOR=0
//      the objects a scavenge collected are left out: what outlived the young generation (promoted,
//      whether a mark-compact collected it later or it is still alive).
//   2. The report: node scripts/profile/heap-sample.mjs <heap.pid.json> <lifecycles in the window> [top]
//      prints KB per lifecycle in all, then the top sites by their own allocation and by what
//      they and their callees allocate.
import { Session } from 'node:inspector';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);

if (isMain) {
  const [file, lifecycles, top = '30'] = process.argv.slice(2);
  if (!file || !lifecycles) {
    console.error('usage: node scripts/profile/heap-sample.mjs <heap.pid.json> <lifecycles in the window> [top]');
    process.exit(2);
  }
  report(JSON.parse(readFileSync(file, 'utf8')), Number(lifecycles), Number(top));
} else {
  const after = Number(process.env.HEAP_SAMPLE_AFTER_S ?? 5) * 1000;
  const span = Number(process.env.HEAP_SAMPLE_FOR_S ?? 8) * 1000;
  const dir = process.env.HEAP_SAMPLE_DIR ?? os.tmpdir();
  const session = new Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (e, v) => (e ? reject(e) : resolve(v))));
  setTimeout(async () => {
    await post('HeapProfiler.enable');
    // One sample per 4 KB allocated on average; collected objects stay in the profile (those of a
    // scavenge unless HEAP_SAMPLE_MINOR=0).
    await post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: process.env.HEAP_SAMPLE_MINOR !== '0',
    });
    setTimeout(async () => {
      const { profile } = await post('HeapProfiler.stopSampling');
      const out = path.join(dir, `heap.${process.pid}.json`);
      writeFileSync(out, JSON.stringify(profile));
      process.stderr.write(`heap-sample: wrote ${out}\n`);
    }, span).unref();
  }, after).unref();
}

function report(profile, lifecycles, top) {
  const own = new Map();
  const inclusive = new Map();
  let total = 0;
  const site = (cf) => `${cf.functionName || '(anonymous)'} ${cf.url.replace(/.*\/(node_modules|src|dist)\//, '$1/')}:${cf.lineNumber + 1}`;
  // Iterative walk (a deep async stack would overflow a recursive one); a site counts once per stack.
  const stack = [{ node: profile.head, above: [] }];
  while (stack.length) {
    const { node, above } = stack.pop();
    const k = site(node.callFrame);
    const chain = above.includes(k) ? above : [...above, k];
    total += node.selfSize;
    own.set(k, (own.get(k) ?? 0) + node.selfSize);
    for (const s of chain) inclusive.set(s, (inclusive.get(s) ?? 0) + node.selfSize);
    for (const c of node.children) stack.push({ node: c, above: chain });
  }
  const kb = (b) => (b / 1024 / lifecycles).toFixed(2).padStart(8);
  console.log(`${kb(total).trim()} KB allocated per lifecycle (${lifecycles} lifecycles)`);
  for (const [title, m] of [
    ['own allocation', own],
    ['with callees', inclusive],
  ]) {
    console.log(`\n## by ${title} (KB per lifecycle)`);
    for (const [k, v] of [...m].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${kb(v)}  ${k}`);
  }
}
