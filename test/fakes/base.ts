// Shared machinery of the neighbour fakes: a real HTTP server on 127.0.0.1, call counting,
// injectable failures, and loud failure on any call a fake was not built for.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a fake does instead of answering normally. */
export type FailureMode =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'hang' } // accept the request, never answer (until the server closes)
  | { kind: 'slow'; ms: number } // answer normally after a delay
  | { kind: 'html' } // 200 with an HTML page
  | { kind: 'truncated' } // 200 with JSON cut in the middle
  | { kind: 'wrong_types' } // 200 with valid JSON of the wrong shape
  | { kind: 'reset' }; // destroy the connection

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A route handler: a Reply, or undefined when the route does not exist (→ unexpected call). */
export type Handler = (call: Call) => Reply | undefined;

export class FakeServer implements AsyncDisposable {
  url = '';
  readonly calls: Call[] = [];
  /** Calls no route was built for: a fake fails the test at close when there are any. */
  readonly unexpected: Call[] = [];
  /** Failure applied to every call whose path starts with the key ('' = all). */
  readonly failures = new Map<string, { mode: FailureMode; remaining: number }>();
  private readonly server: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(
    readonly service: string,
    private readonly handler: Handler,
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Fail calls under `pathPrefix` ('' = every call) in the given way, `times` times or until healed. */
  fail(mode: FailureMode, pathPrefix = '', times = Infinity): void {
    this.failures.set(pathPrefix, { mode, remaining: times });
  }

  heal(): void {
    this.failures.clear();
  }

  count(pathPrefix = '', method?: string): number {
    return this.calls.filter((c) => c.path.startsWith(pathPrefix) && (!method || c.method === method)).length;
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  private failureFor(path: string): FailureMode | undefined {
    let best: [string, { mode: FailureMode; remaining: number }] | undefined;
    for (const [prefix, f] of this.failures) {
      if (f.remaining > 0 && path.startsWith(prefix) && (!best || prefix.length > best[0].length)) best = [prefix, f];
    }
    if (!best) return undefined;
    best[1].remaining -= 1;
    return best[1].mode;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    for await (const _ of req) {
      /* drain the body */
    }
    const u = new URL(req.url ?? '/', 'http://fake');
    const call: Call = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers };
    this.calls.push(call);
    const failure = this.failureFor(u.pathname);
    const send = (status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
      res.writeHead(status, headers);
      res.end(body);
    };
    if (failure) {
      switch (failure.kind) {
        case 'status':
          return send(failure.status, failure.body ?? JSON.stringify({ error: 'injected failure' }), {
            'content-type': 'application/json',
            ...(failure.headers ?? {}),
          });
        case 'hang':
          return; // the socket is destroyed at close
        case 'html':
          return send(200, '<!doctype html><html><body><h1>Bad Gateway</h1></body></html>', { 'content-type': 'text/html' });
        case 'truncated':
          return send(200, '[{"name":"half', { 'content-type': 'application/json' });
        case 'wrong_types':
          return send(200, JSON.stringify({ data: 42, name: ['not', 'a', 'string'], sections: 'nope' }));
        case 'reset':
          req.socket.destroy();
          return;
        case 'slow':
          await new Promise((r) => setTimeout(r, failure.ms));
          break;
      }
    }
    const reply = this.handler(call);
    if (!reply) {
      this.unexpected.push(call);
      console.error(`[fake ${this.service}] unexpected call ${call.method} ${u.pathname}${u.search}`);
      return send(599, JSON.stringify({ error: `fake ${this.service}: unexpected call ${call.method} ${u.pathname}` }));
    }
    send(reply.status, JSON.stringify(reply.body), { 'content-type': 'application/json', ...(reply.headers ?? {}) });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.unexpected.length) {
      throw new Error(`fake ${this.service} got unexpected calls: ${this.unexpected.map((c) => `${c.method} ${c.path}`).join(', ')}`);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
