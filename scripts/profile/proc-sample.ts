// Where a process's CPU goes by thread, and how many syscalls it makes, over a window of a run.
// It waits until a `node` process whose command line contains <match> has run for <after> s (the
// Dispatch process of a benchmark is `node … dist/main.js`, the floor's broker `… floor-broker.ts`;
// of several, the busiest), then reads /proc twice, <for> s apart. It prints each thread's user
// and system CPU (the main thread is the one whose id is the process's; the others are V8's
// platform workers — TurboFan's concurrent compiles, the parallel scavenger, concurrent marking —
// and libuv's pool), the read and write syscalls (/proc/<pid>/io) and the context switches, each
// per lifecycle when `--lifecycles` says how many the window held (e.g. 200/s × <for> s: choose
// <after> and <for> inside the run's load). Run it beside a benchmark:
//   npx tsx scripts/profile/proc-sample.ts --match dist/main.js --after 5 --for 8 --lifecycles 1600 &
//   npm run bench -- --skip-peers --rates 200 --window-s 12 --burndown 0 --scale 0 --skip-workflow --schedules 0 --closed 0
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLK_TCK as HZ, statFieldsOf as fieldsOf } from '../bench/lib/proc.js';

const { values } = parseArgs({
  options: {
    match: { type: 'string' },
    after: { type: 'string', default: '5' },
    for: { type: 'string', default: '8' },
    lifecycles: { type: 'string' },
    'wait-s': { type: 'string', default: '120' },
  },
});
if (!values.match) {
  console.error('usage: proc-sample.ts --match <command-line substring> [--after 5] [--for 8] [--lifecycles N] [--wait-s 120]');
  process.exit(2);
}
const match = values.match;

const read = (p: string): string | undefined => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
};

/** utime and stime, in ticks (fields 14 and 15). */
function cpuOf(stat: string): [number, number] {
  const f = fieldsOf(stat);
  return [Number(f[11]), Number(f[12])];
}

/** Of the `node` processes (not this one) whose command line contains `match` and that have run
 *  for `after` seconds, the one that has used the most CPU: a benchmark starts short-lived ones
 *  (a migration) and quieter ones (the workers' process) beside the service it measures. */
function find(after: number): number | undefined {
  const uptime = Number((read('/proc/uptime') ?? '0').split(' ')[0]);
  let busiest: { pid: number; cpu: number } | undefined;
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!pid || pid === process.pid) continue;
    if (read(`/proc/${pid}/comm`)?.trim() !== 'node') continue;
    const cmdline = read(`/proc/${pid}/cmdline`)?.split('\0').join(' ') ?? '';
    // Not this script's own launchers (npx, tsx), whose command lines hold the pattern too.
    if (!cmdline.includes(match) || cmdline.includes('proc-sample')) continue;
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) continue;
    // Field 22: the start time, in ticks since boot.
    if (uptime - Number(fieldsOf(stat)[19]) / HZ < after) continue;
    const [user, system] = cpuOf(stat);
    if (!busiest || user + system > busiest.cpu) busiest = { pid, cpu: user + system };
  }
  return busiest?.pid;
}

interface Snapshot {
  threads: Map<number, [number, number]>;
  io: Record<string, number>;
  switches: [number, number];
}

function snapshot(pid: number): Snapshot {
  const threads = new Map<number, [number, number]>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const stat = read(`/proc/${pid}/task/${t}/stat`);
    if (stat) threads.set(Number(t), cpuOf(stat));
  }
  const io = Object.fromEntries(
    (read(`/proc/${pid}/io`) ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.split(':')[0]!, Number(l.split(':')[1])]),
  );
  const status = read(`/proc/${pid}/status`) ?? '';
  const count = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { threads, io, switches: [count('voluntary_ctxt_switches'), count('nonvoluntary_ctxt_switches')] };
}

// Wait until a match has run for `after` seconds.
const after = Number(values.after);
const deadline = Date.now() + (Number(values['wait-s']) + after) * 1000;
let pid = find(after);
while (!pid && Date.now() < deadline) {
  await sleep(100);
  pid = find(after);
}
if (!pid) {
  console.error(`no node process matching ${match} ran for ${after} s`);
  process.exit(1);
}
const a = snapshot(pid);
const seconds = Number(values.for);
await sleep(seconds * 1000);
const b = snapshot(pid);

const n = values.lifecycles ? Number(values.lifecycles) : undefined;
const ms = (ticks: number) => (ticks * 1000) / HZ;
const per = (x: number, unit: string, digits = 2) => (n ? `${(x / n).toFixed(digits)} ${unit} per lifecycle` : `${x} ${unit}`);
let main: [number, number] = [0, 0];
let others: [number, number] = [0, 0];
const rows: string[] = [];
for (const [tid, [u1, s1]] of b.threads) {
  const [u0, s0] = a.threads.get(tid) ?? [0, 0];
  const d: [number, number] = [u1 - u0, s1 - s0];
  if (tid === pid) main = d;
  else {
    others = [others[0] + d[0], others[1] + d[1]];
    if (d[0] + d[1] > 0) rows.push(`  thread ${tid}: user ${ms(d[0])} ms, system ${ms(d[1])} ms`);
  }
}
console.log(`process ${pid} (${match}), ${seconds} s, from ${after} s after it started`);
console.log(`main thread: user ${ms(main[0])} ms, system ${ms(main[1])} ms (${per(ms(main[0] + main[1]), 'ms', 3)})`);
console.log(`other threads: user ${ms(others[0])} ms, system ${ms(others[1])} ms (${per(ms(others[0] + others[1]), 'ms', 3)})`);
for (const r of rows) console.log(r);
const dio = (k: string) => (b.io[k] ?? 0) - (a.io[k] ?? 0);
console.log(`syscalls: read ${per(dio('syscr'), 'calls')}, write ${per(dio('syscw'), 'calls')}`);
console.log(`context switches: voluntary ${per(b.switches[0] - a.switches[0], 'switches')}, involuntary ${per(b.switches[1] - a.switches[1], 'switches')}`);
