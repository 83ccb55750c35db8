// A minimal text/event-stream reader over fetch (the task's event stream, CONTRACT §12.3): yields
// {id, event, data} per frame; comment lines (the 15-s keep-alive) are skipped.
import { apiError } from './errors.js';

export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

export async function* readEventStream(
  url: string,
  opts: { headers: Record<string, string>; signal?: AbortSignal; fetch?: typeof globalThis.fetch },
): AsyncGenerator<SseFrame> {
  const res = await (opts.fetch ?? fetch)(url, { headers: { ...opts.headers, accept: 'text/event-stream' }, ...(opts.signal ? { signal: opts.signal } : {}) });
  if (!res.ok || !res.body) throw apiError(res.status, await res.json().catch(() => undefined));
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const frame: SseFrame = { event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (!line || line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'event') frame.event = value;
        else if (field === 'id') frame.id = value;
      }
      if (data.length === 0) continue;
      frame.data = data.join('\n');
      yield frame;
    }
  }
}
