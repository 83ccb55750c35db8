// HTTP to a set of Dispatch replicas: each request goes to the next replica in turn and moves on
// to the others when a connection fails (a replica killed or restarting).
import { Pool } from 'undici';

export interface JsonResponse {
  status: number;
  body: any;
}

export class MultiHttp {
  private pools: Pool[];
  private next = 0;

  constructor(
    readonly urls: string[],
    connections = 32,
  ) {
    this.pools = urls.map((u) => new Pool(u, { connections, pipelining: 1 }));
  }

  async request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<JsonResponse> {
    let lastErr: unknown;
    const start = this.next++ % this.pools.length;
    for (let k = 0; k < this.pools.length; k++) {
      const pool = this.pools[(start + k) % this.pools.length]!;
      try {
        const res = await pool.request({ method: method as never, path, headers, body, headersTimeout: 15_000, bodyTimeout: 15_000 });
        const text = await res.body.text();
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = text;
        }
        return { status: res.statusCode, body: parsed };
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr;
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close().catch(() => {})));
  }
}
