// The pure parts of call tasks (core/calls.ts, core/attempts.ts, calls/stream.ts): the outcome
// table of §18.1, Retry-After, url joining, the claim plan, attempts from events, stream parsing.
import { describe, expect, it } from 'vitest';
import { callProblems, callUrl, outcomeOf, planClaims, retryAfterMs, normaliseCall, type Answer } from '../src/core/calls.js';
import { attemptsOf } from '../src/core/attempts.js';
import { ndjsonParser, sseParser } from '../src/calls/stream.js';

const NOW = new Date('2026-01-01T12:00:00.000Z');
const res = (status: number, text: string, o: Partial<Extract<Answer, { kind: 'response' }>> = {}): Answer => ({
  kind: 'response',
  status,
  contentType: 'application/json',
  text,
  truncated: false,
  ...o,
});

describe('outcomeOf (the table of §18.1)', () => {
  it('2xx JSON without ok:false completes with the body; non-JSON as {status, body}', () => {
    expect(outcomeOf(res(200, '{"a":1}'), NOW)).toEqual({ kind: 'completed', result: { a: 1 }, statusCode: 200 });
    expect(outcomeOf(res(201, '{"ok":true}'), NOW)).toEqual({ kind: 'completed', result: { ok: true }, statusCode: 201 });
    expect(outcomeOf(res(200, 'hello', { contentType: 'text/plain' }), NOW)).toEqual({
      kind: 'completed',
      result: { status: 200, body: 'hello' },
      statusCode: 200,
    });
    expect(outcomeOf(res(204, ''), NOW)).toEqual({ kind: 'completed', result: { status: 204, body: '' }, statusCode: 204 });
  });

  it('ok:false is retryable with the body error, else "ok: false"', () => {
    expect(outcomeOf(res(200, '{"ok":false,"error":"quota"}'), NOW)).toEqual({ kind: 'retry', error: 'quota', statusCode: 200 });
    expect(outcomeOf(res(200, '{"ok":false}'), NOW)).toEqual({ kind: 'retry', error: 'ok: false', statusCode: 200 });
  });

  it('408, 425, 429 and 5xx are retryable (Retry-After kept); other 4xx and 3xx fail at once', () => {
    for (const s of [408, 425, 429, 500, 502, 503, 599]) expect(outcomeOf(res(s, 'x'), NOW).kind, String(s)).toBe('retry');
    for (const s of [300, 400, 401, 403, 404, 409, 410, 422]) expect(outcomeOf(res(s, 'x'), NOW).kind, String(s)).toBe('fail');
    expect(outcomeOf(res(429, '', { retryAfter: '7' }), NOW)).toEqual({ kind: 'retry', error: 'HTTP 429', statusCode: 429, retryAfterMs: 7000 });
    expect(outcomeOf(res(404, 'nope'), NOW)).toEqual({ kind: 'fail', error: 'HTTP 404: nope', statusCode: 404 });
  });

  it('errors: a connection error is retryable, a timeout times the attempt out, a refused host fails; an endpoint: 202 accepted, push timeout retryable', () => {
    expect(outcomeOf({ kind: 'error', error: 'connection refused', timedOut: false }, NOW).kind).toBe('retry');
    expect(outcomeOf({ kind: 'error', error: 'slow', timedOut: true }, NOW).kind).toBe('timeout');
    expect(outcomeOf({ kind: 'error', error: 'private', timedOut: false, refused: true }, NOW).kind).toBe('fail');
    expect(outcomeOf(res(202, '{}'), NOW, true)).toEqual({ kind: 'accepted', statusCode: 202 });
    expect(outcomeOf(res(202, '{}'), NOW).kind).toBe('completed');
    expect(outcomeOf({ kind: 'error', error: 'slow', timedOut: true }, NOW, true).kind).toBe('retry');
  });

  it("a stream's result is its last event's JSON, its text when not JSON; ok:false in it is retryable", () => {
    expect(outcomeOf({ kind: 'stream', status: 200, last: '{"x":1}', count: 3 }, NOW)).toEqual({ kind: 'completed', result: { x: 1 }, statusCode: 200 });
    expect(outcomeOf({ kind: 'stream', status: 200, last: 'bye', count: 1 }, NOW)).toEqual({
      kind: 'completed',
      result: { status: 200, body: 'bye' },
      statusCode: 200,
    });
    expect(outcomeOf({ kind: 'stream', status: 200, last: undefined, count: 0 }, NOW)).toEqual({
      kind: 'completed',
      result: { status: 200, body: '' },
      statusCode: 200,
    });
    expect(outcomeOf({ kind: 'stream', status: 200, last: '{"ok":false}', count: 1 }, NOW).kind).toBe('retry');
  });

  it('error and text bodies are bounded (4 KiB, 64 KiB)', () => {
    const big = 'é'.repeat(10_000);
    const fail = outcomeOf(res(400, big), NOW) as { error: string };
    expect(Buffer.byteLength(fail.error)).toBeLessThanOrEqual(4096);
    const text = outcomeOf(res(200, 'x'.repeat(100_000), { contentType: 'text/plain' }), NOW) as { result: { body: string } };
    expect(text.result.body).toHaveLength(64 * 1024);
  });
});

describe('retryAfterMs, callUrl, callProblems, planClaims', () => {
  it('reads delta seconds and HTTP dates', () => {
    expect(retryAfterMs('3', NOW)).toBe(3000);
    expect(retryAfterMs('Thu, 01 Jan 2026 12:00:10 GMT', NOW)).toBe(10_000);
    expect(retryAfterMs('soon', NOW)).toBeUndefined();
    expect(retryAfterMs(undefined, NOW)).toBeUndefined();
  });

  it('joins a path to base_url, keeping its path prefix and the query', () => {
    expect(callUrl('/functions/v1/x?a=1', 'https://edge.example/base/').toString()).toBe('https://edge.example/base/functions/v1/x?a=1');
    expect(callUrl('/x', 'https://edge.example').toString()).toBe('https://edge.example/x');
    expect(callUrl('http://other/y', 'https://edge.example').toString()).toBe('http://other/y');
  });

  it('lists every problem of a call; fills in the defaults', () => {
    const rules = { baseUrl: '', knownCredential: (n: string) => n === 'wordware' };
    expect(callProblems({ url: '/p', credential: 'x', headers: { 'X-Dispatch-Agent': 'me' }, timeout_ms: 9000 }, 5000, rules).map((p) => p.field)).toEqual([
      'call.url',
      'call.headers.X-Dispatch-Agent',
      'call.credential',
      'call.timeout_ms',
    ]);
    expect(callProblems({ url: 'https://h/p', credential: 'wordware' }, 300_000, rules)).toEqual([]);
    expect(normaliseCall({ url: '/p' })).toEqual({ url: '/p', method: 'POST', timeout_ms: 15000 });
  });

  it('claims at most `free`, and per host no more than per_host counting what is in flight', () => {
    const c = (id: string, host: string) => ({ id, host });
    const picked = planClaims([c('1', 'a'), c('2', 'a'), c('3', 'b'), c('4', 'a'), c('5', 'c')], 3, new Map([['a', 1]]), 2);
    expect(picked.map((p) => p.id)).toEqual(['1', '3', '5']);
    expect(planClaims([c('1', 'a')], 0, new Map(), 5)).toEqual([]);
  });
});

describe('attemptsOf', () => {
  const ev = (type: string, timestamp: string, data: Record<string, unknown> = {}) => ({ type: `task.${type}`, timestamp, data: { task: {}, ...data } });
  it('opens at assigned, closes at the event that ends the attempt; streamed lines are the log', () => {
    const a = attemptsOf([
      ev('created', '2026-01-01T00:00:00.000Z'),
      ev('assigned', '2026-01-01T00:00:01.000Z', { agent: 'dispatch:http' }),
      ev('started', '2026-01-01T00:00:01.000Z'),
      ev('failed', '2026-01-01T00:00:02.500Z', { will_retry: true, status_code: 503, task: { error: 'HTTP 503' } }),
      ev('retry', '2026-01-01T00:00:02.500Z'),
      ev('assigned', '2026-01-01T00:00:03.000Z', { agent: 'dispatch:http' }),
      ev('progress', '2026-01-01T00:00:03.100Z', { streamed: true, task: { progress: { message: 'one' } } }),
      ev('progress', '2026-01-01T00:00:03.200Z', { streamed: true, task: { progress: { message: 'two' } } }),
      ev('completed', '2026-01-01T00:00:04.000Z', { status_code: 200 }),
      ev('requeued', '2026-01-01T00:00:05.000Z'),
      ev('assigned', '2026-01-01T00:00:06.000Z', { agent: 'scout' }),
      ev('reassigned', '2026-01-01T00:00:36.000Z', { reason: 'wake_timeout' }),
      ev('assigned', '2026-01-01T00:00:37.000Z', { agent: 'scout' }),
    ]);
    expect(a).toEqual([
      {
        attempt: 1,
        agent: 'dispatch:http',
        started_at: '2026-01-01T00:00:01.000Z',
        finished_at: '2026-01-01T00:00:02.500Z',
        outcome: 'failed',
        duration_ms: 1500,
        status_code: 503,
        error: 'HTTP 503',
      },
      {
        attempt: 2,
        agent: 'dispatch:http',
        started_at: '2026-01-01T00:00:03.000Z',
        finished_at: '2026-01-01T00:00:04.000Z',
        outcome: 'completed',
        duration_ms: 1000,
        status_code: 200,
        log: 'one\ntwo',
      },
      {
        attempt: 3,
        agent: 'scout',
        started_at: '2026-01-01T00:00:06.000Z',
        finished_at: '2026-01-01T00:00:36.000Z',
        outcome: 'timed_out',
        duration_ms: 30000,
        error: 'reassigned: wake_timeout',
      },
      { attempt: 4, agent: 'scout', started_at: '2026-01-01T00:00:37.000Z', finished_at: null, outcome: 'running', duration_ms: null },
    ]);
  });
});

describe('stream parsers', () => {
  it('NDJSON: whole lines across chunks, blank lines skipped, a last line without a break kept', () => {
    const p = ndjsonParser();
    expect(p.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(p.push(':2}\r\n\n')).toEqual(['{"b":2}']);
    expect(p.push('{"c":3}')).toEqual([]);
    expect(p.end()).toEqual(['{"c":3}']);
  });

  it('SSE: data lines joined, comments and other fields read past, dispatched at a blank line or the end', () => {
    const p = sseParser();
    expect(p.push(': hi\n\nevent: x\nid: 1\ndata: a\ndata:b\n\ndata: {"c"')).toEqual(['a\nb']);
    expect(p.push(':1}\n\nretry: 5\n\n')).toEqual(['{"c":1}']);
    expect(p.push('data: last')).toEqual([]);
    expect(p.end()).toEqual(['last']);
  });
});
