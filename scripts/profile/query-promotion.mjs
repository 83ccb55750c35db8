// How much of what a loop of postgres.js queries allocates outlives a young-generation GC: the
// installed driver's Query (patched by scripts/patch-deps.mjs, patch 4) against the same class as
// postgres 3.4.9 ships it (the patch undone in a temporary copy). Each variant runs in a child
// `node --trace-gc-nvp` that builds queries it never executes — what a statement's fragments are —
// beside a little other garbage, and the parent sums the scavenges of the last 60 % of the run
// (docs/benchmarks.md run 18).
//   node scripts/profile/query-promotion.mjs [--seconds 20]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [mode, file] = process.argv.slice(2);
if (mode === 'child') {
  const { Query } = await import(pathToFileURL(file).href);
  const strings = Object.assign(['select 1 as x where ', ' > 0'], { raw: ['select 1 as x where ', ' > 0'] });
  const handler = () => {};
  const seconds = Number(process.env.SECONDS_TO_RUN ?? 20);
  let n = 0;
  let garbage = [];
  const timer = setInterval(() => {
    for (let i = 0; i < 40; i++) {
      n++;
      garbage.push({ a: 'x'.repeat(100) + n, b: [1, 2, 3, n] });
      if (garbage.length > 20) garbage = [];
      void new Query(strings, [n], handler, () => {});
    }
    if (n >= 4000 * seconds) clearInterval(timer);
  }, 10);
} else {
  const require = createRequire(import.meta.url);
  let root = path.dirname(require.resolve('postgres'));
  while (!existsSync(path.join(root, 'package.json')) || !readFileSync(path.join(root, 'package.json'), 'utf8').includes('"name": "postgres"'))
    root = path.dirname(root);
  const installed = path.join(root, 'src/query.js');
  const text = readFileSync(installed, 'utf8');
  if (!text.includes('/* dispatch: settle methods */')) throw new Error('the installed driver lacks patch 4 (npm install runs scripts/patch-deps.mjs)');
  // 3.4.9's constructor lines back, the two methods out: the class as upstream ships it.
  const unpatched = text
    .replace(
      '    this.settle = { resolve, reject } /* dispatch: settle methods */\n',
      '    this.resolve = x => (this.active = false, resolve(x))\n    this.reject = x => (this.active = false, reject(x))\n',
    )
    .replace(
      '  resolve(x) {\n    this.active = false\n    this.settle.resolve(x)\n  }\n\n  reject(x) {\n    this.active = false\n    this.settle.reject(x)\n  }\n\n',
      '',
    );
  if (unpatched.includes('settle')) throw new Error('could not undo patch 4 in a copy of query.js: scripts/patch-deps.mjs changed it?');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'query-promotion-'));
  // query.js imports nothing: a copy anywhere runs (.mjs: outside the driver's package, ESM by name).
  writeFileSync(path.join(dir, 'query.mjs'), unpatched);
  const seconds = process.argv.includes('--seconds') ? process.argv[process.argv.indexOf('--seconds') + 1] : '20';
  const self = fileURLToPath(import.meta.url);
  try {
    for (const [label, target] of [
      ['3.4.9 as shipped', path.join(dir, 'query.mjs')],
      ['patched (installed)', installed],
    ]) {
      const out = execFileSync(process.execPath, ['--trace-gc-nvp', self, 'child', target], {
        env: { ...process.env, SECONDS_TO_RUN: seconds },
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      const scavenges = out.split('\n').filter((l) => l.includes('gc=s '));
      const tail = scavenges.slice(Math.floor(scavenges.length * 0.4));
      const sum = (k) => tail.reduce((s, l) => s + Number(new RegExp(` ${k}=([0-9.]+)`).exec(l)?.[1] ?? 0), 0);
      const allocated = sum('allocated');
      console.log(
        `${label}: ${tail.length} scavenges, ${(sum('promoted') / tail.length / 1024).toFixed(0)} KB promoted of ${(allocated / tail.length / 1024).toFixed(0)} KB each ` +
          `(${((100 * sum('promoted')) / allocated).toFixed(1)} %), pause ${(sum('pause') / tail.length).toFixed(2)} ms`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
