// A small SSE client over undici for tests: collects frames, lets a test await the next ones,
// and can be killed mid-stream (the connection destroyed, as a crashing client would).
import { request } from 'undici';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: any;
}

export interface SseClient {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  frames: SseFrame[];
  /** Comment lines seen (heartbeats, the opening comment). */
  comments: string[];
  /** Resolves when at least n frames have arrived (rejects if the stream ends first). */
  until(n: number): Promise<SseFrame[]>;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  kill(): void;
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseClient> {
  const res = await request(url, { headers: { accept: 'text/event-stream', ...headers }, bodyTimeout: 0 });
  const frames: SseFrame[] = [];
  const comments: string[] = [];
  const waiters: Array<() => void> = [];
  let done = false;
  let buf = '';
  const poke = () => waiters.splice(0).forEach((w) => w());
  const ended = (async () => {
    try {
      for await (const chunk of res.body) {
        buf += chunk.toString();
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f: SseFrame = {};
          let isFrame = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) {
              f.id = line.slice(4);
              isFrame = true;
            } else if (line.startsWith('event: ')) f.event = line.slice(7);
            else if (line.startsWith('data: ')) f.data = JSON.parse(line.slice(6));
          }
          if (isFrame) frames.push(f);
        }
        poke();
      }
    } catch {
      /* killed */
    } finally {
      done = true;
      poke();
    }
  })();
  return {
    status: res.statusCode,
    headers: res.headers as Record<string, string | string[] | undefined>,
    frames,
    comments,
    ended,
    kill: () => res.body.destroy(),
    until(n) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (frames.length >= n) return resolve(frames.slice());
          if (done) return reject(new Error(`stream ended with ${frames.length} frames, wanted ${n}`));
          waiters.push(check);
        };
        check();
      });
    },
  };
}
