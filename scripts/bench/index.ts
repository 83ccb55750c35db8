// `npm run bench`: the peers and Dispatch against one Postgres in one run, then one table with
// each figure side by side and the ratio Dispatch/peer (for latency and RSS lower is better,
// for throughput higher is better).
//   npm run bench -- [--rates 50,200] [--window-s 10] [--burndown 20000] [--burndown-max-s 60]
//       [--peers graphile-worker,pg-boss,pg-boss-tuned] [--agents 50] [--max-concurrent 3]
//       [--scale 1000,10000,100000] [--notify nats|poll] [--json out.json] [--skip-peers] [--skip-dispatch]
//       [--workflow-rate 20] [--workflow-s 30] [--workflow-plain-s 10] [--skip-workflow] [--workflow-only] [--help]
// The workflow scenario (scripts/bench/workflow.ts) is Dispatch only: no peer has workflows, so its
// rows in the side-by-side table have no peer figure. `--workflow-only` skips the peers too.
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { parseArgs } from './lib/args.js';
import { startBenchPostgres } from './lib/postgres.js';
import { fmt, markdownTable, ratio } from './lib/table.js';
import { DISPATCH_USAGE, dispatchOptionsFromArgs, dispatchTables, runDispatchBench, type DispatchResults } from './dispatch.js';
import { peerOptionsFromArgs, peersTable, runPeers, type PeerResult } from './peers.js';
import type { BoxCpu } from './lib/proc.js';

/** CPU per job/lifecycle across each system's processes (its Postgres server's included). */
function boxRow(run: string, peer: string, p: BoxCpu, d: BoxCpu): string[] {
  return [run, peer, 'CPU ms per job/lifecycle, whole box', fmt(p.msPerLifecycle, 2), fmt(d.msPerLifecycle, 2), ratio(d.msPerLifecycle, p.msPerLifecycle)];
}

function hardware(pgVersion: string, settings: string): string {
  const load = execSync('cat /proc/loadavg').toString().trim().split(' ').slice(0, 3).join(' ');
  let commit = '';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    /* not a checkout */
  }
  return [
    `- CPU: ${cpus().length} × ${cpus()[0]?.model ?? '?'} (load average at start: ${load})`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node ${process.version}; ${pgVersion} (${settings}); nats-server ${natsVersion()}`,
    commit ? `- Dispatch commit: ${commit}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

function natsVersion(): string {
  try {
    return execSync('nats-server --version', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
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
      // The peer's one latency (a job's start) against each of Dispatch's two (assigned, worker notified).
      for (const [what, dLat] of [
        ['assigned', dr.toAssigned],
        ['worker notified', dr.toNotified],
      ] as const) {
        for (const q of ['p50', 'p99'] as const) {
          rows.push([`${pr.rate}/s`, p.peer, `start / ${what} ${q} ms`, lbP + fmt(pr.latency[q]), lbD + fmt(dLat[q]), ratio(dLat[q], pr.latency[q])]);
        }
      }
      rows.push([`${pr.rate}/s`, p.peer, 'CPU % of one core', fmt(pr.cpuPct, 0), fmt(dr.cpuPct, 0), ratio(dr.cpuPct, pr.cpuPct)]);
      if (pr.box && dr.box) rows.push(boxRow(`${pr.rate}/s`, p.peer, pr.box, dr.box));
      rows.push([`${pr.rate}/s`, p.peer, 'peak RSS MB', fmt(pr.peakRssMb, 0), fmt(dr.peakRssMb, 0), ratio(dr.peakRssMb, pr.peakRssMb)]);
      rows.push([
        `${pr.rate}/s`,
        p.peer,
        'commits per job/task',
        fmt(pr.commitsPerJob, 2),
        fmt(dr.commitsPerTask, 2),
        ratio(dr.commitsPerTask, pr.commitsPerJob),
      ]);
    }
    if (p.burnDown && d.burnDown) {
      const pb = p.burnDown;
      const db = d.burnDown;
      rows.push([
        `burn-down`,
        p.peer,
        'jobs|lifecycles /s',
        fmt(pb.jobsPerS) + (pb.capped ? ' (capped)' : ''),
        fmt(db.jobsPerS) + (db.capped ? ' (capped)' : ''),
        ratio(db.jobsPerS, pb.jobsPerS),
      ]);
      if (pb.box && db.box) rows.push(boxRow('burn-down', p.peer, pb.box, db.box));
      rows.push([`burn-down`, p.peer, 'peak RSS MB', fmt(pb.peakRssMb, 0), fmt(db.peakRssMb, 0), ratio(db.peakRssMb, pb.peakRssMb)]);
      rows.push([`burn-down`, p.peer, 'commits per job/task', fmt(pb.commitsPerJob, 2), fmt(db.commitsPerTask, 2), ratio(db.commitsPerTask, pb.commitsPerJob)]);
    }
  }
  void rates;
  const w = d.workflow;
  if (w) {
    const run = `workflow ${w.runRate}/s`;
    const none = 'none (no peer has workflows)';
    const lb = w.censored > 0 ? '≥' : '';
    const row = (figure: string, v: string) => rows.push([run, none, figure, '–', v, '–']);
    row('run created → d assigned p50 ms', lb + fmt(w.toLastAssigned.p50));
    row('run created → d assigned p99 ms', lb + fmt(w.toLastAssigned.p99));
    row('b/c completed → d assigned p50 ms', fmt(w.join.p50));
    row('b/c completed → d assigned p99 ms', fmt(w.join.p99));
    row('a completed → b/c assigned p50 ms', fmt(w.fanOut.p50));
    row('a completed → b/c assigned p99 ms', fmt(w.fanOut.p99));
    for (const c of [w.withDependents, w.inRunNoDependents, w.plain?.cost]) {
      if (!c) continue;
      row(`statements per completion, ${c.kind}`, fmt(c.statementsPerCompletion, 2));
      row(`Postgres exec ms per completion, ${c.kind}`, fmt(c.pgMsPerCompletion, 3));
    }
    row('commits per run (4 tasks)', fmt(w.commitsPerRun, 2));
    row('CPU % of one core', fmt(w.cpuPct, 0));
  }
  return markdownTable(['run', 'peer', 'figure', 'peer', 'Dispatch', 'Dispatch/peer'], rows);
}

async function main() {
  const args = parseArgs();
  if (args.has('help')) {
    console.log(
      'npm run bench -- [--skip-peers] [--skip-dispatch] [--peers graphile-worker,pg-boss,pg-boss-tuned] [peer and Dispatch options]\n' +
        'Dispatch options (also npm run bench:dispatch):\n' +
        DISPATCH_USAGE,
    );
    return;
  }
  const peerOpts = peerOptionsFromArgs(args);
  const dOpts = dispatchOptionsFromArgs(args);
  // One set of rates for both sides unless told otherwise.
  if (!args.get('rates')) peerOpts.rates = dOpts.rates = [50, 200, 1000];
  const pg = await startBenchPostgres();
  try {
    const hw = hardware(pg.version, pg.settings);
    console.error(hw);
    const peers = args.has('skip-peers') || dOpts.workflowOnly || dOpts.retentionOnly ? [] : await runPeers(pg, peerOpts);
    const d: DispatchResults = args.has('skip-dispatch') ? { rates: [], scale: [] } : await runDispatchBench(pg, dOpts);
    const out = [
      '## Hardware',
      hw,
      '',
      ...(peers.length ? [`## Peers (${peerOpts.windowMs / 1000} s windows, burn-down of ${peerOpts.burnDown})`, peersTable(peers), ''] : []),
      `## Dispatch (${dOpts.agents} agents × ${dOpts.maxConcurrent}, workers notified by ${dOpts.notify === 'nats' ? 'NATS' : 'polling the API'}, tick ${dOpts.tickMs} ms)`,
      dispatchTables(d),
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
