// The one HTTP helper every neighbour client uses (undici): keep-alive connections, connect and
// request timeouts, bounded retries with full jitter for retryable failures only, errors
// classified in one table, and dispatch_upstream_requests_total / _duration recorded per attempt.
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import type { Metrics } from '../observability/metrics.js';
import type { Random } from '../ports.js';
import { backoffDelay } from '../core/retry.js';

export type UpstreamService = 'warren' | 'promptforge' | 'alexandria';

/** Failure kinds, the outcome label of dispatch_upstream_requests_total. */
export type FailureKind = 'network' | 'timeout' | 'rate_limited' | 'server_error' | 'not_found' | 'client_error' | 'bad_response';

/** Retryable or not, in one place (STYLE §8): network trouble, 429 and 5xx are; 4xx and garbage are not. */
export const RETRYABLE: Record<FailureKind, boolean> = {
  network: true,
  timeout: true,
  rate_limited: true,
  server_error: true,
  not_found: false,
  client_error: false,
  bad_response: false,
};

export class UpstreamError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly service: UpstreamService,
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
    /** From Retry-After on 429/503. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(`${service}: ${message}`, options);
    this.name = 'UpstreamError';
    this.retryable = RETRYABLE[kind];
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ABORT_ERR', 'UND_ERR_ABORTED']);

/** Map a thrown error or a status code to a kind. */
export function classify(input: { status: number } | { error: unknown }): FailureKind {
  if ('status' in input) {
    const s = input.status;
    if (s === 429) return 'rate_limited';
    if (s === 404) return 'not_found';
    if (s >= 500) return 'server_error';
    return 'client_error';
  }
  const err = input.error as { code?: string; name?: string; cause?: { code?: string } } | undefined;
  const code = err?.code ?? err?.cause?.code;
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError' || (code && TIMEOUT_CODES.has(code))) return 'timeout';
  if (code && NETWORK_CODES.has(code)) return 'network';
  return 'network';
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export interface HttpClientOptions {
  service: UpstreamService;
  baseUrl: string;
  headers?: Record<string, string>;
  /** Whole-request budget per attempt (connect + headers + body). */
  timeoutMs: number;
  /** Retries after the first attempt, for retryable failures only. */
  retries?: number;
  /** Backoff base between attempts (full jitter, doubled each time, capped at 1 s). */
  backoffBaseMs?: number;
  /** A Retry-After longer than this is not waited for: the call fails as rate_limited. */
  maxRetryAfterMs?: number;
  maxBodyBytes?: number;
  metrics: Metrics;
  random: Random;
}

export interface HttpClient {
  getJson(path: string): Promise<unknown>;
  postJson(path: string, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** Cap of the jittered backoff between two attempts of one neighbour call. */
const MAX_BACKOFF_MS = 1000;

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const retries = opts.retries ?? 2;
  const backoffBase = opts.backoffBaseMs ?? 100;
  const maxRetryAfter = opts.maxRetryAfterMs ?? 2000;
  const maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  const dispatcher: Dispatcher = new Agent({
    connect: { timeout: Math.min(opts.timeoutMs, 5000) },
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    connections: 16,
  });

  async function attempt(method: 'GET' | 'POST', path: string, body: unknown): Promise<unknown> {
    const started = performance.now();
    let outcome: string = 'ok';
    try {
      let res: Dispatcher.ResponseData;
      const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const signal = AbortSignal.timeout(opts.timeoutMs);
      try {
        res = await request(`${base}${path}`, {
          method,
          headers,
          dispatcher,
          signal,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      } catch (error) {
        const kind = classify({ error });
        throw new UpstreamError(opts.service, kind, `${method} ${path}: ${kind} (${(error as Error).message})`, undefined, undefined, { cause: error });
      }
      let text: string;
      try {
        text = await readCapped(res, maxBody, signal, opts.service);
      } catch (error) {
        const kind = error instanceof UpstreamError ? error.kind : classify({ error });
        if (error instanceof UpstreamError) throw error;
        throw new UpstreamError(opts.service, kind, `${method} ${path}: ${kind} while reading the body`, res.statusCode, undefined, { cause: error });
      }
      if (res.statusCode >= 300) {
        const kind = classify({ status: res.statusCode });
        const retryAfter = parseRetryAfter(res.headers['retry-after'], Date.now());
        throw new UpstreamError(opts.service, kind, `${method} ${path}: HTTP ${res.statusCode} ${summarise(text)}`, res.statusCode, retryAfter);
      }
      try {
        return text === '' ? null : JSON.parse(text);
      } catch {
        throw new UpstreamError(opts.service, 'bad_response', `${method} ${path}: response is not JSON (${summarise(text)})`, res.statusCode);
      }
    } catch (err) {
      outcome = err instanceof UpstreamError ? err.kind : 'network';
      throw err;
    } finally {
      opts.metrics.upstreamRequests.inc({ service: opts.service, outcome });
      opts.metrics.upstreamDuration.observe({ service: opts.service }, (performance.now() - started) / 1000);
    }
  }

  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    for (let n = 0; ; n++) {
      try {
        return await attempt(method, path, body);
      } catch (err) {
        if (!(err instanceof UpstreamError) || !err.retryable || n >= retries) throw err;
        let delay = backoffDelay(n, { baseMs: backoffBase, maxMs: MAX_BACKOFF_MS }, opts.random);
        if (err.retryAfterMs !== undefined) {
          if (err.retryAfterMs > maxRetryAfter) throw err;
          delay = Math.max(delay, err.retryAfterMs);
        }
        await sleep(delay);
      }
    }
  }

  return {
    getJson: (path) => call('GET', path),
    postJson: (path, body) => call('POST', path, body),
    // Stopping must not wait for a hanging neighbour: in-flight requests are aborted.
    close: () => dispatcher.destroy(),
  };
}

async function readCapped(res: Dispatcher.ResponseData, max: number, signal: AbortSignal, service: UpstreamService): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    if (signal.aborted) throw signal.reason;
    size += (chunk as Buffer).length;
    if (size > max) {
      res.body.destroy();
      throw new UpstreamError(service, 'bad_response', `response larger than ${max} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function summarise(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 120 ? `${t.slice(0, 120)}…` : t;
}

/** Throw bad_response unless `ok`: clients validate shapes with this. */
export function expectShape(service: UpstreamService, ok: boolean, what: string): void {
  if (!ok) throw new UpstreamError(service, 'bad_response', `unexpected response shape: ${what}`);
}
