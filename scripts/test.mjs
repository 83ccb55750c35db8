#!/usr/bin/env node
// `npm test`: provision what the suite needs (nats-server, promtool, chromium, the Postgres server binaries), run the static checks (tsc,
// eslint, prettier --check: one test each) and vitest, and close with the one plain line CI
// reads: "N passed, N failed". Exits non-zero on any failure or no test.
// `npm test -- <vitest args>` (a file, -t …) runs just those tests, without the static checks.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';

const REPORT = '.vitest-report.json';
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

// test/failover.test.ts runs a Postgres primary and its standby from the server binaries
// (test/helpers/pg-pair.ts): Debian's `postgresql` package, or DISPATCH_TEST_PG_BIN.
const PG_SERVER_BINS = ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'];
function hasPostgresServer() {
  const dirs = process.env.DISPATCH_TEST_PG_BIN
    ? [process.env.DISPATCH_TEST_PG_BIN]
    : existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`)
      : [];
  return dirs.some((d) => PG_SERVER_BINS.every((b) => existsSync(`${d}/${b}`)));
}

function provision() {
  const missing = [];
  if (!hasPostgresServer()) missing.push('postgresql');
  if (!process.env.DISPATCH_TEST_NATS_URL && !has('nats-server')) missing.push('nats-server');
  if (!has('promtool')) missing.push('prometheus');
  // test/console.test.ts drives the operator console in headless Chromium (never skipped).
  if (!process.env.DISPATCH_TEST_CHROMIUM && !has('chromium')) missing.push('chromium');
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(
      `npm test needs: ${missing.join(', ')}. Install them with: sudo apt-get install -y ${missing.join(' ')}` +
        ' (or set DISPATCH_TEST_NATS_URL to a running nats-server with JetStream, DISPATCH_TEST_PG_BIN to the directory of initdb, pg_ctl and pg_basebackup).',
    );
    process.exit(1);
  }
  console.log(`installing ${missing.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`apt-get install ${missing.join(' ')} failed`);
    process.exit(1);
  }
}

// Each runs to completion with its output captured: a pass prints one line, a failure prints the
// whole output again just before the closing line, where it is seen.
const CHECKS = [
  { name: 'tsc --noEmit', cmd: ['tsc', '--noEmit', '-p', 'tsconfig.json'] },
  { name: 'eslint', cmd: ['eslint'] },
  { name: 'prettier --check', cmd: ['prettier', '--check', '.'] },
];

function runChecks() {
  const failures = [];
  for (const c of CHECKS) {
    const started = process.hrtime.bigint();
    const r = spawnSync('npx', ['--no-install', ...c.cmd], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const seconds = (Number(process.hrtime.bigint() - started) / 1e9).toFixed(1);
    const ok = r.status === 0;
    console.log(`${ok ? '✓' : '×'} ${c.name} (${seconds} s)`);
    if (!ok) failures.push({ ...c, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trimEnd() });
  }
  return { passed: CHECKS.length - failures.length, failures };
}

provision();
const vitestArgs = process.argv.slice(2);
const checks = vitestArgs.length === 0 ? runChecks() : { passed: 0, failures: [] };
if (vitestArgs.length > 0) console.log('static checks skipped: vitest arguments given');

rmSync(REPORT, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${REPORT}`, ...vitestArgs];
const run = spawnSync('npx', args, { stdio: 'inherit' });

let passed = checks.passed;
let failed = checks.failures.length;
if (existsSync(REPORT)) {
  const report = JSON.parse(readFileSync(REPORT, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  // A file that failed to load has no tests but counts as a failure.
  const brokenFiles = (report.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  failed += brokenFiles;
}
for (const f of checks.failures) console.log(`\n× ${f.name} failed:\n${f.output}`);
if (checks.failures.length > 0) console.log('');
console.log(`${passed} passed, ${failed} failed`);
process.exit(run.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
