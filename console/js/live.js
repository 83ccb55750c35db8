// Live updates (docs/console.md). GET /api/v1/events is read with fetch() and a streaming body
// reader, because EventSource cannot send the Authorization header. The stream reconnects by
// itself with Last-Event-ID and a jittered backoff; where the server has no such route, or while
// the stream is down, the views are refreshed by polling instead.

/**
 * Split text/event-stream input into complete frames. Returns the frames and the unfinished
 * rest (keep it and prepend it to the next chunk). Comment lines (": keep-alive") are skipped;
 * multi-line data is joined with "\n", as the SSE specification says.
 */
export function parseFrames(text) {
  const frames = [];
  const blocks = text.replace(/\r\n?/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    const frame = { id: null, event: 'message', data: '' };
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
      else if (field === 'data') data.push(value);
    }
    frame.data = data.join('\n');
    if (data.length > 0 || frame.id !== null) frames.push(frame);
  }
  return { frames, rest };
}

/** Reconnect delays in ms, the last one repeated; each is jittered to 50–100 %. */
export const BACKOFF_MS = [500, 1000, 2000, 5000, 10000, 30000];

/**
 * Read an SSE stream until stop(). onEvent(envelope, frame) for each frame with JSON data;
 * onState('connecting' | 'live' | 'reconnecting' | 'unavailable' | 'unauthorized').
 * 'unavailable' (404) and 'unauthorized' (401) end it: there is nothing to retry.
 */
export function openStream({ url, headers, onEvent, onState, fetchImpl = fetch, backoff = BACKOFF_MS, random = Math.random }) {
  let stopped = false;
  let controller = null;
  let timer = null;
  let wake = null;
  let lastId = null;
  let attempt = 0;

  async function once() {
    controller = new AbortController();
    const h = { ...headers(), accept: 'text/event-stream' };
    if (lastId !== null) h['last-event-id'] = lastId;
    const res = await fetchImpl(url, { headers: h, signal: controller.signal, cache: 'no-store' });
    if (res.status === 404) return 'unavailable';
    if (res.status === 401) return 'unauthorized';
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    onState('live');
    attempt = 0;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 'ended';
      buffer += decoder.decode(value, { stream: true });
      const { frames, rest } = parseFrames(buffer);
      buffer = rest;
      for (const f of frames) {
        if (f.id !== null) lastId = f.id;
        if (!f.data) continue;
        let envelope;
        try {
          envelope = JSON.parse(f.data);
        } catch {
          continue;
        }
        onEvent(envelope, f);
      }
    }
  }

  async function run() {
    while (!stopped) {
      onState(attempt === 0 && lastId === null ? 'connecting' : 'reconnecting');
      let outcome;
      try {
        outcome = await once();
      } catch {
        outcome = 'failed';
      }
      if (stopped) return;
      if (outcome === 'unavailable' || outcome === 'unauthorized') return onState(outcome);
      onState('reconnecting');
      const base = backoff[Math.min(attempt, backoff.length - 1)];
      attempt++;
      await new Promise((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, Math.round(base * (0.5 + random() / 2)));
      });
    }
  }

  const done = run();
  return {
    done,
    get lastEventId() {
      return lastId;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      controller?.abort();
    },
  };
}

/**
 * The app's one source of "something changed": subscribers get an envelope (from the stream)
 * or null (a poll tick: reload whatever you show).
 */
export function createLive({ features, url, headers, pollMs = 3000 }) {
  const subscribers = new Set();
  const stateSubscribers = new Set();
  let state = 'polling';
  let poller = null;
  let stream = null;
  const publish = (ev) => subscribers.forEach((fn) => fn(ev));
  const setState = (s) => {
    state = s;
    if (s === 'live') stopPolling();
    else startPolling();
    stateSubscribers.forEach((fn) => fn(s));
  };
  const startPolling = () => {
    poller ??= setInterval(() => {
      if (!document.hidden) publish(null);
    }, pollMs);
  };
  const stopPolling = () => {
    clearInterval(poller);
    poller = null;
  };
  let wasLive = false;
  return {
    start() {
      startPolling();
      if (!features.events) return setState('polling');
      stream = openStream({
        url,
        headers,
        onEvent: (ev) => publish(ev),
        onState: (s) => {
          // Back after a gap: reload once, whatever the replay brings.
          if (s === 'live' && wasLive) publish(null);
          if (s === 'live') wasLive = true;
          setState(s === 'unavailable' ? 'polling' : s);
        },
      });
    },
    stop() {
      stopPolling();
      stream?.stop();
    },
    get state() {
      return state;
    },
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
    onState(fn) {
      stateSubscribers.add(fn);
      return () => stateSubscribers.delete(fn);
    },
  };
}
