// Held requests without NATS (CONTRACT §12 "Delivery without NATS"; docs/waiting.md): workers long-poll for their assignments, requesters
// await a result, and both follow events over SSE. A held request registers its waiter BEFORE its
// first read (a change committed in between still wakes it), costs no query while it waits, and
// re-reads once when woken. At shutdown every held request is answered at once.
import type { ServiceContext } from '../context.js';
import { isTerminal, rowToTask, type Task, type TaskStatus } from '../core/task.js';
import type { Waiting, FeedRow, FeedSubscriber, OpenStream } from '../waiting/index.js';
import { waitAtMost } from '../loop.js';
import { assignedTaskRows, feedRowsBetween, seqOfEvent } from '../store/waiting.js';
import { getTaskRow } from '../store/tasks.js';
import { DispatchError, ForbiddenError, NotFoundError } from '../errors.js';

/** The longest a request may be held (seconds). */
export const MAX_WAIT_S = 60;
/** At shutdown, an await's last read of its task waits this long at most (then the first read answers). */
const CLOSING_READ_MS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Rows per replay page. */
const REPLAY_PAGE = 500;

type Ctx = Pick<ServiceContext, 'sql'>;

/** GET /agents/:id/assignments?wait=S: the agent's assigned tasks, oldest first, held until one is assigned or S passes. */
export async function pollAssignments(ctx: Ctx, waiting: Waiting, caller: string, agent: string, waitS: number): Promise<{ tasks: Task[] }> {
  if (caller !== agent) throw new ForbiddenError('only the agent itself may poll its assignments');
  const waiter = waiting.agents.register(agent);
  try {
    const until = performance.now() + waitS * 1000;
    for (;;) {
      const rows = await assignedTaskRows(ctx.sql, agent);
      if (rows.length > 0 || waitS === 0 || waiting.agents.closed) return { tasks: rows.map(rowToTask) };
      // Nothing yet: hold, at no cost, until the NOTIFY of an assignment to this agent (or the end).
      const why = await waiter.wait(until - performance.now());
      if (why !== 'woken') return { tasks: [] };
    }
  } finally {
    waiter.release();
  }
}

/** When an await answers: the task is terminal (GET /tasks/:id?wait=S). */
export const untilTerminal = (s: TaskStatus): boolean => isTerminal(s);
/** …or waits for its requester's answer (the MCP wait_for_task, A2A blocking sends). */
export const untilSettled = (s: TaskStatus): boolean => isTerminal(s) || s === 'input_required';

/** GET /tasks/:id?wait=S: the task, once it is terminal (or `done` says so) or after S seconds. */
export async function awaitTask(ctx: Ctx, waiting: Waiting, id: string, waitS: number, done: (s: TaskStatus) => boolean = untilTerminal): Promise<Task> {
  const waiter = waiting.tasks.register(id);
  try {
    const first = await getTaskRow(ctx.sql, id);
    if (!first) throw new NotFoundError('task');
    if (waitS === 0 || done(first.status) || waiting.tasks.closed) return rowToTask(first);
    const until = performance.now() + waitS * 1000;
    let row = first;
    for (;;) {
      const why = await waiter.wait(until - performance.now());
      if (why === 'closed') {
        // Shutdown: the task as it is now if the database answers promptly, else as last read.
        await waitAtMost(
          getTaskRow(ctx.sql, id).then((r) => void (row = r ?? row)),
          CLOSING_READ_MS,
        );
        return rowToTask(row);
      }
      // Woken (it ended, or the LISTEN connection came back) or timed out: the task as it is then.
      row = (await getTaskRow(ctx.sql, id)) ?? row;
      if (why === 'timeout' || done(row.status) || performance.now() >= until) return rowToTask(row);
    }
  } finally {
    waiter.release();
  }
}

/** Where a stream's events go (the SSE writer). */
export interface EventSink {
  /** false: the client is not keeping up (its buffer is full). */
  send(row: FeedRow): boolean;
  /** Resolves when the buffer has room again (or the connection is gone). */
  drain(): Promise<void>;
  end(): void;
}

export interface StreamFilter {
  /** Envelope types, e.g. task.completed, run.failed. */
  types?: ReadonlySet<string>;
  requester?: string;
  assignee?: string;
}

export interface EventStream {
  /** Write the replay, then live events until the end (or close()). */
  run(sink: EventSink): Promise<void>;
  close(): void;
}

const rowStatus = (r: FeedRow): TaskStatus | undefined => (r.kind === 'task' ? (r.envelope.data as { task?: Task } | undefined)?.task?.status : undefined);

function matches(r: FeedRow, f: StreamFilter): boolean {
  if (f.types && !f.types.has(r.envelope.type as string)) return false;
  const data = (r.envelope.data ?? {}) as { task?: Task; run?: { requester?: string } };
  if (f.requester !== undefined && (data.task?.requester ?? data.run?.requester) !== f.requester) return false;
  if (f.assignee !== undefined && data.task?.assignee !== f.assignee) return false;
  return true;
}

/**
 * Open a stream: the task's events (taskId), or every task and run event (the admin firehose).
 * Everything that can be refused (404, 503) is refused here, before a byte of the stream is sent.
 *
 * Exactly once, in seq order: the stream subscribes to the feed first and gets its mark M; it
 * replays from the table the rows in (after, M] — all final — and then takes the feed's rows
 * above M, dropping any seq it already has.
 */
export async function openEventStream(
  ctx: Ctx,
  waiting: Waiting,
  spec: { taskId?: string; filter?: StreamFilter; lastEventId?: string },
): Promise<EventStream> {
  const filter = spec.filter ?? {};
  const taskId = spec.taskId;
  let resumeAt = spec.lastEventId && UUID.test(spec.lastEventId) ? await seqOfEvent(ctx.sql, spec.lastEventId) : undefined;
  let endedAtOpen = false;
  if (taskId !== undefined) {
    const row = await getTaskRow(ctx.sql, taskId);
    if (!row) throw new NotFoundError('task');
    // A terminal task: its history is complete in the table; no subscription, end after the replay.
    endedAtOpen = isTerminal(row.status);
  }
  const accept = (r: FeedRow) => (taskId !== undefined ? r.kind === 'task' && r.task_id === taskId : matches(r, filter));

  let sink: EventSink | undefined;
  let live = false;
  let closed = false;
  let last = 0;
  const buffered: FeedRow[] = [];
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const deliver = (r: FeedRow): void => {
    if (closed || r.seq <= last) return;
    last = r.seq;
    if (!sink!.send(r)) {
      // A client that does not keep up is let go; it resumes with Last-Event-ID.
      close();
      return;
    }
    if (taskId !== undefined) {
      const status = rowStatus(r);
      if (status && isTerminal(status)) close();
    }
  };
  const sub: FeedSubscriber = {
    push(rows) {
      for (const r of rows) {
        if (!accept(r)) continue;
        if (live) deliver(r);
        else buffered.push(r);
      }
    },
  };
  const handle: OpenStream = { end: () => close() };
  function close(): void {
    if (closed) return;
    closed = true;
    waiting.feed.unsubscribe(sub);
    waiting.streams.delete(handle);
    sink?.end();
    finish();
  }

  let mark = Number.MAX_SAFE_INTEGER;
  if (!endedAtOpen) {
    if (waiting.tasks.closed) throw new DispatchError('unavailable', 503, 'the service is shutting down');
    mark = await waiting.feed.subscribe(sub);
  }
  // Per task, an unknown Last-Event-ID replays the whole history; on the firehose it means "from now".
  if (taskId === undefined && resumeAt === undefined) resumeAt = mark;
  last = resumeAt ?? 0;
  waiting.streams.add(handle);

  return {
    close,
    async run(s) {
      sink = s;
      let after = last;
      let lastStatus: TaskStatus | undefined;
      while (!closed) {
        const page = await feedRowsBetween(ctx.sql, after, mark, REPLAY_PAGE, taskId);
        for (const r of page) {
          if (closed) break;
          after = r.seq;
          if (!accept(r) || r.seq <= last) continue;
          last = r.seq;
          lastStatus = rowStatus(r) ?? lastStatus;
          if (!s.send(r)) await s.drain();
        }
        if (page.length < REPLAY_PAGE) break;
      }
      // A task stream ends after its terminal event: the replay's last one, unless more followed it (a retry).
      if (endedAtOpen || (taskId !== undefined && lastStatus && isTerminal(lastStatus) && buffered.every((r) => r.seq <= last))) close();
      if (closed) return finished;
      live = true;
      for (const r of buffered.splice(0)) deliver(r);
      return finished;
    },
  };
}
