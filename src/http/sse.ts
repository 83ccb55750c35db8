// The SSE writer (docs/waiting.md): takes the reply over from fastify and frames outbox rows as
// `id:` / `event:` / `data:`, with a comment line every heartbeatMs so proxies keep the stream.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventStream, EventSink } from '../services/waiting.js';
import type { FeedRow } from '../waiting/index.js';

/** The comment line that keeps idle proxies from closing a stream. */
export const SSE_HEARTBEAT_MS = 15_000;
/** A client whose unsent bytes pass this is let go (it resumes with Last-Event-ID). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export function wantsEventStream(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

export function frame(row: FeedRow): string {
  return `id: ${row.id}\nevent: ${String(row.envelope.type)}\ndata: ${JSON.stringify(row.envelope)}\n\n`;
}

/** Serve `stream` over SSE on this reply until it ends or the client goes away. */
export async function serveEventStream(
  req: FastifyRequest,
  reply: FastifyReply,
  stream: EventStream,
  opts: { heartbeatMs?: number; closing?: () => boolean } = {},
): Promise<void> {
  const heartbeatMs = opts.heartbeatMs ?? SSE_HEARTBEAT_MS;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': req.id,
  });
  res.write(': dispatch event stream\n\n');
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs).unref();
  let ended = false;
  const sink: EventSink = {
    send(row) {
      if (ended) return false;
      res.write(frame(row));
      return res.writableLength < MAX_BUFFERED_BYTES;
    },
    drain: () =>
      new Promise<void>((resolve) => {
        if (ended || res.writableLength === 0) return resolve();
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.once('drain', done).once('close', done);
      }),
    end() {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      // Ended by a shutdown: close the connection too, or the closing server would wait for it.
      if (opts.closing?.()) res.end(() => res.socket?.end());
      else res.end();
    },
  };
  const onClose = () => stream.close();
  res.once('close', onClose);
  try {
    await stream.run(sink);
  } catch (err) {
    req.log.warn({ err: (err as Error).message }, 'event stream failed');
    stream.close();
  } finally {
    sink.end();
    res.off('close', onClose);
  }
}
