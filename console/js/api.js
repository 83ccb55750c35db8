// How the console talks to Dispatch: every /api/v1 call carries the admin token (asked once,
// kept in this tab's sessionStorage) as a bearer and X-Agent-ID: console. Paths are resolved
// against the page, so the console also works behind a proxy that mounts Dispatch under a prefix.
const KEY = 'dispatch.console.token';
export const AGENT_ID = 'console';

export const session = {
  token: () => sessionStorage.getItem(KEY),
  save: (token) => sessionStorage.setItem(KEY, token),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? 'http_error';
    this.details = body?.details;
  }
}

/** Absolute URL of an API path ('/tasks' → …/api/v1/tasks). */
export const apiUrl = (path) => new URL(`../api/v1${path}`, document.baseURI).href;

export function authHeaders() {
  return { authorization: `Bearer ${session.token() ?? ''}`, 'x-agent-id': AGENT_ID };
}

let onUnauthorized = () => {};
/** Called when the server refuses the token (401): the app shows the login form again. */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = authHeaders();
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(apiUrl(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, { error: 'Dispatch is unreachable', code: 'unreachable' });
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { error: text };
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && err.code !== 'missing_agent_id') onUnauthorized(err);
    throw err;
  }
  return data;
}

/** Which optional routes this server has ({events, schedules}); all false if it cannot say. */
export async function features() {
  try {
    const res = await fetch(new URL('features.json', document.baseURI), { cache: 'no-store' });
    if (res.ok) return await res.json();
  } catch {
    /* an older server: assume none */
  }
  return { events: false, schedules: false };
}

export const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};
