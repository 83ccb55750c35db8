// The console's shell: sign-in, the hash router, the navigation and the live-update indicator.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, apiUrl, authHeaders, features as readFeatures, query, session, whenUnauthorized } from './api.js';
import { createLive } from './live.js';
import { html, setLive } from './ui.js';
import { Agents, Failed, Flow, Overview, RunGraph, Runs, Schedules, TaskDetail, Tasks } from './views.js';

/** '#/tasks/abc?status=failed' → {parts: ['tasks', 'abc'], params: {status: 'failed'}} */
export function parseHash(hash) {
  const [path, q = ''] = hash.replace(/^#\/?/, '').split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: Object.fromEntries(new URLSearchParams(q)) };
}

const go = (view, params = {}) => {
  location.hash = `#/${view}${query(params)}`;
};

function useRoute() {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

const NAV = [
  ['', 'Overview'],
  ['tasks', 'Tasks'],
  ['failed', 'Failed'],
  ['agents', 'Agents'],
  ['schedules', 'Schedules'],
  ['runs', 'Runs'],
  ['flow', 'Flow'],
];

function View({ route, features }) {
  const [a, b] = route.parts;
  if (!a) return html`<${Overview} />`;
  if (a === 'tasks' && b) return html`<${TaskDetail} id=${b} key=${b} />`;
  if (a === 'tasks') return html`<${Tasks} params=${route.params} go=${go} />`;
  if (a === 'failed') return html`<${Failed} />`;
  if (a === 'agents') return html`<${Agents} />`;
  if (a === 'schedules') return html`<${Schedules} features=${features} />`;
  if (a === 'runs' && b) return html`<${RunGraph} id=${b} key=${b} />`;
  if (a === 'runs') return html`<${Runs} />`;
  if (a === 'flow') return html`<${Flow} params=${route.params} go=${go} />`;
  return html`<p>There is no view <code>#/${route.parts.join('/')}</code>. <a href="#/">Overview</a></p>`;
}

const LIVE_TEXT = {
  live: 'live',
  connecting: 'connecting…',
  reconnecting: 'reconnecting… (polling meanwhile)',
  polling: 'refreshing every 3 s',
  unauthorized: 'live updates refused',
};

function Shell({ features, live, onSignOut }) {
  const route = useRoute();
  const [liveState, setLiveState] = useState(live.state);
  useEffect(() => live.onState(setLiveState), []);
  const current = route.parts[0] ?? '';
  useEffect(() => {
    document.title = `${NAV.find(([k]) => k === current)?.[1] ?? 'Dispatch'} · Dispatch console`;
  }, [current]);
  return html`<a class="skip" href="#main" onClick=${(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/">Dispatch</a>
      <nav aria-label="Views">
        <ul>
          ${NAV.map(([k, name]) => html`<li><a href=${`#/${k}`} aria-current=${current === k ? 'page' : undefined}>${name}</a></li>`)}
        </ul>
      </nav>
      <span class=${`live live-${liveState}`} data-testid="live-state" role="status">${LIVE_TEXT[liveState] ?? liveState}</span>
      <button type="button" class="secondary" onClick=${onSignOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1"><${View} route=${route} features=${features} /></main>`;
}

function Login({ onSignedIn, message }) {
  const [error, setError] = useState(message);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const token = new FormData(e.currentTarget).get('token').trim();
    if (!token) return setError('Enter the admin token.');
    setBusy(true);
    session.save(token);
    try {
      await api('/stats');
      onSignedIn();
    } catch (err) {
      session.clear();
      setError(err.status === 401 ? `The server refused this token (${err.code}).` : err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="login" id="main">
    <form onSubmit=${submit} aria-labelledby="h-login">
      <h1 id="h-login">Dispatch console</h1>
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" data-testid="login-token" required autofocus />
      <p class="hint">Kept in this tab only (sessionStorage) and sent as a bearer token to /api/v1.</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" data-testid="login-submit" disabled=${busy}>Sign in</button>
    </form>
  </main>`;
}

function App({ features }) {
  const [signedIn, setSignedIn] = useState(Boolean(session.token()));
  const [message, setMessage] = useState(null);
  useEffect(() => {
    whenUnauthorized((err) => {
      session.clear();
      setMessage(`Signed out: ${err.message}`);
      setSignedIn(false);
    });
  }, []);
  const live = useMemo(() => (signedIn ? createLive({ features, url: apiUrl('/events'), headers: authHeaders }) : null), [signedIn]);
  setLive(live);
  useEffect(() => {
    if (!live) return;
    live.start();
    return () => live.stop();
  }, [live]);
  if (!live) {
    return html`<${Login}
      message=${message}
      onSignedIn=${() => {
        setMessage(null);
        setSignedIn(true);
      }}
    />`;
  }
  return html`<${Shell}
    features=${features}
    live=${live}
    onSignOut=${() => {
      session.clear();
      setSignedIn(false);
    }}
  />`;
}

readFeatures().then((features) => {
  const root = document.getElementById('app');
  root.textContent = ''; // the "Loading…" line: render() adds to what is there
  render(html`<${App} features=${features} />`, root);
});
