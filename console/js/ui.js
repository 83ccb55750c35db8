// Shared pieces: htm bound to Preact, the data hook every view uses, buttons that run an action.
import { h } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);

let live = null;
export const setLive = (l) => {
  live = l;
};

/**
 * Load data now and again whenever something changes: on each poll tick, or on a streamed event
 * for which relevant(envelope) is true (reloads are coalesced over 150 ms). Keeps the previous
 * data while reloading, so nothing flickers.
 */
export function useData(load, deps, relevant = () => true) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const generation = useRef(0);
  const relevantRef = useRef(relevant);
  relevantRef.current = relevant;
  const run = useCallback(async () => {
    const g = ++generation.current;
    try {
      const data = await load();
      if (g === generation.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (g === generation.current) setState((s) => ({ ...s, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    setState({ data: undefined, error: null, loading: true });
    void run();
    let timer = null;
    const off = live?.subscribe((ev) => {
      if (ev && !relevantRef.current(ev)) return;
      clearTimeout(timer);
      timer = setTimeout(() => void run(), ev ? 150 : 0);
    });
    return () => {
      generation.current++;
      clearTimeout(timer);
      off?.();
    };
  }, [run]);
  return { ...state, reload: run };
}

/** A button that runs an async action, disabled while it runs, reporting failure inline. */
export function ActionButton({ action, onDone, children, ...rest }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const click = async () => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onDone?.();
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<button type="button" disabled=${busy} onClick=${click} ...${rest}>${children}</button>${
      error ? html`<span class="error" role="alert">${error}</span>` : null
    }`;
}

export function Problem({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.status === 404 ? 'Not found.' : error.message}</p>`;
}

export const Status = ({ status }) => html`<span class=${`badge status-${status}`}>${status.replace('_', ' ')}</span>`;
