// Simulated worker agents: they learn of their assignments from NATS (`swarm.task.*.assigned`,
// CONTRACT §6), or in `poll` mode from GET /api/v1/tasks?status=assigned (one shared poller, every
// `pollMs`), and report each task complete over HTTP as the assigned agent.
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { MultiHttp } from './multi-http.js';
import { natsServers } from '../../../src/events/nats.js';
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
  /** The workers' own process, when they run in one (startChildWorkers). */
  pid?: number;
  close(): Promise<void>;
}

export async function startWorkers(o: {
  /** NATS (default) or polling the API. */
  mode?: 'nats' | 'poll';
  pollMs?: number;
  natsUrl: string;
  /** One API URL, or several replicas (requests fail over between them). */
  apiUrl: string | string[];
  onAssigned?: (e: AssignedEvent) => void;
  onCompleted?: (e: AssignedEvent, at: number) => void;
  /** Return false to leave the task alone (not completed). */
  shouldComplete?: (e: AssignedEvent) => boolean;
  connections?: number;
}): Promise<Workers> {
  const http = new MultiHttp(Array.isArray(o.apiUrl) ? o.apiUrl : [o.apiUrl], o.connections ?? 32);
  if (o.mode === 'poll') return pollWorkers(o, http);
  const nc: NatsConnection = await connect({ servers: natsServers(o.natsUrl), maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const w: Workers = {
    completed: 0,
    completeFailures: 0,
    refusals: new Map(),
    close: async () => {
      await safety.stop();
      await sub.drain().catch(() => {});
      await nc.close().catch(() => {});
      await http.close().catch(() => {});
    },
  };
  const handle = assignmentHandler(w, http, o);

  // Core NATS does not replay what was published while this connection was reconnecting (e.g.
  // nats-server restarted), so a worker also looks at the API once a second, as a real one would.
  const safety = pollLoop(http, 1000, handle);
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
      handle({ taskId: task.id, agent, task, receivedAt });
    },
  });
  await nc.flush();
  return w;
}

/** Completes a task; resolves false when the report should be tried again (5xx, no answer). */
/**
 * What a worker does with a notice of assignment, whichever way it heard: one notice per
 * assignment (a task re-assigned to another agent is news again), then complete it as the
 * assignee. A report that failed (5xx, no answer) is forgotten so the next notice retries it.
 */
function assignmentHandler(w: Workers, http: MultiHttp, o: Parameters<typeof startWorkers>[0]): (e: AssignedEvent) => void {
  const seen = new Set<string>();
  const complete = async (e: AssignedEvent): Promise<boolean> => {
    try {
      const res = await http.request(
        'POST',
        `/api/v1/tasks/${e.taskId}/complete`,
        { 'x-agent-id': e.agent, 'content-type': 'application/json' },
        '{"result":{"ok":true}}',
      );
      if (res.status === 200) {
        w.completed++;
        o.onCompleted?.(e, wallMs());
        return true;
      }
      w.refusals.set(res.status, (w.refusals.get(res.status) ?? 0) + 1);
      return res.status < 500;
    } catch {
      w.completeFailures++;
      return false;
    }
  };
  return (e) => {
    const key = `${e.taskId}:${e.agent}:${e.task.assigned_at}`;
    if (seen.has(key)) return;
    seen.add(key);
    o.onAssigned?.(e);
    if (o.shouldComplete && !o.shouldComplete(e)) return;
    void complete(e).then((done) => {
      if (!done) seen.delete(key);
    });
  };
}

/** Every `everyMs`, the assigned tasks from the API (one request for all agents). */
function pollLoop(http: MultiHttp, everyMs: number, handle: (e: AssignedEvent) => void): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      try {
        const res = await http.request('GET', '/api/v1/tasks?status=assigned&limit=500', { 'x-agent-id': 'bench-poller' });
        const body = (res.status === 200 ? res.body : {}) as { tasks?: Array<Record<string, any>> };
        const receivedAt = wallMs();
        for (const task of body.tasks ?? []) {
          if (task.assignee) handle({ taskId: task.id, agent: task.assignee, task, receivedAt });
        }
      } catch {
        /* not up yet, or restarting */
      }
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, everyMs);
      });
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

/** Poll mode: one poller for all agents, every `pollMs`. */
function pollWorkers(o: Parameters<typeof startWorkers>[0], http: MultiHttp): Workers {
  const w: Workers = {
    completed: 0,
    completeFailures: 0,
    refusals: new Map(),
    close: async () => {
      await poller.stop();
      await http.close().catch(() => {});
    },
  };
  const handle = assignmentHandler(w, http, o);

  const poller = pollLoop(http, o.pollMs ?? 20, handle);
  return w;
}

/**
 * startWorkers in a child process (scripts/bench/dispatch-worker.ts), as the peers' workers run in
 * theirs: the same workers, reporting what they heard (with the times they heard it) over IPC.
 * `onAssigned` gets the bench index (context.bench_i), the receive time and assigned_at (-1 when absent).
 */
export async function startChildWorkers(o: {
  mode?: 'nats' | 'poll';
  natsUrl: string;
  apiUrl: string | string[];
  onAssigned?: (benchI: number, receivedAt: number, assignedAt: number) => void;
  onCompleted?: (benchI: number, at: number) => void;
}): Promise<Workers> {
  const { forkTs, nextMessage, stopChild } = await import('./child.js');
  const child = forkTs(new URL('../dispatch-worker.ts', import.meta.url).pathname, [
    o.natsUrl,
    (Array.isArray(o.apiUrl) ? o.apiUrl : [o.apiUrl]).join(','),
    o.mode ?? 'nats',
  ]);
  const w: Workers = {
    completed: 0,
    completeFailures: 0,
    refusals: new Map(),
    close: () => stopChild(child),
  };
  child.on('message', (m: { type: string; a?: number[]; c?: number[]; n?: number; f?: number; r?: [number, number][] }) => {
    if (m.type !== 'seen') return;
    for (let k = 0; k + 2 < m.a!.length; k += 3) o.onAssigned?.(m.a![k]!, m.a![k + 1]!, m.a![k + 2]!);
    for (let k = 0; k + 1 < m.c!.length; k += 2) o.onCompleted?.(m.c![k]!, m.c![k + 1]!);
    w.completed = m.n!;
    w.completeFailures = m.f!;
    w.refusals = new Map(m.r!);
  });
  const ready = await nextMessage<{ pid: number }>(child, (m) => m.type === 'ready', 60_000);
  w.pid = ready.pid;
  return w;
}
