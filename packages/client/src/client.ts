// The typed client (CONTRACT §22): openapi-fetch over the types openapi-typescript generated from
// openapi.yaml (src/generated/), with Dispatch's identity headers. Every operation of the API is a
// typed method + path: `client.GET('/api/v1/tasks/{id}', { params: { path: { id } } })`.
import createFetchClient, { type Client, type Middleware } from 'openapi-fetch';
import { ADMIN_OPERATIONS } from './generated/admin-routes.js';
import type { components, paths } from './generated/openapi.js';
import { apiError } from './errors.js';

export type { components, operations, paths } from './generated/openapi.js';
type Schemas = components['schemas'];
export type Task = Schemas['Task'];
export type TaskStatus = Schemas['TaskStatus'];
export type TaskEvent = Schemas['Event'];
export type Run = Schemas['Run'];
export type Workflow = Schemas['Workflow'];
export type Schedule = Schemas['Schedule'];
export type Agent = Schemas['Agent'];
export type Stats = Schemas['Stats'];
export type ErrorBody = Schemas['Error'];
export type CreateTaskRequest = Schemas['CreateTaskRequest'];

export interface ClientOptions {
  /** Base URL of the API, e.g. http://localhost:8600. */
  url: string;
  /** Sent as X-Agent-ID (header mode: the identity; token mode: optional, must match the token). */
  agent?: string;
  /** An agent token (auth.mode token): `Authorization: Bearer <token>` on every /api/v1 route. */
  token?: string;
  /** The admin token: `Authorization: Bearer <adminToken>` on admin routes (and on others when no token is given). */
  adminToken?: string;
  /** A fetch of your own (tests, proxies); default the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** The Request class that fetch expects (with undici's own fetch: undici's Request). */
  Request?: typeof globalThis.Request;
}

export type DispatchClient = Client<paths, `${string}/${string}`>;

/**
 * Which bearer a request carries: the admin token on admin routes (openapi.yaml's adminToken
 * security, src/generated/admin-routes.ts), the agent token elsewhere; each falls back to the other.
 */
export function bearerFor(opts: Pick<ClientOptions, 'token' | 'adminToken'>, method: string, schemaPath: string): string | undefined {
  const admin = ADMIN_OPERATIONS.has(`${method.toUpperCase()} ${schemaPath}`);
  return admin ? (opts.adminToken ?? opts.token) : (opts.token ?? opts.adminToken);
}

export function createClient(opts: ClientOptions): DispatchClient {
  const baseUrl = opts.url.replace(/\/+$/, '');
  const client = createFetchClient<paths>({ baseUrl, ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.Request ? { Request: opts.Request } : {}) });
  const identity: Middleware = {
    onRequest({ request, schemaPath }) {
      if (opts.agent && !request.headers.has('x-agent-id')) request.headers.set('x-agent-id', opts.agent);
      const bearer = bearerFor(opts, request.method, schemaPath);
      if (bearer && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${bearer}`);
      return request;
    },
  };
  client.use(identity);
  return client as DispatchClient;
}

/**
 * The data of a successful answer, or a DispatchApiError with the API's code and message:
 * `const task = await unwrap(client.GET('/api/v1/tasks/{id}', …))`.
 */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw apiError(response.status, error);
  return data as T;
}
