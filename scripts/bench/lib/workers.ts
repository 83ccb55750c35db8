// Simulated worker agents: they learn of their assignments from NATS (`swarm.task.*.assigned`,
// CONTRACT §6), or in `poll` mode from GET /api/v1/tasks?status=assigned (one shared poller, every
// `pollMs`), and report each task complete over HTTP as the assigned agent.
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Pool } from 'undici';
import { wallMs } from './latency.js';

export interface AssignedEvent {
  taskId: string;
  agent: string;
  task: Record<string, any>;
  receivedAt: number;
}

export interface Workers {
  completed: number;
  completeFailures: number;
  refusals: Map<number, number>;
  close(): Promise<void>;
}

export async function startWorkers(o: {
  /** NATS (default) or polling the API. */
  mode?: 'nats' | 'poll';
  pollMs?: number;
  natsUrl: string;
  apiUrl: string;
  onAssigned?: (e: AssignedEvent) => void;
  onCompleted?: (e: AssignedEvent, at: number) => void;
  /** Return false to leave the task alone (not completed). */
  shouldComplete?: (e: AssignedEvent) => boolean;
  connections?: number;
}): Promise<Workers> {
  const http = new Pool(o.apiUrl, { connections: o.connections ?? 32, pipelining: 1 });
  if (o.mode === 'poll') return pollWorkers(o, http);
  const nc: NatsConnection = await connect({ servers: o.natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const w: Workers = {
    completed: 0,
    completeFailures: 0,
    refusals: new Map(),
    close: async () => {
      await sub.drain().catch(() => {});
      await nc.close().catch(() => {});
      await http.close().catch(() => {});
    },
  };
  const complete = completer(w, http, o.onCompleted);
  const sub: Subscription = nc.subscribe('swarm.task.*.assigned', {
    callback: (err, msg) => {
      if (err) return;
      const receivedAt = wallMs();
      let env: any;
      try {
        env = msg.json();
      } catch {
        return;
      }
      const task = env?.data?.task;
      const agent = env?.data?.agent ?? task?.assignee;
      if (!task?.id || !agent) return;
      const e: AssignedEvent = { taskId: task.id, agent, task, receivedAt };
      o.onAssigned?.(e);
      if (o.shouldComplete && !o.shouldComplete(e)) return;
      void complete(e);
    },
  });
  await nc.flush();
  return w;
}

function completer(w: Workers, http: Pool, onCompleted?: (e: AssignedEvent, at: number) => void) {
  return async (e: AssignedEvent) => {
    try {
      const res = await http.request({
        method: 'POST',
        path: `/api/v1/tasks/${e.taskId}/complete`,
        headers: { 'x-agent-id': e.agent, 'content-type': 'application/json' },
        body: '{"result":{"ok":true}}',
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      await res.body.dump();
      if (res.statusCode === 200) {
        w.completed++;
        onCompleted?.(e, wallMs());
      } else {
        w.refusals.set(res.statusCode, (w.refusals.get(res.statusCode) ?? 0) + 1);
      }
    } catch {
      w.completeFailures++;
    }
  };
}

/** One poller for all agents: every `pollMs`, the assigned tasks not seen yet. */
function pollWorkers(o: Parameters<typeof startWorkers>[0], http: Pool): Workers {
  let stopped = false;
  const seen = new Set<string>();
  const w: Workers = {
    completed: 0,
    completeFailures: 0,
    refusals: new Map(),
    close: async () => {
      stopped = true;
      await loop;
      await http.close().catch(() => {});
    },
  };
  const complete = completer(w, http, o.onCompleted);
  const loop = (async () => {
    while (!stopped) {
      try {
        const res = await http.request({ method: 'GET', path: '/api/v1/tasks?status=assigned&limit=500', headers: { 'x-agent-id': 'bench-poller' }, headersTimeout: 10_000, bodyTimeout: 10_000 });
        const body = (await res.body.json()) as { tasks?: Array<Record<string, any>> };
        const receivedAt = wallMs();
        for (const task of body.tasks ?? []) {
          if (seen.has(task.id) || !task.assignee) continue;
          seen.add(task.id);
          const e: AssignedEvent = { taskId: task.id, agent: task.assignee, task, receivedAt };
          o.onAssigned?.(e);
          if (o.shouldComplete && !o.shouldComplete(e)) continue;
          void complete(e);
        }
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, o.pollMs ?? 20));
    }
  })();
  return w;
}
