// What one acknowledged JetStream publish costs this process: `js.publish()` of @nats-io/jetstream
// (a request object and timer per message) against the relay's AckPublisher (src/events/publisher.ts:
// pipelined publishes, acks over one inbox subscription), N in parallel, on a private nats-server.
// Prints wall time and process CPU (user + system, all threads) per message.
//   npx tsx scripts/nats-probe.ts
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pino from 'pino';
import { AckPublisher } from '../src/events/publisher.js';
import { ensureTaskStream } from '../src/events/stream.js';
import { startNatsServer } from '../test/helpers/nats-server.js';

const srv = await startNatsServer();
const nc = await connect({ servers: srv.url, noAsyncTraces: true });
await ensureTaskStream(nc, pino({ level: 'silent' }), 24);
const js = jetstream(nc, { timeout: 5000 });
const own = new AckPublisher(nc, 5000);
const body = JSON.stringify({ id: 'x', data: { task: { title: 'a'.repeat(600) } } });
const publishers: Record<string, (subject: string, id: string) => Promise<unknown>> = {
  'js.publish': (subject, id) => js.publish(subject, body, { msgID: id }),
  AckPublisher: (subject, id) => own.publish(subject, body, id),
};
for (const [name, publish] of Object.entries(publishers)) {
  for (const n of [50, 300, 1000, 1000]) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => publish(`swarm.task.${i}.created`, `${name}-${n}-${i}-${t0}`)));
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    console.log(
      `${name.padEnd(12)} ${String(n).padStart(4)} in parallel: ${((t * 1000) / n).toFixed(0).padStart(4)} µs/msg wall, ${((c.user + c.system) / n).toFixed(0).padStart(4)} µs/msg CPU`,
    );
  }
}
own.close();
await nc.close();
await srv.stop();
