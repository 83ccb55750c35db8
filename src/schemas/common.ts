// Schemas shared by every route: the error body (openapi.yaml, ErrorBody), ids, and the per-route OpenAPI
// decorations (security, error responses) so each route documents every status it can answer.
import { Type, type TSchema } from '@sinclair/typebox';
import { AGENT_ID_SOURCE } from '../core/ids.js';
import { ERROR_CODES } from '../errors.js';
import { named } from './components.js';

export const ErrorBody = named(
  'Error',
  Type.Object(
    {
      error: Type.String({ description: 'Human-readable message' }),
      code: Type.Union(
        ERROR_CODES.map((c) => Type.Literal(c)),
        { description: 'Stable snake_case code' },
      ),
      details: Type.Optional(Type.Unknown({ description: 'Extra facts: validation problems, {from,to} of a refused transition, retry_after_s' })),
    },
    { additionalProperties: false, description: 'Every error response (openapi.yaml, ErrorBody)' },
  ),
);

export const Uuid = Type.String({ format: 'uuid', description: 'UUID' });
export const Timestamp = Type.String({ format: 'date-time', description: 'UTC ISO-8601' });
export const AgentIdString = Type.String({ minLength: 1, maxLength: 128, pattern: AGENT_ID_SOURCE });

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle)',
  401: 'missing_agent_id; on admin routes also unauthorized or admin_disabled',
  403: 'not_assignee (worker reports) or forbidden (cancel/patch by someone else)',
  404: 'not_found',
  406: 'not_acceptable: this route answers only text/event-stream (send Accept: text/event-stream)',
  409: 'invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists',
  413: 'payload_too_large',
  415: 'unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition)',
  429: 'rate_limited: the per-agent token bucket is empty; see Retry-After',
  500: 'internal',
  503: 'unavailable',
};

/** Error responses for the given statuses; 401, 429, 500 and 503 are always possible on /api/v1. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const all = [...new Set([...statuses, 401, 429, 500, 503])].sort((a, b) => a - b);
  const out: Record<number, TSchema> = {};
  for (const s of all) {
    out[s] = {
      ...ErrorBody,
      description: ERROR_DESCRIPTIONS[s] ?? 'error',
      ...(s === 429 ? { headers: { 'Retry-After': { type: 'integer', minimum: 1, description: 'Seconds until a request will be accepted again' } } } : {}),
    } as TSchema;
  }
  return out;
}

/** OpenAPI security requirement of an ordinary /api/v1 route. */
export const AGENT_SECURITY = [{ agentId: [] as string[] }];
/** Admin routes: X-Agent-ID and the admin bearer token. */
export const ADMIN_SECURITY = [{ agentId: [] as string[], adminToken: [] as string[] }];

export interface RouteDoc {
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
}

/**
 * Schema decorations for an ordinary agent route: security, tags, and the error responses it
 * can give. Spread into `schema` next to body/params/querystring/response.
 */
export function agentRoute(doc: RouteDoc, success: Record<number, TSchema>, ...errorStatuses: number[]) {
  return {
    operationId: doc.operationId,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: doc.tags ?? ['tasks'],
    security: AGENT_SECURITY,
    response: { ...success, ...errorResponses(...errorStatuses) },
  };
}

/**
 * The same for an admin route (`config: { admin: true }`): both security schemes, and 401 for
 * unauthorized/admin_disabled. For reuse by the agents/stats routes.
 */
export function adminRoute(doc: RouteDoc, success: Record<number, TSchema>, ...errorStatuses: number[]) {
  return {
    ...agentRoute({ ...doc, tags: doc.tags ?? ['admin'] }, success, ...errorStatuses),
    security: ADMIN_SECURITY,
  };
}
