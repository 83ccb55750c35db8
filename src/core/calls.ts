// Call tasks and endpoint agents (CONTRACT §18, docs/calls.md): the decisions about an HTTP
// attempt Dispatch performs itself, as pure functions.
//
// Glossary
//   call       the HTTP request a call task stands for: {url, method, headers?, credential?, body?, timeout_ms}.
//   executor   the per-replica component that claims due call tasks (and the tasks assigned to
//              endpoint agents) and performs their requests (src/calls/executor.ts).
//   endpoint   an agent that is an HTTP endpoint: each task assigned to it is POSTed there (§18.2).
//   answer     what one attempt's request got back: a status, a content type, a body (or an error).
//   outcome    what an answer means for the attempt (the table of §18.1): completed, accepted
//              (an endpoint's 202), retryable failure, failure, timeout.
//
// Pure: no I/O, no clock, no randomness but the injected one.
import { ValidationError } from '../errors.js';
import { decideAssignment, decideAttemptTimeout, decideComplete, decideFail, decideProgress, type Change } from './decisions.js';
import type { BackoffPolicy } from './retry.js';
import type { Random } from '../ports.js';
import { rowToTask as taskOf, type TaskRow } from './task.js';
import { CALL_ASSIGNEE, CALL_BOUNDS, type CallMethodName, type CallSpec } from './call-spec.js';

export { CALL_ASSIGNEE, CALL_BOUNDS, CALL_METHOD_NAMES, type CallMethodName, type CallSpec } from './call-spec.js';

/** Headers a call may not set: Dispatch's own (Authorization, the idempotency key, X-Dispatch-*) and the framing ones. */
export function reservedHeader(name: string): boolean {
  const n = name.toLowerCase();
  return (
    n === 'authorization' ||
    n === 'x-idempotency-key' ||
    n === 'content-type' ||
    n === 'content-length' ||
    n === 'host' ||
    n === 'connection' ||
    n === 'transfer-encoding' ||
    n.startsWith('x-dispatch-')
  );
}

export interface CallInput {
  url: string;
  method?: CallMethodName;
  headers?: Record<string, string>;
  credential?: string;
  body?: unknown;
  timeout_ms?: number;
}

export interface CallRules {
  /** http_work.base_url ('' when none). */
  baseUrl: string;
  /** Whether a credential name is known (http_work.credentials, plus `wordware` always). */
  knownCredential(name: string): boolean;
}

export interface Problem {
  field: string;
  message: string;
}

/** What is wrong with a call for a task of `taskTimeoutMs` (field names under `prefix`); empty when nothing. */
export function callProblems(call: CallInput, taskTimeoutMs: number, rules: CallRules, prefix = 'call.'): Problem[] {
  const problems: Problem[] = [];
  if (call.url.startsWith('/')) {
    if (!rules.baseUrl) problems.push({ field: `${prefix}url`, message: 'is a path, but no http_work.base_url is configured to join it to' });
  } else {
    let u: URL | undefined;
    try {
      u = new URL(call.url);
    } catch {
      problems.push({ field: `${prefix}url`, message: 'is not an absolute http(s) URL or a path' });
    }
    if (u && u.protocol !== 'http:' && u.protocol !== 'https:') problems.push({ field: `${prefix}url`, message: 'must use http or https' });
  }
  for (const name of Object.keys(call.headers ?? {})) {
    if (reservedHeader(name)) problems.push({ field: `${prefix}headers.${name}`, message: 'is set by Dispatch and may not be given' });
  }
  if (call.credential !== undefined && !rules.knownCredential(call.credential)) {
    problems.push({ field: `${prefix}credential`, message: `is not a credential in http_work.credentials` });
  }
  const timeout = call.timeout_ms ?? CALL_BOUNDS.timeoutMsDefault;
  if (timeout > taskTimeoutMs) problems.push({ field: `${prefix}timeout_ms`, message: `must be at most the task's timeout_ms (${taskTimeoutMs})` });
  return problems;
}

/** The call as stored: defaults filled in (POST, 15000 ms), nothing else changed. */
export function normaliseCall(call: CallInput): CallSpec {
  return {
    url: call.url,
    method: call.method ?? 'POST',
    ...(call.headers !== undefined ? { headers: call.headers } : {}),
    ...(call.credential !== undefined ? { credential: call.credential } : {}),
    ...(call.body !== undefined ? { body: call.body } : {}),
    timeout_ms: call.timeout_ms ?? CALL_BOUNDS.timeoutMsDefault,
  };
}

/** Check and normalise (400 validation_failed with every problem). */
export function checkedCall(call: CallInput, taskTimeoutMs: number, rules: CallRules): CallSpec {
  const problems = callProblems(call, taskTimeoutMs, rules);
  if (problems.length) throw new ValidationError(`call is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
  return normaliseCall(call);
}

/** The absolute URL of a call: a path is joined to base_url (its own path kept as a prefix). */
export function callUrl(url: string, baseUrl: string): URL {
  if (!url.startsWith('/')) return new URL(url);
  const base = new URL(baseUrl);
  const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
  const joined = new URL(base.origin);
  const [path, query] = splitQuery(url);
  joined.pathname = `${prefix}${path}`;
  if (query !== undefined) joined.search = query;
  return joined;
}

function splitQuery(url: string): [string, string | undefined] {
  const i = url.indexOf('?');
  return i < 0 ? [url, undefined] : [url.slice(0, i), url.slice(i)];
}

/** The host the per-host limit counts a call under (lower-case host:port). */
export function hostKey(url: URL): string {
  return url.host.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Starting an attempt

export interface StartSpec {
  /** Who performs it: CALL_ASSIGNEE for a call task, the endpoint agent's id for its task. */
  agent: string;
  /** The attempt deadline from now: the call's timeout plus the sweep's grace (call tasks), the task's timeout_ms (endpoint agents: kept from the assignment). */
  deadlineMs?: number;
}

/**
 * A call task claimed by an executor: pending → running in one step (events `assigned`, then
 * `started`: the request goes out right after the claim commits), attempt + 1, an attempt
 * deadline of the call's timeout plus CALL_BOUNDS.sweepGraceMs (so the executor records its own
 * timeout first, and the sweep covers a replica lost mid-call), no wake or heartbeat deadline.
 */
export function decideCallStart(row: TaskRow, now: Date): Change {
  if (row.call === null) throw new Error(`task ${row.id} has no call`);
  const a = decideAssignment(row, { agent: CALL_ASSIGNEE, score: 1, woke: false }, now, 1);
  const next: TaskRow = {
    ...a.next,
    status: 'running',
    started_at: now,
    wake_deadline_at: null,
    heartbeat_deadline_at: null,
    deadline_at: new Date(now.getTime() + row.call.timeout_ms + CALL_BOUNDS.sweepGraceMs),
  };
  return withEvents(a, next, ['assigned', 'started']);
}

/** An endpoint agent's assigned task taken for its push: assigned → running (event `started`); the attempt deadline stays. */
export function decideEndpointStart(row: TaskRow, agent: string, now: Date): Change {
  const next: TaskRow = { ...row, status: 'running', started_at: now, wake_deadline_at: null, updated_at: now };
  return { before: row, next, events: [{ type: 'started', task: taskOf(next), extra: { agent } }], guard: { statuses: ['assigned'], assignee: agent } };
}

function withEvents(a: Change, next: TaskRow, types: Array<'assigned' | 'started'>): Change {
  const task = taskOf(next);
  const assigned = a.events[0]!;
  return {
    ...a,
    next,
    events: types.map((t) => (t === 'assigned' ? { ...assigned, task } : { type: 'started' as const, task })),
  };
}

// ---------------------------------------------------------------------------------------------
// Answers → outcomes (the table of §18.1)

/** What the request got back. */
export type Answer =
  | {
      kind: 'response';
      status: number;
      contentType: string;
      /** The body's text (at most what was read) and whether it was cut. */
      text: string;
      truncated: boolean;
      retryAfter?: string;
    }
  | {
      kind: 'stream';
      status: number;
      /** Every event's payload text, in order (SSE `data`, NDJSON lines). */
      last: string | undefined;
      count: number;
    }
  | { kind: 'error'; error: string; timedOut: boolean; refused?: boolean };

export type Outcome =
  | { kind: 'completed'; result: unknown; statusCode: number }
  | { kind: 'accepted'; statusCode: number }
  | { kind: 'retry'; error: string; statusCode: number | null; retryAfterMs?: number }
  | { kind: 'fail'; error: string; statusCode: number | null }
  | { kind: 'timeout'; error: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `s` cut to at most `max` UTF-8 bytes (never inside a character). */
export function cutBytes(s: string, max: number): string {
  const b = encoder.encode(s);
  if (b.length <= max) return s;
  return decoder.decode(b.subarray(0, max)).replace(/\uFFFD+$/, '');
}

/** Whether a content type is one of the streamed forms. */
export function isStreamType(contentType: string): boolean {
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return t === 'text/event-stream' || t === 'application/x-ndjson';
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);
export const isRetryableStatus = (s: number) => RETRYABLE_STATUS.has(s) || (s >= 500 && s <= 599);

/** Retry-After (delta seconds or an HTTP date) as milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = new Date(v).getTime();
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{"ok": false}` → the failure's message (body `error`, else "ok: false"); undefined otherwise. */
function okFalse(v: unknown): string | undefined {
  if (!isObj(v) || v.ok !== false) return undefined;
  return typeof v.error === 'string' && v.error !== '' ? cutBytes(v.error, CALL_BOUNDS.messageBytes) : 'ok: false';
}

/**
 * The outcome of an answer (§18.1): 2xx JSON without ok:false → completed with the body (a
 * non-JSON body as {status, body ≤ 64 KiB}); ok:false → retryable; 408, 425, 429, 5xx, a
 * connection error → retryable (Retry-After kept); a timeout → timeout; any other status →
 * failed at once, as is a host refused at connect (DNS rebinding). A stream's result is its last
 * event's JSON (its text when not JSON). With `endpoint`, 202 means accepted (the agent reports
 * later) and a push that timed out is a retryable failure.
 */
export function outcomeOf(answer: Answer, now: Date, endpoint = false): Outcome {
  if (answer.kind === 'error') {
    if (answer.refused) return { kind: 'fail', error: answer.error, statusCode: null };
    // A call's own timeout ends its attempt (timeout, then retry or timed_out); an endpoint's push timeout is a failed push.
    return answer.timedOut && !endpoint ? { kind: 'timeout', error: answer.error } : { kind: 'retry', error: answer.error, statusCode: null };
  }
  const status = answer.status;
  if (answer.kind === 'stream') {
    const parsed = answer.last === undefined ? undefined : parseJson(answer.last);
    const result = parsed === undefined ? { status, body: '' } : parsed.ok ? parsed.value : { status, body: cutBytes(answer.last!, CALL_BOUNDS.textBodyBytes) };
    const failed = okFalse(result);
    return failed !== undefined ? { kind: 'retry', error: failed, statusCode: status } : { kind: 'completed', result, statusCode: status };
  }
  if (status >= 200 && status <= 299) {
    if (endpoint && status === 202) return { kind: 'accepted', statusCode: status };
    const parsed = !answer.truncated && answer.text !== '' ? parseJson(answer.text) : { ok: false as const };
    if (parsed.ok) {
      const failed = okFalse(parsed.value);
      return failed !== undefined ? { kind: 'retry', error: failed, statusCode: status } : { kind: 'completed', result: parsed.value, statusCode: status };
    }
    return { kind: 'completed', result: { status, body: cutBytes(answer.text, CALL_BOUNDS.textBodyBytes) }, statusCode: status };
  }
  const error = cutBytes(answer.text ? `HTTP ${status}: ${answer.text}` : `HTTP ${status}`, CALL_BOUNDS.messageBytes);
  if (isRetryableStatus(status)) {
    const after = retryAfterMs(answer.retryAfter, now);
    return { kind: 'retry', error, statusCode: status, ...(after !== undefined ? { retryAfterMs: after } : {}) };
  }
  return { kind: 'fail', error, statusCode: status };
}

/** An outcome as a decided change of the running attempt (undefined for `accepted`: nothing changes). */
export function decideOutcome(
  row: TaskRow,
  agent: string,
  outcome: Outcome,
  policy: BackoffPolicy,
  random: Random,
  now: Date,
): (Change & { retried: boolean }) | undefined {
  switch (outcome.kind) {
    case 'accepted':
      return undefined;
    case 'completed':
      return { ...decideComplete(row, agent, outcome.result, now, { status_code: outcome.statusCode }), retried: false };
    case 'timeout':
      // The attempt's own timeout: as the sweep decides it (retry or timed_out), guarded on this assignee.
      return decideAttemptTimeout(row, policy, random, now);
    case 'retry':
      return decideFail(
        row,
        agent,
        { error: outcome.error, retryable: true, retryAfterMs: outcome.retryAfterMs, statusCode: outcome.statusCode },
        policy,
        random,
        now,
      );
    case 'fail':
      return decideFail(row, agent, { error: outcome.error, retryable: false, statusCode: outcome.statusCode }, policy, random, now);
  }
}

/** One streamed event as a progress report of the running attempt (message ≤ 4 KiB). */
export function decideStreamed(row: TaskRow, agent: string, text: string, now: Date): Change {
  const c = decideProgress(row, agent, { message: cutBytes(text, CALL_BOUNDS.messageBytes) }, now);
  // Marked, so the attempt's log is these lines (core/attempts.ts) and not an agent's own reports.
  return { ...c, events: c.events.map((e) => (e.type === 'progress' ? { ...e, extra: { ...e.extra, streamed: true } } : e)) };
}

// ---------------------------------------------------------------------------------------------
// Which due attempts to claim now

export interface ClaimCandidate {
  id: string;
  /** Its destination (core hostKey). */
  host: string;
}

/**
 * The candidates (in their order) this replica claims now: at most `free` in all, and per host
 * no more than `perHost` counting what is already in flight there (`inFlight`). Skipped ones stay
 * for a later run.
 */
export function planClaims<C extends ClaimCandidate>(candidates: readonly C[], free: number, inFlight: ReadonlyMap<string, number>, perHost: number): C[] {
  const taken = new Map<string, number>();
  const out: C[] = [];
  for (const c of candidates) {
    if (out.length >= free) break;
    const n = (inFlight.get(c.host) ?? 0) + (taken.get(c.host) ?? 0);
    if (n >= perHost) continue;
    taken.set(c.host, (taken.get(c.host) ?? 0) + 1);
    out.push(c);
  }
  return out;
}

/** When a pending call task came due: its not_before when later than its queueing, else its queueing. */
export function dueAt(row: Pick<TaskRow, 'queued_at' | 'not_before'>): Date {
  return row.not_before !== null && row.not_before > row.queued_at ? row.not_before : row.queued_at;
}
