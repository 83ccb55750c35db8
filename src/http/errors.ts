// One error handler for both servers: every error leaves in the contract's shape (openapi.yaml, ErrorBody),
// never with a stack trace or a database message.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DispatchError, type ErrorCode } from '../errors.js';

export interface ErrorBody {
  error: string;
  code: ErrorCode;
  details?: unknown;
}

export function sendError(reply: FastifyReply, status: number, code: ErrorCode, message: string, details?: unknown) {
  const body: ErrorBody = { error: message, code, ...(details === undefined ? {} : { details }) };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

function describeValidation(err: FastifyError): { field: string; message: string }[] {
  return (err.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    const base = v.instancePath ? v.instancePath.slice(1).replace(/\//g, '.') : '';
    const field = params?.additionalProperty
      ? [base, params.additionalProperty].filter(Boolean).join('.')
      : params?.missingProperty
        ? [base, params.missingProperty].filter(Boolean).join('.')
        : base || (err.validationContext ?? 'body');
    const message = params?.additionalProperty ? 'is not an accepted field' : (v.message ?? 'is invalid');
    return { field, message };
  });
}

// The driver's connection errors and Postgres' connection/shutdown SQLSTATEs: the request was
// fine, the database was not there. 503 with Retry-After, never 500. Failover (CONTRACT §23)
// adds 25006 read_only_sql_transaction: a connection that reached a server which is (or has just
// become) a standby; 57P01 admin_shutdown and 57P02/57P03 (crash shutdown, "cannot connect now"
// while a standby is promoted) are in the 57P class, connection failures in 08.
const DRIVER_CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

export function isDatabaseUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return DRIVER_CONNECTION_CODES.has(code) || code === '25006' || /^(08|57P|53)/.test(code);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof DispatchError) {
      if (err.statusCode === 429 && err.details && typeof (err.details as { retry_after_s?: number }).retry_after_s === 'number') {
        reply.header('retry-after', String((err.details as { retry_after_s: number }).retry_after_s));
      }
      return sendError(reply, err.statusCode, err.code, err.message, err.details);
    }
    if (err.validation) {
      const problems = describeValidation(err);
      // A malformed id in the path is invalid_id; any other path parameter (a flow key) is validation_failed.
      if (err.validationContext === 'params' && problems.every((p) => p.field === 'id' || p.field.endsWith('_id'))) {
        return sendError(reply, 400, 'invalid_id', 'id must be a UUID', problems);
      }
      const where = err.validationContext === 'querystring' ? 'query' : err.validationContext === 'params' ? 'path' : (err.validationContext ?? 'request');
      return sendError(reply, 400, 'validation_failed', `${where} is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(reply, 413, 'payload_too_large', 'request body is too large');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(reply, 415, 'unsupported_media_type', 'request body must be application/json');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(reply, 400, 'validation_failed', 'request body is empty but Content-Type is application/json');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(reply, 400, 'validation_failed', 'request body is not valid JSON');
      default:
        break;
    }
    if (err instanceof SyntaxError || (err as { type?: string }).type === 'entity.parse.failed') {
      return sendError(reply, 400, 'validation_failed', 'request body is not valid JSON');
    }
    if (isDatabaseUnavailable(err)) {
      req.log.warn({ code: (err as { code?: string }).code }, 'database unavailable');
      reply.header('retry-after', '1');
      return sendError(reply, 503, 'unavailable', 'the database is unavailable; retry shortly');
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendError(reply, status, status === 404 ? 'not_found' : 'validation_failed', err.message || 'bad request');
    }
    req.log.error({ err }, 'unhandled error');
    return sendError(reply, 500, 'internal', 'internal error');
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`));
}
