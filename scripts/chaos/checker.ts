// The chaos suite's invariant checker. It reads the database (tasks, the task_events outbox) and,
// when there is one, the JetStream stream that captures `swarm.task.>`, and counts violations:
//   lost          an acknowledged create (201) whose task does not exist
//   duplicated    a task assigned while its previous attempt was still active (two agents at once)
//   breaches      an agent holding more than max_concurrent_per_agent active tasks (replayed from
//                 the events in commit order, plus live samples taken during the run)
//   ev. missing   a task whose events do not account for its state: not exactly one `created`,
//                 `assigned` events ≠ attempts, a completed task without exactly one `completed`,
//                 an active task whose replayed assignee is not its assignee
//   ev. dup       the same event id twice in the outbox
//   NATS missing  an outbox event not in the stream; NATS dup: an event id more than once in it
//   NATS order    a task whose events are in the stream in another order than in the outbox
//   unfinished    acknowledged tasks not terminal after the drain
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Sql } from '../../src/store/db.js';
import { natsServers } from '../../src/events/nats.js';

/** Events that end an attempt (the task is no longer active on its agent). */
const ENDS_ATTEMPT = new Set(['completed', 'failed', 'retry', 'timeout', 'cancelled', 'reassigned']);
const TERMINAL = new Set(['completed', 'failed', 'timed_out', 'cancelled']);

export interface Verdict {
  tasks: number;
  lost: number;
  duplicated: number;
  breaches: number;
  eventsMissing: number;
  eventsDuplicated: number;
  natsMissing: number | null;
  natsDuplicated: number | null;
  /** Tasks whose events the stream holds in another order than the outbox's (first copies). */
  natsOutOfOrder: number | null;
  unfinished: number;
  notes: string[];
}

interface EventRow {
  seq: number;
  id: string;
  task_id: string;
  type: string;
  agent: string | null;
  kind: string;
}

export async function checkInvariants(sql: Sql, o: { acknowledged: Set<string>; limit: number; liveBreaches: number; natsUrl?: string }): Promise<Verdict> {
  const notes: string[] = [];
  const tasks = await sql<{ id: string; status: string; assignee: string | null; attempt: number }[]>`select id, status, assignee, attempt from tasks`;
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const events = await sql<EventRow[]>`
    select seq, id::text as id, task_id::text as task_id, type, envelope->'data'->>'agent' as agent, kind
    from task_events order by seq`;

  let lost = 0;
  let unfinished = 0;
  for (const id of o.acknowledged) {
    const t = byId.get(id);
    if (!t) lost++;
    else if (!TERMINAL.has(t.status)) unfinished++;
  }

  const ids = new Set<string>();
  let eventsDuplicated = 0;
  for (const e of events) {
    if (ids.has(e.id)) eventsDuplicated++;
    ids.add(e.id);
  }

  // Replay in commit order: who holds each task, how many each agent holds.
  const active = new Map<string, string>();
  const perAgent = new Map<string, number>();
  const perTask = new Map<string, { created: number; assigned: number; completed: number }>();
  let duplicated = 0;
  let breaches = 0;
  for (const e of events) {
    const c = perTask.get(e.task_id) ?? { created: 0, assigned: 0, completed: 0 };
    perTask.set(e.task_id, c);
    if (e.type === 'created') c.created++;
    if (e.type === 'completed') c.completed++;
    if (e.type === 'assigned') {
      c.assigned++;
      const prev = active.get(e.task_id);
      if (prev !== undefined) {
        duplicated++;
        perAgent.set(prev, (perAgent.get(prev) ?? 1) - 1);
      }
      const agent = e.agent ?? '?';
      active.set(e.task_id, agent);
      const n = (perAgent.get(agent) ?? 0) + 1;
      perAgent.set(agent, n);
      if (n > o.limit) breaches++;
    } else if (ENDS_ATTEMPT.has(e.type)) {
      const prev = active.get(e.task_id);
      if (prev !== undefined) {
        active.delete(e.task_id);
        perAgent.set(prev, (perAgent.get(prev) ?? 1) - 1);
      }
    }
  }

  let eventsMissing = 0;
  const explain = (msg: string) => {
    eventsMissing++;
    if (notes.length < 5) notes.push(msg);
  };
  for (const t of tasks) {
    const c = perTask.get(t.id) ?? { created: 0, assigned: 0, completed: 0 };
    if (c.created !== 1) explain(`task ${t.id}: ${c.created} created events`);
    else if (c.assigned !== t.attempt) explain(`task ${t.id}: ${c.assigned} assigned events for ${t.attempt} attempts`);
    else if (t.status === 'completed' && c.completed !== 1) explain(`task ${t.id}: completed with ${c.completed} completed events`);
    else if ((t.status === 'assigned' || t.status === 'running') && active.get(t.id) !== t.assignee) {
      explain(`task ${t.id}: ${t.status} on ${t.assignee} but events say ${active.get(t.id) ?? 'nobody'}`);
    }
  }

  let natsMissing: number | null = null;
  let natsDuplicated: number | null = null;
  let natsOutOfOrder: number | null = null;
  if (o.natsUrl) {
    const r = await streamIds(o.natsUrl, notes).catch((err) => {
      notes.push(`NATS stream not read: ${(err as Error).message}`);
      return undefined;
    });
    if (r) {
      natsMissing = 0;
      natsDuplicated = 0;
      // The task events' stream only: swarm-dlq entries (kind dlq, e.g. a timed-out task's) go to dlq.>.
      const missing = events.filter((e) => e.kind === 'task' && !r.counts.has(e.id));
      natsMissing = missing.length;
      if (missing.length > 0)
        notes.push(
          `not in the stream: ${missing
            .slice(0, 5)
            .map((e) => `${e.type} of ${e.task_id} (seq ${e.seq})`)
            .join(', ')}`,
        );
      for (const n of r.counts.values()) if (n > 1) natsDuplicated += n - 1;
      natsOutOfOrder = outOfOrder(
        events.filter((e) => e.kind === 'task'),
        r.order,
      );
      if (natsOutOfOrder > 0) notes.push(`${natsOutOfOrder} task(s) out of order in the stream`);
    }
  }

  return {
    tasks: o.acknowledged.size,
    lost,
    duplicated,
    breaches: breaches + o.liveBreaches,
    eventsMissing,
    eventsDuplicated,
    natsMissing,
    natsDuplicated,
    natsOutOfOrder,
    unfinished,
    notes,
  };
}

/** Tasks whose events (first copies) come in the stream in another order than by outbox seq. */
export function outOfOrder(events: Array<{ id: string; task_id: string }>, streamOrder: string[]): number {
  const position = new Map<string, number>();
  streamOrder.forEach((id, i) => {
    if (!position.has(id)) position.set(id, i);
  });
  const last = new Map<string, number>();
  const bad = new Set<string>();
  for (const e of events) {
    const at = position.get(e.id);
    if (at === undefined) continue; // missing: counted apart
    if (at < (last.get(e.task_id) ?? -1)) bad.add(e.task_id);
    last.set(e.task_id, at);
  }
  return bad.size;
}

/**
 * Envelope id → how many times it is in the stream that captures swarm.task.>, and the ids in
 * stream order. Tried three times: a cluster that just lost a server may time out a request.
 */
async function streamIds(natsUrl: string, notes: string[]): Promise<{ counts: Map<string, number>; order: string[] }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readStreamIds(natsUrl);
    } catch (err) {
      if (attempt >= 3) throw err;
      notes.push(`reading the stream, attempt ${attempt} failed: ${(err as Error).message}`);
    }
  }
}

/**
 * Every message of the stream by sequence number (the stream's own get-message API, answered by its
 * leader), not through a consumer: right after a cluster lost a server, creating even an ephemeral
 * consumer can time out again and again (it may be placed on the dead server), where a get does not.
 */
async function readStreamIds(natsUrl: string): Promise<{ counts: Map<string, number>; order: string[] }> {
  let step = 'connect';
  const nc = await natsConnect({ servers: natsServers(natsUrl), timeout: 5000 });
  try {
    step = 'find the stream';
    const jsm = await jetstreamManager(nc);
    const name = await jsm.streams.find('swarm.task.>');
    step = `read ${name}'s info`;
    const { first_seq: first, last_seq: last } = (await jsm.streams.info(name)).state;
    step = `get the messages of ${name}`;
    const ids: string[] = [];
    const PARALLEL = 32;
    for (let from = first; from <= last && last > 0; from += PARALLEL) {
      const seqs = Array.from({ length: Math.min(PARALLEL, last - from + 1) }, (_, k) => from + k);
      const msgs = await Promise.all(seqs.map((seq) => jsm.streams.getMessage(name, { seq }).catch(() => null)));
      for (const m of msgs) {
        if (!m) continue; // deleted (limits), or never there
        let id = m.header?.get('Nats-Msg-Id') || '';
        if (!id) {
          try {
            id = (m.json() as { id?: string }).id ?? '';
          } catch {
            id = '';
          }
        }
        ids.push(id);
      }
    }
    const seen = new Map<string, number>();
    for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
    return { counts: seen, order: ids };
  } catch (err) {
    throw new Error(`${step} (${nc.getServer()}): ${(err as Error).message}`);
  } finally {
    await nc.close();
  }
}

/** Live sample: agents over the limit right now (from the tasks table). */
export async function sampleBreaches(sql: Sql, limit: number): Promise<number> {
  const rows = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select assignee from tasks where status in ('assigned', 'running', 'input_required') group by assignee having count(*) > ${limit}) x`;
  return rows[0]?.n ?? 0;
}
