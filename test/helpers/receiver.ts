// A real HTTP receiver on 127.0.0.1 for call tasks and endpoint agents: records every request
// (method, path, headers, body) and answers with the handler of its path (or leaves it hanging).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, received: Received, n: number) => void;

export interface Receiver {
  received: Received[];
  /** Requests to `path` so far. */
  to(path: string): Received[];
  url(path: string): string;
  on(path: string, handler: Handler): void;
  close(): Promise<void>;
}

export async function startReceiver(handlers: Record<string, Handler> = {}): Promise<Receiver> {
  const received: Received[] = [];
  const routes = new Map(Object.entries(handlers));
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const r: Received = { method: req.method ?? '', path, headers: req.headers, body, at: Date.now() };
      received.push(r);
      const h = routes.get(path);
      if (!h) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no such path');
      h(req, res, r, received.filter((x) => x.path === path).length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    to: (path) => received.filter((r) => r.path === path),
    url: (path) => `http://127.0.0.1:${port}${path}`,
    on: (path, h) => void routes.set(path, h),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
