import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import pino from 'pino';
import { startNatsServer } from '../test/helpers/nats-server.js';
import { ensureTaskStream } from '../src/events/stream.js';
const srv = await startNatsServer();
const nc = await connect({ servers: srv.url, noAsyncTraces: true });
await ensureTaskStream(nc, pino({ level: 'silent' }), 24);
const js = jetstream(nc, { timeout: 5000 });
const body = JSON.stringify({ id: 'x', data: { task: { title: 'a'.repeat(600) } } });
for (const n of [1, 50, 300, 300, 1000]) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => js.publish(`swarm.task.${i}.created`, body, { msgID: `${n}-${i}-${Math.random()}` })));
  const t = performance.now() - t0; const c = process.cpuUsage(c0);
  console.log(`${n} parallel publishes: ${t.toFixed(1)} ms, ${(t * 1000 / n).toFixed(0)} µs/msg wall, ${((c.user + c.system) / n).toFixed(0)} µs/msg CPU`);
}
{ const n = 200; const t0 = performance.now(); for (let i = 0; i < n; i++) await js.publish(`swarm.task.s${i}.created`, body, { msgID: `seq-${i}-${Math.random()}` }); console.log(`sequential: ${((performance.now() - t0) * 1000 / n).toFixed(0)} µs/msg`); }
await nc.close(); await srv.stop();
