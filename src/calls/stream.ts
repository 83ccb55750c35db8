// The streamed answers of a call (CONTRACT §18.1): `text/event-stream` (each event's `data`, its
// lines joined by "\n"; comments, `event:`, `id:` and `retry:` lines read past) and
// `application/x-ndjson` (each non-blank line). Incremental: chunks in, whole events out, so each
// event becomes a progress report as it arrives. A line longer than MAX_LINE_CHARS is cut there.

/** The longest line kept whole; the rest of it is dropped (a progress message keeps 4 KiB anyway). */
export const MAX_LINE_CHARS = 256 * 1024;

/** Splits text into lines (\n, \r\n or \r), across chunks. */
class Lines {
  private buf = '';
  private skipLf = false;
  private overflow = false;

  push(chunk: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (this.skipLf) {
        this.skipLf = false;
        if (ch === '\n') continue;
      }
      if (ch === '\n' || ch === '\r') {
        out.push(this.buf);
        this.buf = '';
        this.overflow = false;
        this.skipLf = ch === '\r';
        continue;
      }
      if (this.buf.length < MAX_LINE_CHARS) this.buf += ch;
      else this.overflow = true;
    }
    return out;
  }

  /** The last line when the stream ended without a line break. */
  end(): string[] {
    const rest = this.buf;
    this.buf = '';
    return rest === '' && !this.overflow ? [] : [rest];
  }
}

export interface StreamParser {
  /** The events completed by this chunk, in order. */
  push(chunk: string): string[];
  /** What the end of the stream completes. */
  end(): string[];
}

/** application/x-ndjson: every non-blank line is an event. */
export function ndjsonParser(): StreamParser {
  const lines = new Lines();
  const keep = (ls: string[]) => ls.filter((l) => l.trim() !== '');
  return { push: (c) => keep(lines.push(c)), end: () => keep(lines.end()) };
}

/** text/event-stream: an event is its data lines, dispatched at a blank line (events without data are skipped). */
export function sseParser(): StreamParser {
  const lines = new Lines();
  let data: string[] | undefined;
  const feed = (ls: string[]): string[] => {
    const out: string[] = [];
    for (const line of ls) {
      if (line === '') {
        if (data !== undefined) out.push(data.join('\n'));
        data = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') (data ??= []).push(value);
    }
    return out;
  };
  return {
    push: (c) => feed(lines.push(c)),
    // A last event not followed by a blank line is still an event (many servers end that way).
    end: () => [...feed(lines.end()), ...feed([''])],
  };
}

/** The parser for a content type (callers check core/calls.ts isStreamType first). */
export function parserFor(contentType: string): StreamParser {
  return contentType.split(';')[0]!.trim().toLowerCase() === 'text/event-stream' ? sseParser() : ndjsonParser();
}
