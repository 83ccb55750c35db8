// The console's browser modules that carry logic, run in Node: the text/event-stream parser and
// the reconnecting stream reader of console/js/live.js (fetch-based: EventSource cannot send a
// bearer token), and the run-graph layout of console/js/graph.js. Plus GET /api/v1/stats/timeline,
// which feeds the overview chart, under a fake clock.
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { timelineMinutes, timelineWindow } from '../src/core/timeline.js';
import { startApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';

const load = async (file: string): Promise<any> => import(pathToFileURL(path.resolve('console/js', file)).href);

function sseResponse(chunks: string[], status = 200): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
  return new Response(status === 200 ? body : null, { status, headers: { 'content-type': 'text/event-stream' } });
}

describe('console/js/live.js', () => {
  it('parses id/event/data frames, skips comments, joins multi-line data and keeps an unfinished frame', async () => {
    const { parseFrames } = await load('live.js');
    const text = ': keep-alive\n\nid: 1\nevent: task.created\ndata: {"a":1}\n\nid:2\r\ndata: line one\r\ndata: line two\r\n\r\nid: 3\ndata: {"par';
    const { frames, rest } = parseFrames(text);
    expect(frames).toEqual([
      { id: '1', event: 'task.created', data: '{"a":1}' },
      { id: '2', event: 'message', data: 'line one\nline two' },
    ]);
    expect(rest).toBe('id: 3\ndata: {"par');
    expect(parseFrames(`${rest}tial":true}\n\n`).frames).toEqual([{ id: '3', event: 'message', data: '{"partial":true}' }]);
  });

  it('reads events across chunk boundaries, reconnects with Last-Event-ID and backoff, and stops on 404', async () => {
    const { openStream } = await load('live.js');
    const calls: Array<Record<string, string>> = [];
    const responses = [
      () =>
        sseResponse([
          'id: e1\nevent: task.created\ndata: {"id":"e1","type":"task.cre',
          'ated"}\n\n: ping\n\nid: e2\ndata: {"id":"e2","type":"task.assigned"}\n\n',
        ]),
      () => {
        throw new TypeError('network down');
      },
      () => sseResponse(['id: e3\ndata: {"id":"e3","type":"task.completed"}\n\n']),
      () => sseResponse([], 404),
    ];
    const seen: string[] = [];
    const states: string[] = [];
    const delays: number[] = [];
    const realSetTimeout = globalThis.setTimeout;
    // Backoff waits are recorded and skipped.
    (globalThis as any).setTimeout = (fn: () => void, ms: number) => {
      delays.push(ms);
      return realSetTimeout(fn, 0);
    };
    try {
      const stream = openStream({
        url: 'http://dispatch/api/v1/events',
        headers: () => ({ authorization: 'Bearer t', 'x-agent-id': 'console' }),
        fetchImpl: async (_url: string, init: { headers: Record<string, string> }) => {
          calls.push(init.headers);
          return responses[calls.length - 1]!();
        },
        onEvent: (ev: { id: string }) => seen.push(ev.id),
        onState: (s: string) => states.push(s),
        backoff: [100, 400],
        random: () => 1,
      });
      await stream.done;
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    expect(seen).toEqual(['e1', 'e2', 'e3']);
    expect(calls.map((h) => h['last-event-id'])).toEqual([undefined, 'e2', 'e2', 'e3']);
    expect(calls.every((h) => h.authorization === 'Bearer t' && h.accept === 'text/event-stream')).toBe(true);
    // After the stream ends: 100 ms; after the network error: 400 ms; a good connection resets it.
    expect(delays).toEqual([100, 400, 100]);
    expect(states).toEqual([
      'connecting',
      'live',
      'reconnecting',
      'reconnecting',
      'reconnecting',
      'reconnecting',
      'live',
      'reconnecting',
      'reconnecting',
      'unavailable',
    ]);
  });
});

describe('console/js/graph.js', () => {
  it('puts each step one column right of its deepest dependency and draws one edge per dependency', async () => {
    const { layoutRun } = await load('graph.js');
    const steps = [
      { step_id: 'a', depends_on: [] },
      { step_id: 'b', depends_on: ['a'] },
      { step_id: 'c', depends_on: ['a'] },
      { step_id: 'd', depends_on: ['b', 'a'] },
      { step_id: 'e', depends_on: [] },
    ];
    const g = layoutRun(steps, { w: 100, h: 40, gx: 20, gy: 10 });
    const at = Object.fromEntries(g.nodes.map((n: any) => [n.step.step_id, [n.col, n.row]]));
    expect(at).toEqual({ a: [0, 0], b: [1, 0], c: [1, 1], d: [2, 0], e: [0, 1] });
    expect(g.edges.map((e: any) => `${e.from}>${e.to}`)).toEqual(['a>b', 'a>c', 'b>d', 'a>d']);
    expect(g.width).toBe(3 * 120 - 20);
    expect(g.height).toBe(2 * 50 - 10);
  });
});

describe('GET /api/v1/stats/timeline', () => {
  it('buckets the last 60 minutes, oldest first, current minute last', () => {
    const now = new Date('2025-03-01T12:30:45Z');
    expect(timelineWindow(now).from.toISOString()).toBe('2025-03-01T11:31:00.000Z');
    const m = timelineMinutes(
      now,
      [
        { at: new Date('2025-03-01T11:31:00Z'), n: 2 },
        { at: new Date('2025-03-01T12:30:00Z'), n: 5 },
      ],
      [{ at: new Date('2025-03-01T12:29:00Z'), n: 1 }],
    );
    expect(m).toHaveLength(60);
    expect(m[0]).toEqual({ at: '2025-03-01T11:31:00.000Z', created: 2, finished: 0 });
    expect(m[58]).toEqual({ at: '2025-03-01T12:29:00.000Z', created: 0, finished: 1 });
    expect(m[59]).toEqual({ at: '2025-03-01T12:30:00.000Z', created: 5, finished: 0 });
  });

  it('counts tasks created and finished per minute from the database, and nothing outside the hour', async () => {
    const now = new Date('2025-03-01T12:30:45Z');
    await using t = await startApp({ clock: { now: () => now } });
    const at = (iso: string) => new Date(iso);
    await insertTask(t.sql, { created_at: at('2025-03-01T11:30:59Z') }); // 61 minutes ago: outside
    await insertTask(t.sql, { created_at: at('2025-03-01T11:31:00Z') });
    const done = await insertTask(t.sql, { status: 'completed', created_at: at('2025-03-01T12:00:10Z') });
    const failed = await insertTask(t.sql, { status: 'failed', created_at: at('2025-03-01T12:00:50Z') });
    await t.sql`update tasks set completed_at = ${at('2025-03-01T12:30:01Z')} where id = ${done.id}`;
    await t.sql`update tasks set completed_at = ${at('2025-03-01T12:29:59Z')} where id = ${failed.id}`;
    const res = await t.call('GET', '/api/v1/stats/timeline', { admin: true });
    expect(res.status).toBe(200);
    const minutes = res.body.minutes as { at: string; created: number; finished: number }[];
    expect(minutes).toHaveLength(60);
    const nonZero = minutes.filter((m) => m.created || m.finished);
    expect(nonZero).toEqual([
      { at: '2025-03-01T11:31:00.000Z', created: 1, finished: 0 },
      { at: '2025-03-01T12:00:00.000Z', created: 2, finished: 0 },
      { at: '2025-03-01T12:29:00.000Z', created: 0, finished: 1 },
      { at: '2025-03-01T12:30:00.000Z', created: 0, finished: 1 },
    ]);
    expect((await t.call('GET', '/api/v1/stats/timeline')).body.code).toBe('unauthorized');
    // The finished side is a range read on the partial index of migration 0013.
    const plan = await t.sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`;
      return tx.unsafe(`explain select count(*) from tasks where completed_at is not null and completed_at >= '2025-03-01T11:31:00Z'`);
    });
    expect(JSON.stringify(plan)).toContain('tasks_finished_idx');
  });
});
