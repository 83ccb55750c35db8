// Child process of dispatch.ts: Dispatch's simulated worker agents (lib/workers.ts) in a process
// of their own, as each peer's worker runs in its own (peer-worker.ts). They timestamp what they
// hear where they hear it, so a busy producer in the parent (its open loop, its HTTP client) delays
// no notification time — the same footing as the peers' workers.
//   argv: <nats url> <api url>[,<api url>…] <nats|poll>
// Messages out: {type:'ready', pid}, {type:'seen', a:[bench_i, receivedAt, assignedAt|NaN, …],
// c:[bench_i, completedAt, …] (assignedAt -1: none), n: completed so far, f: failed reports, r: [[status, count], …]}.
// Messages in: {type:'stop'} close and exit.
import { reportUntilStopped } from './lib/child.js';
import { startWorkers } from './lib/workers.js';

const [natsUrl, apiUrls, mode] = process.argv.slice(2);
if (!natsUrl || !apiUrls || !process.send) {
  console.error('usage: (forked by dispatch.ts) dispatch-worker.ts <nats url> <api url,…> [nats|poll]');
  process.exit(2);
}
const send = (m: unknown) => process.send!(m);
let assigned: number[] = [];
let completed: number[] = [];
const index = (task: Record<string, any>): number | undefined => (typeof task.context?.bench_i === 'number' ? task.context.bench_i : undefined);

const workers = await startWorkers({
  mode: mode === 'poll' ? 'poll' : 'nats',
  natsUrl,
  apiUrl: apiUrls.split(','),
  onAssigned: (e) => {
    const i = index(e.task);
    if (i !== undefined) assigned.push(i, e.receivedAt, e.task.assigned_at ? Date.parse(e.task.assigned_at) : -1);
  },
  onCompleted: (e, at) => {
    const i = index(e.task);
    if (i !== undefined) completed.push(i, at);
  },
});
reportUntilStopped(
  () => {
    send({ type: 'seen', a: assigned, c: completed, n: workers.completed, f: workers.completeFailures, r: [...workers.refusals] });
    assigned = [];
    completed = [];
  },
  () => workers.close(),
);
send({ type: 'ready', pid: process.pid });
