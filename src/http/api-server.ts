// The API server on server.port: auth, validation, errors, OpenAPI, and the route plugins.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { buildSerializer } from './serializers.js';
import type { Logger } from 'pino';
import * as yaml from 'js-yaml';
import { installAuth, type AuthOptions } from './auth.js';
import { installBodyGuard } from './body-guard.js';
import { requestLoggerFactory } from './request-logger.js';
import { installErrorHandling, sendError } from './errors.js';
import { DispatchError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { HOOK_SIGNATURE_SCHEME } from '../schemas/hook.js';
import { liftComponents } from '../schemas/components.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export const SERVICE_VERSION = '0.1.0';

export interface ApiServerOptions {
  logger: Logger;
  adminToken: string;
  /** auth.mode and, in token mode, who a token is (docs/security.md). */
  auth?: Omit<AuthOptions, 'adminToken' | 'metrics'>;
  bodyLimit: number;
  metrics: Metrics;
  /** Route plugins, registered under the auth and error hooks. */
  routes: FastifyPluginAsync[];
}

/** Response serializers asked for (one per route and status) and built (one per distinct schema), over every server built in this process. */
export const serializerStats = { asked: 0, built: 0 };

function makeAjv(opts: AjvOptions): Ajv {
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, strict: false, ...opts });
  addFormats(ajv);
  return ajv;
}

export async function buildApiServer(opts: ApiServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // request.log as a pino child only when a request logs something (http/request-logger.ts).
    childLoggerFactory: requestLoggerFactory,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Router-level refusals (a path parameter over maxParamLength, a malformed %-escape) in the
    // contract's error shape instead of fastify's own.
    frameworkErrors: (err, _req, reply) => {
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendError(reply, 400, 'invalid_id', 'id must be a UUID');
      if (err.code === 'FST_ERR_BAD_URL') return sendError(reply, 400, 'validation_failed', 'the URL is malformed');
      return sendError(reply, 400, 'validation_failed', 'bad request');
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Bodies are validated strictly (no type coercion: "5" is not a number); query strings and
  // params arrive as text and are coerced.
  const strict = makeAjv({ coerceTypes: false });
  const coercing = makeAjv({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
  // One serializer per distinct response schema, not one per route and status: fastify's default
  // compiler builds each anew, and every fast-json-stringify build of a schema with a union (a
  // nullable field) owns an Ajv instance of its own — ~520 of them held by a started Dispatch.
  // Each is built with its nullable unions in fast-json-stringify's own forms (http/serializers.ts).
  const serializers = new Map<string, (data: unknown) => string>();
  app.setSerializerCompiler(({ schema }) => {
    serializerStats.asked++;
    const key = JSON.stringify(schema);
    let serialize = serializers.get(key);
    if (!serialize) {
      serialize = buildSerializer(schema);
      serializers.set(key, serialize);
      serializerStats.built++;
    }
    return serialize;
  });

  // The hooks every request runs that never wait: callback-style, so fastify adds no promise
  // and microtask per hook per request (docs/benchmarks.md run 19).
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    done(null, payload);
  });
  app.addHook('onResponse', (req, reply, done) => {
    opts.metrics.httpRequests.inc({ route: req.routeOptions.url ?? 'unmatched', status: `${Math.floor(reply.statusCode / 100)}xx` });
    done();
  });

  installErrorHandling(app);
  installAuth(app, { mode: 'header', ...opts.auth, adminToken: opts.adminToken, metrics: opts.metrics });
  // Routes whose body is optional (config.emptyBody): no body at all is validated as {}.
  app.addHook('preValidation', (req, _reply, done) => {
    if (req.routeOptions.config?.emptyBody && (req.body === undefined || req.body === null)) req.body = {};
    done();
  });
  installBodyGuard(app);
  // Workflow definitions may come as YAML (a team keeps them in git). Parsed with the JSON
  // schema of YAML (no custom tags, no code): what is not YAML → 400 validation_failed.
  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, yaml.load(body as string, { schema: yaml.JSON_SCHEMA }));
    } catch (err) {
      done(new DispatchError('validation_failed', 400, `body is not valid YAML: ${(err as Error).message.split('\n')[0]}`));
    }
  });

  await app.register(swagger, {
    // Shared shapes (named() in src/schemas) once in components.schemas, referred to by $ref.
    transformObject: (doc) => ('openapiObject' in doc ? liftComponents(doc.openapiObject) : doc.swaggerObject),
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Dispatch',
        version: SERVICE_VERSION,
        description:
          'Task broker for a swarm of AI agents. Every /api/v1 request carries X-Agent-ID; admin routes also need Authorization: Bearer <admin token>.',
      },
      servers: [{ url: 'http://localhost:8600' }],
      components: {
        securitySchemes: {
          agentId: { type: 'apiKey', in: 'header', name: 'X-Agent-ID' },
          adminToken: { type: 'http', scheme: 'bearer' },
          hookSignature: HOOK_SIGNATURE_SCHEME,
        },
      },
    },
  });

  app.get('/', { schema: { hide: true } }, async () => ({ service: 'dispatch', version: SERVICE_VERSION }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/openapi.yaml', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('application/yaml').send(yaml.dump(app.swagger(), { noRefs: true, lineWidth: 120 })),
  );

  for (const plugin of opts.routes) await app.register(plugin);
  return app;
}
