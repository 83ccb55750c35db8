// A call task's request as stored (CONTRACT §18.1, docs/calls.md) and the bounds of an attempt;
// the decisions about it are in calls.ts. Pure, no imports: task.ts types its column with it.

/** The credential every call may name even with no secret configured (the Wordware events, §19.2): then its calls go without Authorization. */
export const WORDWARE_CREDENTIAL = 'wordware';

/** The assignee of every call task: Dispatch itself. */
export const CALL_ASSIGNEE = 'dispatch:http';

export const CALL_METHOD_NAMES = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type CallMethodName = (typeof CALL_METHOD_NAMES)[number];

/** A call as stored on its task (defaults filled in). */
export interface CallSpec {
  url: string;
  method: CallMethodName;
  headers?: Record<string, string>;
  credential?: string;
  body?: unknown;
  timeout_ms: number;
}

/** Bounds of what an attempt keeps, named once (§18.1). */
export const CALL_BOUNDS = {
  /** Default per-attempt timeout. */
  timeoutMsDefault: 15_000,
  /** A non-JSON 2xx body kept in the result. */
  textBodyBytes: 64 * 1024,
  /** The largest JSON body taken as the result (larger ones are kept as text, truncated). */
  jsonBodyBytes: 256 * 1024,
  /** One streamed event's `message` in its progress report, and an attempt's `error`. */
  messageBytes: 4096,
  /** An attempt's `log` (its streamed lines) in GET /attempts. */
  logBytes: 16 * 1024,
  /** After the call's own timeout, the attempt deadline the sweep enforces when the executor is gone (a replica lost mid-call). */
  sweepGraceMs: 2000,
} as const;
