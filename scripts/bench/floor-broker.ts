// Child process of floor.ts: the floor — the least a broker built from Dispatch's own parts can do
// for one lifecycle, with none of its logic. No validation beyond JSON, no planning, no events
// stored, no outbox, no metrics, no versions: just what the contract's lifecycle cannot do without.
//   broker: POST /tasks → one INSERT (the task, assigned to a worker agent, one commit) → its
//           `created` and `assigned` events published to JetStream with Dispatch's own publisher
//           (PubAcks awaited after the answer, as Dispatch's fast path does) → the row as JSON.
//           POST /tasks/:id/complete → one compare-and-set UPDATE (status, assignee) → `completed`
//           published → the row as JSON.
//           In a burn-down (POST /seed, then POST /go), the completion's statement also assigns
//           the freed slot's next pending task to the same agent (`for update skip locked`), the
//           least a broker can do to refill a slot: one statement, one commit, per lifecycle.
//   worker: hears `floor.task.*.assigned` on core NATS, reports the receive time to the parent,
//           and POSTs the completion over HTTP (undici, a keep-alive pool), as Dispatch's bench
//           workers do (lib/workers.ts).
//   argv: broker <database url> <nats url> | worker <nats url> <api url>
// Messages out: {type:'ready', pid, url?}; worker: {type:'seen', a:[i, receivedAt, …], c:[i, completedAt, …], n}.
// Messages in: {type:'stop'}.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import postgres from 'postgres';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Pool } from 'undici';
import { reportUntilStopped } from './lib/child.js';
import { wallMs } from './lib/latency.js';
import { AckPublisher } from '../../src/events/publisher.js';

const AGENTS = 50;
const send = (m: unknown) => process.send!(m);
const [role, a, b] = process.argv.slice(2);
if (!process.send || !a || !b || (role !== 'broker' && role !== 'worker')) {
  console.error('usage: (forked by floor.ts) floor-broker.ts broker <database url> <nats url> | worker <nats url> <api url>');
  process.exit(2);
}

interface Row {
  id: string;
  status: string;
  assignee: string;
  input: unknown;
  result: unknown;
  created_at: Date;
  updated_at: Date;
}

async function broker(databaseUrl: string, natsUrl: string): Promise<void> {
  const sql = postgres(databaseUrl, { max: 10, onnotice: () => {} });
  await sql`create table if not exists floor_tasks (
    id uuid primary key, status text not null, assignee text, input jsonb, result jsonb,
    created_at timestamptz not null, updated_at timestamptz not null)`;
  await sql`create index if not exists floor_pending on floor_tasks (created_at, id) where status = 'pending'`;
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'FLOOR', subjects: ['floor.task.>'] }).catch(() => {});
  // Dispatch's own publisher (events/publisher.ts: acks pipelined over one inbox, a turn's
  // publishes in one write), cheaper per message than the client library's js.publish.
  const publisher = new AckPublisher(nc, 5000);
  const publish = (type: string, row: Row) => {
    const envelope = JSON.stringify({ id: randomUUID(), type: `task.${type}`, time: new Date().toISOString(), data: { task: row } });
    // Deduplicated like Dispatch's events (Nats-Msg-Id); the ack is awaited, not before the answer.
    publisher.publish(`floor.task.${row.id}.${type}`, envelope, `${row.id}.${type}`).catch(() => {});
  };
  let next = 0;
  const app = Fastify({ logger: false });
  app.post('/tasks', async (req, reply) => {
    const body = req.body as { input?: unknown };
    const now = new Date();
    const [row] = await sql<Row[]>`
      insert into floor_tasks (id, status, assignee, input, created_at, updated_at)
      values (${randomUUID()}, 'assigned', ${`floor-agent-${next++ % AGENTS}`}, ${sql.json((body?.input ?? null) as never)}, ${now}, ${now})
      returning *`;
    publish('created', row!);
    publish('assigned', row!);
    return reply.code(201).send(row);
  });
  let refill = false;
  app.post('/tasks/:id/complete', async (req, reply) => {
    const { id } = req.params as { id: string };
    const body = req.body as { result?: unknown };
    const agent = String(req.headers['x-agent-id']);
    const now = new Date();
    if (!refill) {
      const [row] = await sql<Row[]>`
        update floor_tasks set status = 'completed', result = ${sql.json((body?.result ?? null) as never)}, updated_at = ${now}
        where id = ${id} and status = 'assigned' and assignee = ${agent}
        returning *`;
      if (!row) return reply.code(409).send({ error: 'conflict' });
      publish('completed', row);
      return row;
    }
    const rows = await sql<(Row & { done: boolean })[]>`
      with done as (
        update floor_tasks set status = 'completed', result = ${sql.json((body?.result ?? null) as never)}, updated_at = ${now}
        where id = ${id} and status = 'assigned' and assignee = ${agent}
        returning *
      ), next as (
        update floor_tasks set status = 'assigned', assignee = ${agent}, updated_at = ${now}
        where id = (select id from floor_tasks where status = 'pending' order by created_at, id limit 1 for update skip locked)
          and exists (select 1 from done)
        returning *
      )
      select *, true as done from done union all select *, false as done from next`;
    const row = rows.find((r) => r.done);
    if (!row) return reply.code(409).send({ error: 'conflict' });
    publish('completed', row);
    const next = rows.find((r) => !r.done);
    if (next) publish('assigned', next);
    return row;
  });
  // Burn-down: `n` pending tasks (input.i = 0…n-1), then every agent's slots filled at once.
  app.post('/seed', async (req) => {
    const { n } = req.body as { n: number };
    await sql`
      insert into floor_tasks (id, status, input, created_at, updated_at)
      select gen_random_uuid(), 'pending', jsonb_build_object('i', g, 'title', 'floor ' || g), clock_timestamp(), now()
      from generate_series(0, ${n - 1}) g`;
    await sql`vacuum analyze floor_tasks`;
    return { ok: true };
  });
  app.post('/go', async (req) => {
    const { agents, slots } = req.body as { agents: number; slots: number };
    refill = true;
    const rows = await sql<Row[]>`
      with pick as (
        select id, row_number() over (order by created_at, id) - 1 as k from floor_tasks
        where status = 'pending' order by created_at, id limit ${agents * slots}
      )
      update floor_tasks t set status = 'assigned', assignee = 'floor-agent-' || (pick.k % ${agents}), updated_at = now()
      from pick where t.id = pick.id returning t.*`;
    for (const r of rows) publish('assigned', r);
    return { assigned: rows.length };
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  process.on('message', (m: { type: string }) => {
    if (m.type !== 'stop') return;
    void (async () => {
      await app.close();
      await nc.drain().catch(() => {});
      await sql.end();
      process.exit(0);
    })();
  });
  send({ type: 'ready', pid: process.pid, url });
}

async function worker(natsUrl: string, apiUrl: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  const http = new Pool(apiUrl, { connections: 32, pipelining: 1 });
  let assigned: number[] = [];
  let completed: number[] = [];
  let n = 0;
  nc.subscribe('floor.task.*.assigned', {
    callback: (err, msg) => {
      if (err) return;
      const receivedAt = wallMs();
      const task = (msg.json() as { data: { task: Row & { input: { i: number } } } }).data.task;
      const i = task.input.i;
      assigned.push(i, receivedAt);
      void http
        .request({
          method: 'POST',
          path: `/tasks/${task.id}/complete`,
          headers: { 'x-agent-id': task.assignee, 'content-type': 'application/json' },
          body: '{"result":{"ok":true}}',
        })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode !== 200) return;
          n++;
          completed.push(i, wallMs());
        })
        .catch(() => {});
    },
  });
  await nc.flush();
  reportUntilStopped(
    () => {
      send({ type: 'seen', a: assigned, c: completed, n });
      assigned = [];
      completed = [];
    },
    async () => {
      await nc.drain().catch(() => {});
      await http.close();
    },
  );
  send({ type: 'ready', pid: process.pid });
}

await (role === 'broker' ? broker(a, b) : worker(a, b));
