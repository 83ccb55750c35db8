// Every body and query is checked for what Postgres cannot store (core/json-guard.ts) before
// schema validation, so such a request is a 400 validation_failed, never a 500.
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors.js';
import { findBodyProblem } from '../core/json-guard.js';

export function installBodyGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (req, reply) => {
    const query = req.query as Record<string, unknown> | undefined;
    const inQuery = query ? findBodyProblem(query, 4) : undefined;
    if (inQuery) return sendError(reply, 400, 'validation_failed', `query is invalid: ${inQuery.field} ${inQuery.message}`, [inQuery]);
    if (req.body === undefined || req.body === null) return;
    // A raw body (the webhook route) is checked by its service after it is parsed.
    if (Buffer.isBuffer(req.body)) return;
    const problem = findBodyProblem(req.body);
    if (problem) return sendError(reply, 400, 'validation_failed', `body is invalid: ${problem.field} ${problem.message}`, [problem]);
  });
}
