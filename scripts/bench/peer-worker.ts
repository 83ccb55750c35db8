// Child process of peers.ts: the worker side of one peer (graphile-worker or pg-boss) with 10
// no-op handlers and the library's defaults otherwise. It reports, over IPC, the wall-clock
// time each job's handler started (payload {i}); the parent holds the enqueue times.
//   argv: <peer> <database url>
// Messages in: {type:'go'} start working, {type:'stop'} stop gracefully and exit.
// Messages out: {type:'ready', pid}, {type:'starts', s:[i, t, i, t, …]}, {type:'stopped'}.
import { Logger, run, type Runner } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { wallMs } from './lib/latency.js';

export const CONCURRENCY = 10;
export const QUEUE = 'noop';

const [peer, url] = process.argv.slice(2);
if (!peer || !url || !process.send) {
  console.error('usage: (forked by peers.ts) peer-worker.ts <graphile-worker|pg-boss|pg-boss-tuned> <url>');
  process.exit(2);
}
const send = (m: unknown) => process.send!(m);

let buffer: number[] = [];
const started = (i: number) => {
  buffer.push(i, wallMs());
};
const flush = setInterval(() => {
  if (buffer.length) {
    send({ type: 'starts', s: buffer });
    buffer = [];
  }
}, 25);

let stopWorker: () => Promise<void> = async () => {};

async function go(): Promise<void> {
  if (peer === 'graphile-worker') {
    const quiet = new Logger(() => () => {});
    const runner: Runner = await run({
      connectionString: url,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      logger: quiet,
      taskList: {
        [QUEUE]: async (payload) => {
          started((payload as { i: number }).i);
        },
      },
    });
    stopWorker = () => runner.stop();
  } else if (peer === 'pg-boss' || peer === 'pg-boss-tuned') {
    // pg-boss polls (default every 2 s, one job per fetch per worker). The tuned variant polls at
    // its minimum, 0.5 s, and fetches up to 20 jobs per worker: 10 × 20 / 0.5 s = 400 jobs/s.
    const workOpts = peer === 'pg-boss-tuned' ? { pollingIntervalSeconds: 0.5, batchSize: 20 } : {};
    const boss = new PgBoss({ connectionString: url });
    boss.on('error', (err) => console.error('[pg-boss]', err.message));
    await boss.start();
    await boss.createQueue(QUEUE);
    for (let k = 0; k < CONCURRENCY; k++) {
      await boss.work<{ i: number }>(QUEUE, workOpts, async (jobs) => {
        for (const j of jobs) started(j.data.i);
      });
    }
    stopWorker = () => boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  } else {
    throw new Error(`unknown peer ${peer}`);
  }
}

process.on('message', (m: { type: string }) => {
  if (m.type === 'go') {
    go().then(
      () => send({ type: 'going' }),
      (err) => {
        console.error(`[${peer}] failed to start:`, err);
        process.exit(1);
      },
    );
  } else if (m.type === 'stop') {
    void (async () => {
      await stopWorker().catch((err) => console.error(`[${peer}] stop:`, err));
      clearInterval(flush);
      if (buffer.length) send({ type: 'starts', s: buffer });
      send({ type: 'stopped' });
      setTimeout(() => process.exit(0), 50);
    })();
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
