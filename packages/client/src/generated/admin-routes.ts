// Generated from openapi.yaml by packages/client/scripts/generate.ts — do not edit; run `npm run client:generate`.

/** "METHOD /path/{param}" of every operation that needs the admin token (security: adminToken). */
export const ADMIN_OPERATIONS: ReadonlySet<string> = new Set([
  'DELETE /api/v1/agents/{id}/drain',
  'DELETE /api/v1/agents/{id}/tokens/{token_id}',
  'DELETE /api/v1/flow/limits/{key}',
  'GET /api/v1/agents',
  'GET /api/v1/agents/{id}/tokens',
  'GET /api/v1/events',
  'GET /api/v1/flow/limits',
  'GET /api/v1/stats',
  'GET /api/v1/stats/timeline',
  'POST /api/v1/agents/{id}/drain',
  'POST /api/v1/agents/{id}/tokens',
  'PUT /api/v1/flow/limits/{key}',
]);
