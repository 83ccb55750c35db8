// `npm run bench`: the peers and Dispatch against one Postgres in one run, then one table with
// each figure side by side and the ratio Dispatch/peer (for latency and RSS lower is better,
// for throughput higher is better).
//   npm run bench -- [--rates 50,200] [--window-s 10] [--burndown 20000] [--burndown-max-s 60]
//       [--peers graphile-worker,pg-boss,pg-boss-tuned] [--agents 50] [--max-concurrent 3]
//       [--scale 1000,10000,100000] [--notify nats|poll] [--json out.json] [--skip-peers] [--skip-dispatch]
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { parseArgs } from './lib/args.js';
import { startBenchPostgres } from './lib/postgres.js';
import { fmt, markdownTable, ratio } from './lib/table.js';
import { dispatchOptionsFromArgs, dispatchTable, runDispatchBench, type DispatchResults } from './dispatch.js';
import { peerOptionsFromArgs, peersTable, runPeers, type PeerResult } from './peers.js';

function hardware(pgVersion: string, settings: string): string {
  const load = execSync('cat /proc/loadavg').toString().trim().split(' ').slice(0, 3).join(' ');
  let commit = '';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    /* not a checkout */
  }
  return [
    `- CPU: ${cpus().length} × ${cpus()[0]?.model ?? '?'} (load average at start: ${load})`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node ${process.version}; ${pgVersion} (${settings}); nats-server ${natsVersion()}`,
    commit ? `- Dispatch commit: ${commit}` : '',
  ].filter(Boolean).join('\n');
}

function natsVersion(): string {
  try {
    return execSync('nats-server --version', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return '?';
  }
}

export function sideBySide(peers: PeerResult[], d: DispatchResults): string {
  const rows: Array<Array<string>> = [];
  const rates = d.rates.map((r) => r.rate);
  for (const p of peers) {
    for (const pr of p.rates) {
      const dr = d.rates.find((x) => x.rate === pr.rate);
      if (!dr) continue;
      const lbP = pr.censored > 0 ? '≥' : '';
      const lbD = dr.censored > 0 ? '≥' : '';
      rows.push([`${pr.rate}/s`, p.peer, 'start / assigned p50 ms', lbP + fmt(pr.latency.p50), lbD + fmt(dr.toAssigned.p50), ratio(dr.toAssigned.p50, pr.latency.p50)]);
      rows.push([`${pr.rate}/s`, p.peer, 'start / assigned p99 ms', lbP + fmt(pr.latency.p99), lbD + fmt(dr.toAssigned.p99), ratio(dr.toAssigned.p99, pr.latency.p99)]);
      rows.push([`${pr.rate}/s`, p.peer, 'start / worker notified p50 ms', lbP + fmt(pr.latency.p50), lbD + fmt(dr.toNotified.p50), ratio(dr.toNotified.p50, pr.latency.p50)]);
      rows.push([`${pr.rate}/s`, p.peer, 'CPU % of one core', fmt(pr.cpuPct, 0), fmt(dr.cpuPct, 0), ratio(dr.cpuPct, pr.cpuPct)]);
      rows.push([`${pr.rate}/s`, p.peer, 'peak RSS MB', fmt(pr.peakRssMb, 0), fmt(dr.peakRssMb, 0), ratio(dr.peakRssMb, pr.peakRssMb)]);
      rows.push([`${pr.rate}/s`, p.peer, 'commits per job/task', fmt(pr.commitsPerJob, 2), fmt(dr.commitsPerTask, 2), ratio(dr.commitsPerTask, pr.commitsPerJob)]);
    }
    if (p.burnDown && d.burnDown) {
      const pb = p.burnDown;
      const db = d.burnDown;
      rows.push([`burn-down`, p.peer, 'jobs|lifecycles /s', fmt(pb.jobsPerS) + (pb.capped ? ' (capped)' : ''), fmt(db.jobsPerS) + (db.capped ? ' (capped)' : ''), ratio(db.jobsPerS, pb.jobsPerS)]);
      rows.push([`burn-down`, p.peer, 'peak RSS MB', fmt(pb.peakRssMb, 0), fmt(db.peakRssMb, 0), ratio(db.peakRssMb, pb.peakRssMb)]);
      rows.push([`burn-down`, p.peer, 'commits per job/task', fmt(pb.commitsPerJob, 2), fmt(db.commitsPerTask, 2), ratio(db.commitsPerTask, pb.commitsPerJob)]);
    }
  }
  void rates;
  return markdownTable(['run', 'peer', 'figure', 'peer', 'Dispatch', 'Dispatch/peer'], rows);
}

async function main() {
  const args = parseArgs();
  const peerOpts = peerOptionsFromArgs(args);
  const dOpts = dispatchOptionsFromArgs(args);
  // One set of rates for both sides unless told otherwise.
  if (!args.get('rates')) peerOpts.rates = dOpts.rates = [50, 200, 1000];
  const pg = await startBenchPostgres();
  try {
    const hw = hardware(pg.version, pg.settings);
    console.error(hw);
    const peers = args.has('skip-peers') ? [] : await runPeers(pg, peerOpts);
    const d: DispatchResults = args.has('skip-dispatch') ? { rates: [], scale: [] } : await runDispatchBench(pg, dOpts);
    const out = [
      '## Hardware',
      hw,
      '',
      `## Peers (${peerOpts.windowMs / 1000} s windows, burn-down of ${peerOpts.burnDown})`,
      peersTable(peers),
      '',
      `## Dispatch (${dOpts.agents} agents × ${dOpts.maxConcurrent}, workers notified by ${dOpts.notify === 'nats' ? 'NATS' : 'polling the API'}, tick ${dOpts.tickMs} ms)`,
      dispatchTable(d),
      '',
      '## Side by side',
      sideBySide(peers, d),
    ].join('\n');
    console.log(out);
    const json = args.get('json');
    if (json) writeFileSync(json, JSON.stringify({ hardware: hw, postgres: pg.version, settings: pg.settings, peers, dispatch: d }, null, 2));
  } finally {
    await pg.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
