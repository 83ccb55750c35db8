// The call executor (CONTRACT §18, docs/calls.md): performs call tasks (assignee dispatch:http)
// and pushes the tasks assigned to endpoint agents, one HTTP attempt each.
//
// Concurrency model: every replica runs one. A run reads the due call tasks (store/calls.ts
// dueCalls, hosts at their limit left out) and the endpoint agents' assigned tasks, picks what
// fits under http_work.max_in_flight and per_host (core/calls.ts planClaims), and claims them in
// ONE compare-and-set statement on the rows' versions (claimAttempts): with two replicas reading
// the same rows, each attempt is claimed by exactly one. Only after that commit does the request
// go out; the run returns without waiting for it (a slow endpoint holds its own slot, never the
// loop, the scheduler or another host's calls). Each streamed event, then the answer, is written
// as a compare-and-set report of that attempt (services/tasks.ts writeReport, on the row version
// the claim returned) — a write that finds the task moved on (cancelled, timed out by the sweep,
// a later attempt) ends the request and writes nothing.
//
// Timers are data: a call's attempt deadline (deadline_at = claim + call.timeout_ms + grace) is
// swept by the scheduler, so a replica that dies mid-call loses nothing: the sweep retries the
// task (same X-Idempotency-Key, the next X-Dispatch-Attempt). The request's own timeout is an
// abort signal on the I/O, as every client in the service has.
//
// Wake-ups: the in-process 'assign-needed' signal (a task became pending: a create, a retry, a
// dependency released), 'events-committed' with an `assigned` event while endpoint agents exist,
// a finished attempt, and a timer (at the earliest known retry, at most pollMs).
import { Agent, request } from 'undici';
import type { Component, DispatchContext } from '../context.js';
import {
  CALL_BOUNDS,
  callUrl,
  decideCallStart,
  decideEndpointStart,
  decideOutcome,
  decideStreamed,
  dueAt,
  hostKey,
  isStreamType,
  outcomeOf,
  planClaims,
  type Answer,
  type Outcome,
} from '../core/calls.js';
import { WORDWARE_CREDENTIAL } from '../core/call-spec.js';
import { rowToTask, type Change, type TaskRow } from '../core/task.js';
import { InvalidTransitionError } from '../errors.js';
import { Loop, STOP_WAIT_MS, waitAtMost } from '../loop.js';
import { recordTransition } from '../observability/metrics.js';
import { afterSettled, backoffPolicy, freeSlot, writeReport, type Written } from '../services/tasks.js';
import { limitsInForce } from '../services/flow.js';
import { limitFor } from '../core/flow.js';
import { assignedToEndpoints, claimAttempts, dueCalls, nextCallDue } from '../store/calls.js';
import type { Sql } from '../store/db.js';
import { committedEvents } from '../store/events.js';
import { unversioned, type VersionedRow, type Write } from '../store/tasks.js';
import { allowedHostSet, guardedLookup, literalRefusal } from '../callbacks/target.js';
import { parserFor } from './stream.js';
import type { AgentEndpoint } from '../config.js';

/** Safety poll: retries written by other replicas come due on their own. */
export const POLL_MS = 1000;
/** The push timeout of an endpoint agent's task (its answer, not its work: 202 says "I will report"). */
export const ENDPOINT_PUSH_TIMEOUT_MS = CALL_BOUNDS.timeoutMsDefault;

export interface ExecutorOptions {
  sql?: Sql;
  pollMs?: number;
}

export interface ExecutorRunResult {
  /** Attempts claimed by this run (their requests started). */
  claimed: number;
  /** Settles when this run's attempts are settled (tests await it; the loop never does). */
  done: Promise<void>;
}

export interface Executor extends Component {
  readonly loop: Loop<ExecutorRunResult>;
  runOnce(): Promise<ExecutorRunResult>;
  /** Every attempt in flight settled. */
  settled(): Promise<void>;
  readonly inFlight: number;
}

type Kind = 'call' | 'endpoint';

/** One claimed attempt. */
interface Job {
  kind: Kind;
  row: TaskRow;
  version: string;
  agent: string;
  host: string;
  url: URL | undefined;
  endpoint?: AgentEndpoint;
  abort: AbortController;
}

/** The task moved on while its attempt was in flight: nothing more is written for it. */
class Gone extends Error {}

export function createExecutor(ctx: DispatchContext, options: ExecutorOptions = {}): Executor {
  const sql = options.sql ?? ctx.sql;
  const pollMs = options.pollMs ?? POLL_MS;
  const log = ctx.logger.child({ component: 'call-executor' });
  const hw = ctx.config.http_work;
  const allowed = allowedHostSet(hw.allowed_hosts);
  const baseHost = hw.base_url ? hostKey(new URL(hw.base_url)) : null;
  const inflight = new Map<string, Promise<void>>();
  const perHost = new Map<string, number>();
  const stopping = new AbortController();
  let nextDue: number | undefined;
  let warnedWordware = false;
  let endpointsKnown = false;
  const dispatcher = new Agent({
    connect: { lookup: guardedLookup(allowed, 'call') as never, timeout: 10_000 },
    // The attempt's own abort signal bounds it; no separate idle limits.
    headersTimeout: 0,
    bodyTimeout: 0,
    connections: hw.per_host,
  });

  function hostOf(row: VersionedRow, endpoint: AgentEndpoint | undefined): { host: string; url: URL | undefined } {
    try {
      const url = endpoint ? new URL(endpoint.url) : callUrl(row.call!.url, hw.base_url);
      return { host: hostKey(url), url };
    } catch {
      // A path call with base_url since removed: fails at once, counted under no host.
      return { host: row.call_host ?? baseHost ?? '', url: undefined };
    }
  }

  async function runOnce(): Promise<ExecutorRunResult> {
    const free = hw.max_in_flight - inflight.size;
    if (free <= 0 || stopping.signal.aborted) return { claimed: 0, done: Promise.resolve() };
    const now = ctx.clock.now();
    const full = [...perHost].filter(([, n]) => n >= hw.per_host).map(([h]) => h);
    const endpoints = ctx.agents.endpoints();
    endpointsKnown = endpoints.size > 0;
    // Read a little more than fits, so hosts at their limit in this page do not starve the others.
    const [calls, pushes] = await Promise.all([
      dueCalls(sql, now, Math.min(free * 2, 500), full, baseHost),
      assignedToEndpoints(sql, [...endpoints.keys()], free),
    ]);
    const candidates = [
      ...pushes.map((row) => ({
        id: row.id,
        row,
        kind: 'endpoint' as Kind,
        endpoint: endpoints.get(row.assignee!)!,
        ...hostOf(row, endpoints.get(row.assignee!)),
      })),
      ...calls.map((row) => ({ id: row.id, row, kind: 'call' as Kind, endpoint: undefined, ...hostOf(row, undefined) })),
    ];
    const picked = planClaims(candidates, free, perHost, hw.per_host);
    // Nothing due now: when the next is (a busy run skips this: a finished attempt pokes the loop anyway).
    if (calls.length === 0) nextDue = (await nextCallDue(sql, now))?.getTime();
    if (picked.length === 0) return { claimed: 0, done: Promise.resolve() };
    const at = ctx.clock.now();
    const writes: Write[] = picked.map((p) => ({
      ...(p.kind === 'call' ? decideCallStart(unversioned(p.row), at) : decideEndpointStart(unversioned(p.row), p.row.assignee!, at)),
      version: p.row.version,
    }));
    const sinks = writes.map(() => committedEvents());
    // A call task obeys its flow key (§20); an endpoint push took its key's token at its assignment.
    const keyed = picked.some((p) => p.kind === 'call' && p.row.flow_key !== null);
    const limits = keyed ? await limitsInForce(ctx, sql) : [];
    const flow = keyed
      ? {
          now: at,
          starts: picked.map((p) =>
            p.kind === 'call' && p.row.flow_key !== null ? { key: p.row.flow_key, limit: limitFor(p.row.flow_key, limits) } : { key: null, limit: undefined },
          ),
        }
      : undefined;
    const versions = await claimAttempts(sql, writes, sinks, flow);
    const started: Promise<void>[] = [];
    picked.forEach((p, i) => {
      const version = versions[i];
      if (version === undefined) return; // another replica (or a cancel) got there first
      const w = writes[i]!;
      ctx.signals.emit('events-committed', sinks[i]!);
      recordTransition(ctx.metrics, w.next);
      if (p.kind === 'call') ctx.metrics.callStartDelay.observe(Math.max(0, at.getTime() - dueAt(p.row).getTime()) / 1000);
      const job: Job = {
        kind: p.kind,
        row: w.next,
        version,
        agent: w.next.assignee!,
        host: p.host,
        url: p.url,
        ...(p.endpoint ? { endpoint: p.endpoint } : {}),
        abort: new AbortController(),
      };
      started.push(track(job));
    });
    return { claimed: started.length, done: Promise.all(started).then(() => {}) };
  }

  function track(job: Job): Promise<void> {
    perHost.set(job.host, (perHost.get(job.host) ?? 0) + 1);
    ctx.metrics.callsInFlight.inc({ kind: job.kind });
    const p = perform(job)
      .catch((err: unknown) => {
        if (err instanceof Gone) {
          ctx.metrics.callAttempts.inc({ kind: job.kind, outcome: 'lost' });
          return;
        }
        log.warn(
          { task: job.row.id, attempt: job.row.attempt, err: (err as Error).message },
          'recording a call attempt failed; the attempt deadline retries it',
        );
      })
      .finally(() => {
        inflight.delete(job.row.id);
        const n = (perHost.get(job.host) ?? 1) - 1;
        if (n <= 0) perHost.delete(job.host);
        else perHost.set(job.host, n);
        ctx.metrics.callsInFlight.dec({ kind: job.kind });
        loop.poke();
      });
    inflight.set(job.row.id, p);
    return p;
  }

  /** Authorization: the call's (or the endpoint's) credential, else the service token, else none. Undefined: a credential that is not configured. */
  function authorization(credential: string | undefined): { header?: string } | undefined {
    if (credential === undefined) return hw.service_token ? { header: `Bearer ${hw.service_token}` } : {};
    const secret = hw.credentials[credential];
    if (secret === undefined && credential !== WORDWARE_CREDENTIAL) return undefined;
    if (!secret) {
      if (!warnedWordware) log.warn(`credential "${credential}" has no secret (WORDWARE_API_KEY unset?): its calls go without Authorization`);
      warnedWordware = true;
      return {};
    }
    return { header: `Bearer ${secret}` };
  }

  async function perform(job: Job): Promise<void> {
    const { row } = job;
    const call = row.call;
    const credential = job.endpoint ? job.endpoint.credential : call?.credential;
    const auth = authorization(credential);
    if (job.url === undefined) return settle(job, { kind: 'fail', error: 'the call url is a path and no http_work.base_url is configured', statusCode: null });
    if (auth === undefined)
      return settle(job, { kind: 'fail', error: `credential "${credential}" is not configured in http_work.credentials`, statusCode: null });
    const refused = literalRefusal(job.url, allowed);
    if (refused) return settle(job, { kind: 'fail', error: `call not allowed: ${refused}`, statusCode: null });
    const method = call?.method ?? 'POST';
    const headers: Record<string, string> = {
      ...(call?.headers ?? {}),
      'content-type': 'application/json',
      'user-agent': 'dispatch-calls',
      'x-idempotency-key': row.id,
      'x-dispatch-task-id': row.id,
      'x-dispatch-attempt': String(row.attempt),
      ...(auth.header ? { authorization: auth.header } : {}),
      ...(job.kind === 'endpoint' ? { 'x-dispatch-agent': job.agent } : {}),
    };
    const body =
      job.kind === 'endpoint'
        ? JSON.stringify(rowToTask(row))
        : method === 'GET'
          ? undefined
          : JSON.stringify(call!.body !== undefined ? call!.body : row.context);
    const timeoutMs = job.kind === 'endpoint' ? Math.min(ENDPOINT_PUSH_TIMEOUT_MS, row.timeout_ms) : call!.timeout_ms;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([timeout, stopping.signal, job.abort.signal]);
    let answer: Answer;
    try {
      const res = await request(job.url, { method, headers, ...(body !== undefined ? { body } : {}), dispatcher, signal });
      const contentType = String(res.headers['content-type'] ?? '');
      if (res.statusCode >= 200 && res.statusCode <= 299 && isStreamType(contentType) && !(job.kind === 'endpoint' && res.statusCode === 202)) {
        answer = await readStream(job, res.body, contentType, res.statusCode);
      } else {
        const ok = res.statusCode >= 200 && res.statusCode <= 299;
        const { text, truncated } = await readText(res.body, ok ? CALL_BOUNDS.jsonBodyBytes : CALL_BOUNDS.messageBytes);
        const retryAfter = res.headers['retry-after'];
        answer = {
          kind: 'response',
          status: res.statusCode,
          contentType,
          text,
          truncated,
          ...(retryAfter !== undefined ? { retryAfter: Array.isArray(retryAfter) ? retryAfter[0]! : retryAfter } : {}),
        };
      }
    } catch (err) {
      if (err instanceof Gone) throw err;
      // Stopping: the attempt is left to its deadline (the sweep retries it), nothing is written now.
      if (stopping.signal.aborted && !timeout.aborted) throw new Gone();
      if (job.abort.signal.aborted) throw new Gone();
      const refused = (err as { code?: string }).code === 'ECALLBACKNOTALLOWED' || (err as { cause?: { code?: string } }).cause?.code === 'ECALLBACKNOTALLOWED';
      answer = { kind: 'error', error: timeout.aborted ? `no answer within ${timeoutMs} ms` : describe(err), timedOut: timeout.aborted, refused };
    }
    return settle(job, outcomeOf(answer, ctx.clock.now(), job.kind === 'endpoint'));
  }

  /** Each event of a streamed answer as a progress report, in order, as it arrives; the last one is the result. */
  async function readStream(job: Job, body: AsyncIterable<Buffer>, contentType: string, status: number): Promise<Answer> {
    const parser = parserFor(contentType);
    const decoder = new TextDecoder();
    let last: string | undefined;
    let count = 0;
    const each = async (events: string[]) => {
      for (const text of events) {
        last = text;
        count++;
        await write(job, (row) => decideStreamed(row, job.agent, text, ctx.clock.now()));
      }
    };
    for await (const chunk of body) await each(parser.push(decoder.decode(chunk, { stream: true })));
    await each([...parser.push(decoder.decode()), ...parser.end()]);
    return { kind: 'stream', status, last, count };
  }

  /**
   * Write a decision about this attempt: a compare-and-set on the version this executor holds
   * (re-decided on a fresh read when another write changed the row, e.g. a PATCH of its context);
   * Gone when the task left this attempt (cancelled, timed out, retried, another attempt).
   */
  async function write(job: Job, decide: (row: TaskRow) => Change | undefined): Promise<Written | undefined> {
    ctx.versions.put(job.row, job.version);
    let decided: Change | undefined;
    try {
      const w = await writeReport(ctx, job.row.id, (row) => {
        if (row.status !== 'running' || row.assignee !== job.agent || row.attempt !== job.row.attempt)
          throw new InvalidTransitionError(row.id, row.status, 'running', `task ${row.id} left attempt ${job.row.attempt}`);
        decided = decide(row);
        if (!decided) throw new Gone();
        return decided;
      });
      const v = ctx.versions.take(job.row.id);
      if (v) job.version = v.version;
      job.row = w.change.next;
      return w;
    } catch (err) {
      if (err instanceof Gone) return undefined;
      if (err instanceof InvalidTransitionError || (err as { code?: string }).code === 'not_assignee') {
        job.abort.abort();
        throw new Gone();
      }
      throw err;
    }
  }

  async function settle(job: Job, outcome: Outcome): Promise<void> {
    const label = outcome.kind === 'retry' ? 'retry' : outcome.kind === 'fail' ? 'failed' : outcome.kind === 'timeout' ? 'timed_out' : outcome.kind;
    if (outcome.kind === 'accepted') {
      // 202 from an endpoint agent: it reports over the API (or its timeout ends the attempt).
      ctx.metrics.callAttempts.inc({ kind: job.kind, outcome: label });
      return;
    }
    let retried = false;
    const w = await write(job, (row) => {
      const c = decideOutcome(row, job.agent, outcome, backoffPolicy(ctx), ctx.random, ctx.clock.now());
      retried = c?.retried ?? false;
      return c;
    });
    if (!w) return;
    const { before, next } = w.change;
    ctx.metrics.callAttempts.inc({ kind: job.kind, outcome: next.status === 'timed_out' ? 'timed_out' : retried ? 'retry' : label });
    recordTransition(ctx.metrics, next, retried ? (outcome.kind === 'timeout' ? 'timeout' : 'failed') : undefined);
    if (job.kind === 'endpoint') freeSlot(ctx, before, next);
    afterSettled(ctx, w.others);
    if (next.status === 'pending') {
      if (next.not_before) nextDue = Math.min(nextDue ?? Infinity, next.not_before.getTime());
      ctx.signals.emit('assign-needed');
    } else if (job.kind === 'endpoint') ctx.signals.emit('assign-needed', 'freed');
    if (next.status !== 'completed')
      log.info({ task: next.id, attempt: job.row.attempt, status: next.status, err: next.error?.slice(0, 200) }, 'call attempt failed');
  }

  const loop = new Loop<ExecutorRunResult>({
    name: 'call-executor',
    log,
    everyMs: pollMs,
    runAtStart: true,
    runOnce: () => runOnce(),
    again: (r) => r.claimed > 0 && inflight.size < hw.max_in_flight,
    delayAfter: () => (nextDue === undefined ? pollMs : Math.max(0, Math.min(pollMs, nextDue - ctx.clock.now().getTime()))),
    backoff: { baseMs: 200, maxMs: 5000 },
    signals: {
      emitter: ctx.signals,
      on: {
        'assign-needed': (reason) => {
          if (reason !== 'freed') loop.poke();
        },
        'events-committed': (sink) => {
          if (endpointsKnown && sink.rows.some((r) => r.type === 'assigned')) loop.poke();
        },
      },
    },
  });

  return {
    name: 'call-executor',
    loop,
    runOnce,
    get inFlight() {
      return inflight.size;
    },
    settled: async () => {
      while (inflight.size > 0) await Promise.allSettled([...inflight.values()]);
    },
    async start() {
      loop.start();
    },
    async stop() {
      await loop.stop();
      // Attempts in flight may finish within the bound; the rest are abandoned to their deadline.
      await waitAtMost(Promise.allSettled([...inflight.values()]), STOP_WAIT_MS);
      stopping.abort();
      await waitAtMost(Promise.allSettled([...inflight.values()]), STOP_WAIT_MS);
      await dispatcher.destroy().catch(() => {});
    },
  };
}

async function readText(body: AsyncIterable<Buffer> & { destroy?: () => void }, limit: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body) {
    if (size + chunk.length > limit) {
      chunks.push(chunk.subarray(0, limit - size));
      truncated = true;
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

function describe(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const message = e.message ?? e.cause?.message ?? 'request failed';
  if (code === 'ECALLBACKNOTALLOWED') return e.cause?.message ?? message;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `connection reset (${message})`;
  return code ? `${code}: ${message}` : message;
}
