// The worker (CONTRACT §22, docs/clients.md): long-polls for the agent's assignments
// (GET /api/v1/agents/:id/assignments?wait=S, docs/waiting.md), runs at most `concurrency`
// handlers at once, acknowledges each task with a first progress report (assigned → running, so
// the wake timeout does not take it back), beats heartbeats every heartbeatMs while the handler runs
// (docs/heartbeats.md), completes with the handler's value and fails on a throw (retryable unless
// NonRetryableError). Reports are retried on network errors, 429 and 5xx. stop() — or SIGTERM/SIGINT
// with handleSignals — stops polling, lets running handlers finish within drainMs, then aborts the
// rest and fails them retryably, so another agent takes them at once.
//
// Concurrency model: one poll loop; each task is a promise in `active` (at most `concurrency`).
// The loop polls only with a free slot and after the acks of the tasks it started, so an assigned
// task it already holds is never answered again (no busy loop).
import { Agent as HttpAgent, fetch as undiciFetch, Request as UndiciRequest } from 'undici';
import { createClient, unwrap, type DispatchClient, type Task } from './client.js';
import { DispatchApiError, NonRetryableError, apiError } from './errors.js';
import { readEventStream } from './sse.js';

export interface TaskContext {
  readonly task: Task;
  /** Aborted when the task is no longer this worker's (cancelled, timed out) or a drain ran out. */
  readonly signal: AbortSignal;
  /** A progress report (also a heartbeat); percent 0..100. */
  progress(message?: string, percent?: number, data?: Record<string, unknown>): Promise<void>;
  /**
   * Ask the requester a question (POST /api/v1/tasks/:id/input-required, CONTRACT §21.1) and
   * resolve with their answer (event input_received, heard on the task's event stream).
   */
  requestInput(question: string, schema?: Record<string, unknown>): Promise<unknown>;
}

export type Handler = (ctx: TaskContext) => unknown;

export type WorkerEvent =
  | { type: 'started'; task: Task }
  | { type: 'completed'; task: Task }
  | { type: 'failed'; task: Task; error: string; retryable: boolean }
  | { type: 'abandoned'; taskId: string; reason: string }
  | { type: 'heartbeat'; taskId: string }
  | { type: 'error'; error: unknown }
  | { type: 'stopped' };

export interface WorkerOptions {
  url: string;
  /** The agent this worker is (X-Agent-ID; in token mode the token's agent). */
  agent: string;
  token?: string;
  /** Handlers running at once (≥ 1). Keep the agent's max_concurrent_per_agent at least this. */
  concurrency: number;
  handler: Handler;
  /** Heartbeat period while a handler runs (default 10 s); keep it under the tasks' heartbeat_timeout_ms. */
  heartbeatMs?: number;
  /** How long stop() lets running handlers finish before failing them retryably (default 30 s). */
  drainMs?: number;
  /** Seconds one long-poll is held (0..60, default 30). */
  pollWaitS?: number;
  /** Install SIGTERM/SIGINT handlers that stop() and then re-raise the signal (default false). */
  handleSignals?: boolean;
  /** Called for every lifecycle step: log it, count it, or await it in a test. */
  onEvent?: (event: WorkerEvent) => void;
  fetch?: typeof globalThis.fetch;
}

export interface Worker {
  /** Handlers running now. */
  readonly running: number;
  /** Stop polling, drain (drainMs), fail the rest retryably; resolves when nothing runs. Idempotent. */
  stop(): Promise<void>;
  /** Resolves when the worker has stopped. */
  readonly stopped: Promise<void>;
}

const DEFAULT_HEARTBEAT_MS = 10_000;
const DEFAULT_DRAIN_MS = 30_000;
const DEFAULT_POLL_WAIT_S = 30;
/** Report retries: 250 ms doubling to 5 s, 10 attempts (~25 s) before a report is given up. */
const REPORT_ATTEMPTS = 10;
const REPORT_BACKOFF_MS = 250;
const REPORT_BACKOFF_MAX_MS = 5_000;
/** Pause between empty polls when pollWaitS is 0 (no long-poll). */
const IDLE_POLL_MS = 1_000;
/** After a failed poll (network, 5xx), wait this long (doubling, capped) before the next. */
const POLL_BACKOFF_MAX_MS = 10_000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Network errors, 429 and 5xx are worth retrying; any other API answer is final. */
function isTransient(err: unknown): boolean {
  if (err instanceof DispatchApiError) return err.retryable;
  return !(err instanceof Error && err.name === 'AbortError');
}

/** The task is no longer this worker's: someone else holds it, or it moved on. */
function isLost(err: unknown): boolean {
  return err instanceof DispatchApiError && (err.code === 'not_assignee' || err.code === 'invalid_transition' || err.code === 'not_found');
}

async function withRetries<T>(fn: () => Promise<T>, attempts = REPORT_ATTEMPTS): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isTransient(err)) throw err;
      const ms = Math.min(REPORT_BACKOFF_MAX_MS, REPORT_BACKOFF_MS * 2 ** (i - 1));
      await sleep(ms * (0.5 + Math.random() / 2));
    }
  }
}

function message(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
}

export function createWorker(opts: WorkerOptions): Worker {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new TypeError('concurrency must be an integer ≥ 1');
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const drainMs = opts.drainMs ?? DEFAULT_DRAIN_MS;
  const pollWaitS = Math.max(0, Math.min(60, opts.pollWaitS ?? DEFAULT_POLL_WAIT_S));
  // The worker's own connection pool, destroyed by stop(): an aborted long-poll leaves no socket
  // behind (with the global fetch it lingers, and keeps the server from closing).
  const pool = opts.fetch ? undefined : new HttpAgent({ keepAliveTimeout: 10_000 });
  const doFetch: typeof globalThis.fetch =
    opts.fetch ?? (((input: unknown, init?: object) => undiciFetch(input as never, { ...init, dispatcher: pool })) as unknown as typeof globalThis.fetch);
  const client: DispatchClient = createClient({
    url: opts.url,
    agent: opts.agent,
    ...(opts.token ? { token: opts.token } : {}),
    fetch: doFetch,
    ...(opts.fetch ? {} : { Request: UndiciRequest as unknown as typeof globalThis.Request }),
  });
  const emit = (e: WorkerEvent) => {
    try {
      opts.onEvent?.(e);
    } catch {
      /* an observer's bug must not stop the worker */
    }
  };

  interface Running {
    task: Task;
    abort: AbortController;
    done: Promise<void>;
    /** Set when the drain ran out: the worker has failed it, the handler's outcome is ignored. */
    abandoned: boolean;
  }
  const active = new Map<string, Running>();
  const stopping = new AbortController();
  let slotFreed: () => void = () => {};
  let stopPromise: Promise<void> | undefined;

  const report = {
    progress: (id: string, body: { message?: string; percent?: number; data?: Record<string, unknown> }) =>
      withRetries(() => unwrap(client.POST('/api/v1/tasks/{id}/progress', { params: { path: { id } }, body }))),
    heartbeat: (id: string) => withRetries(() => unwrap(client.POST('/api/v1/tasks/{id}/heartbeat', { params: { path: { id } } })), 3).then(() => undefined),
    complete: (id: string, result: unknown) =>
      withRetries(() => unwrap(client.POST('/api/v1/tasks/{id}/complete', { params: { path: { id } }, body: result === undefined ? {} : { result } }))),
    fail: (id: string, error: string, retryable: boolean) =>
      withRetries(() =>
        unwrap(client.POST('/api/v1/tasks/{id}/fail', { params: { path: { id } }, body: { error: error.slice(0, 4096) || 'the handler failed', retryable } })),
      ),
  };

  async function requestInput(task: Task, signal: AbortSignal, question: string, schema?: Record<string, unknown>): Promise<unknown> {
    const id = task.id;
    // The route is CONTRACT §21.1's; the generated types learn it once it is in openapi.yaml.
    await withRetries(async () => {
      const r = await doFetch(`${opts.url.replace(/\/+$/, '')}/api/v1/tasks/${encodeURIComponent(id)}/input-required`, {
        method: 'POST',
        headers: identityHeaders({ 'content-type': 'application/json' }),
        body: JSON.stringify(schema ? { question, schema } : { question }),
        signal,
      });
      const body: unknown = await r.json().catch(() => undefined);
      if (!r.ok) throw apiError(r.status, body);
    });
    // The answer is the first input_received after our input_required: resume the task's event
    // stream after the newest input_required event.
    const history = await unwrap(client.GET('/api/v1/tasks/{id}/events', { params: { path: { id } }, signal }));
    const events = typeof history === 'string' ? [] : history.events;
    const asked = [...events].reverse().find((e) => (e.type as string) === 'task.input_required');
    for await (const frame of readEventStream(`${opts.url.replace(/\/+$/, '')}/api/v1/tasks/${encodeURIComponent(id)}/events`, {
      headers: identityHeaders(asked ? { 'last-event-id': asked.id } : {}),
      signal,
      fetch: doFetch,
    })) {
      if (frame.event === 'task.input_received') {
        const envelope = JSON.parse(frame.data) as { data?: { answer?: unknown } };
        return envelope.data?.answer;
      }
      if (['task.completed', 'task.failed', 'task.cancelled', 'task.timeout'].includes(frame.event)) {
        throw new DispatchApiError(409, 'invalid_transition', `the task ended (${frame.event}) while waiting for input`);
      }
    }
    throw new DispatchApiError(409, 'invalid_transition', 'the task event stream ended before an answer came');
  }

  function identityHeaders(extra: Record<string, string>): Record<string, string> {
    return { 'x-agent-id': opts.agent, ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...extra };
  }

  function run(task: Task): Running {
    const abort = new AbortController();
    const entry: Running = { task, abort, abandoned: false, done: Promise.resolve() };
    let waitingForInput = false;
    entry.done = (async () => {
      // Heartbeats while the handler runs; a refusal (403/409) means the task moved on without us.
      const beat = setInterval(() => {
        if (waitingForInput) return;
        report.heartbeat(task.id).then(
          () => emit({ type: 'heartbeat', taskId: task.id }),
          (err) => {
            if (isLost(err) && !waitingForInput) abort.abort(new Error(`task ${task.id} is no longer this worker's: ${message(err)}`));
            else emit({ type: 'error', error: err });
          },
        );
      }, heartbeatMs);
      try {
        const ctx: TaskContext = {
          task,
          signal: abort.signal,
          progress: async (msg, percent, data) => {
            await report.progress(task.id, {
              ...(msg !== undefined ? { message: msg } : {}),
              ...(percent !== undefined ? { percent } : {}),
              ...(data ? { data } : {}),
            });
          },
          requestInput: async (question, schema) => {
            waitingForInput = true;
            try {
              return await requestInput(task, abort.signal, question, schema);
            } finally {
              waitingForInput = false;
            }
          },
        };
        let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
        try {
          outcome = { ok: true, value: await opts.handler(ctx) };
        } catch (error) {
          outcome = { ok: false, error };
        }
        if (entry.abandoned) return; // the drain already failed it
        if (abort.signal.aborted) {
          emit({ type: 'abandoned', taskId: task.id, reason: message(abort.signal.reason) });
          return;
        }
        if (outcome.ok) {
          const done = await report.complete(task.id, outcome.value);
          emit({ type: 'completed', task: done });
        } else {
          const retryable = !(outcome.error instanceof NonRetryableError);
          const error = message(outcome.error);
          const after = await report.fail(task.id, error, retryable);
          emit({ type: 'failed', task: after, error, retryable });
        }
      } catch (err) {
        // A report refused for good (the task moved on) or not delivered after its retries.
        emit(isLost(err) ? { type: 'abandoned', taskId: task.id, reason: message(err) } : { type: 'error', error: err });
      } finally {
        clearInterval(beat);
        active.delete(task.id);
        slotFreed();
      }
    })();
    return entry;
  }

  async function acknowledge(task: Task): Promise<boolean> {
    try {
      // The first progress report moves assigned → running (and is the first heartbeat).
      await report.progress(task.id, {});
      return true;
    } catch (err) {
      emit(isLost(err) ? { type: 'abandoned', taskId: task.id, reason: message(err) } : { type: 'error', error: err });
      return false;
    }
  }

  async function loop(): Promise<void> {
    let backoff = 0;
    while (!stopping.signal.aborted) {
      if (active.size >= opts.concurrency) {
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
          stopping.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        continue;
      }
      let tasks: Task[];
      try {
        const res = await unwrap(
          client.GET('/api/v1/agents/{id}/assignments', {
            params: { path: { id: opts.agent }, query: { wait: pollWaitS } },
            signal: stopping.signal,
          }),
        );
        tasks = res.tasks;
        backoff = 0;
      } catch (err) {
        if (stopping.signal.aborted) break;
        emit({ type: 'error', error: err });
        backoff = Math.min(POLL_BACKOFF_MAX_MS, backoff ? backoff * 2 : 500);
        await sleep(backoff, stopping.signal);
        continue;
      }
      // wait=0 answers at once: without a pause an idle worker would poll in a tight loop.
      if (tasks.length === 0 && pollWaitS === 0) await sleep(IDLE_POLL_MS, stopping.signal);
      const acks: Promise<unknown>[] = [];
      for (const task of tasks) {
        if (active.size >= opts.concurrency || stopping.signal.aborted) break;
        if (active.has(task.id)) continue;
        // Hold the slot while acknowledging; the handler starts only on a task still ours.
        const slot: Running = { task, abort: new AbortController(), abandoned: false, done: Promise.resolve() };
        active.set(task.id, slot);
        acks.push(
          acknowledge(task).then((ok) => {
            if (!ok) {
              active.delete(task.id);
              return;
            }
            emit({ type: 'started', task });
            active.set(task.id, run(task));
          }),
        );
      }
      await Promise.all(acks);
    }
  }

  /**
   * Running handlers get drainMs; what is still running then is failed retryably. Tasks assigned
   * to the agent that this worker never started are left alone: the wake timeout returns them to
   * pending without spending a retry (failing them would spend one on work never begun).
   */
  async function drain(): Promise<void> {
    const settled = Promise.all([...active.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([settled.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), drainMs)))]);
    clearTimeout(timer);
    if (timedOut) {
      // Fail what did not finish, retryably: the task goes back to pending for another agent.
      await Promise.all(
        [...active.values()].map(async (r) => {
          r.abandoned = true;
          r.abort.abort(new Error('worker stopped'));
          try {
            const after = await report.fail(r.task.id, `worker ${opts.agent} stopped before the task finished (drain ${drainMs} ms)`, true);
            emit({ type: 'failed', task: after, error: 'worker stopped', retryable: true });
          } catch (err) {
            emit(isLost(err) ? { type: 'abandoned', taskId: r.task.id, reason: message(err) } : { type: 'error', error: err });
          }
        }),
      );
    }
  }

  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  const onSignal = (sig: NodeJS.Signals) => {
    void stop().finally(() => {
      // Our handlers are gone: the signal now does what it would have done without us.
      process.kill(process.pid, sig);
    });
  };
  if (opts.handleSignals) for (const s of signals) process.once(s, onSignal);

  const looping = loop();
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  function stop(): Promise<void> {
    stopPromise ??= (async () => {
      stopping.abort();
      if (opts.handleSignals) for (const s of signals) process.removeListener(s, onSignal);
      await looping;
      await drain();
      await pool?.destroy();
      emit({ type: 'stopped' });
      resolveStopped();
    })();
    return stopPromise;
  }

  return {
    get running() {
      return active.size;
    },
    stop,
    stopped,
  };
}
