// POST /api/v1/hooks/:source: signed webhooks in (docs/webhooks.md). An encapsulated plugin: its
// content-type parser keeps the raw body as a Buffer for this route only (the signature is over
// those bytes), and its rate limit is per client address (the senders have no X-Agent-ID).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import type { DispatchContext } from '../../context.js';
import { DispatchError } from '../../errors.js';
import { HOOK_SECURITY, HookParams, HookRequestBody, hookResponses } from '../../schemas/hook.js';
import { receiveDelivery } from '../../services/hooks.js';
import { RateLimiter } from '../rate-limit.js';

const paramsAjv = new Ajv({ allErrors: true, strict: false });

export function hookRoutes(ctx: DispatchContext): FastifyPluginAsync {
  const limiter = new RateLimiter({ perSecond: ctx.config.server.rate_limit_per_second, burst: ctx.config.server.rate_limit_burst });
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    app.addHook('onRequest', async (req) => {
      const d = limiter.take(`ip:${req.ip}`);
      if (!d.ok) {
        throw new DispatchError('rate_limited', 429, `too many webhook requests from ${req.ip}; retry in ${d.retryAfterS}s`, { retry_after_s: d.retryAfterS });
      }
    });

    app.post(
      '/api/v1/hooks/:source',
      {
        schema: {
          operationId: 'receiveHook',
          summary: 'Receive a signed webhook',
          description:
            'For systems that cannot send X-Agent-ID (GitHub, Stripe, a CI). The source is configured under intake: in config.yaml. The signature header (intake.<source>.signature_header) must be sha256=<hex of HMAC-SHA256(secret, raw body)>, else 401 invalid_signature. With intake.<source>.event_header and events, an event not listed → 202 {"ignored": true}. With intake.<source>.delivery_header (then required), a repeated delivery id (kept 7 days) → 200 with the first task/run. Otherwise 201 {"task": Task} (a task source) or {"run": Run} (a workflow source). Nothing is stored on any refusal.',
          tags: ['hooks'],
          security: HOOK_SECURITY,
          params: HookParams,
          body: HookRequestBody,
          response: hookResponses(),
        },
        // The body is raw bytes, checked by the service; the params by a plain validator.
        validatorCompiler: ({ schema, httpPart }) => (httpPart === 'body' ? () => true : paramsAjv.compile(schema)),
      },
      async (req, reply) => {
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const res = await receiveDelivery(ctx, { source: req.params.source, headers: req.headers, rawBody: raw });
        if (res.outcome === 'ignored') return reply.code(202).send({ ignored: true });
        const status = res.outcome === 'created' ? 201 : 200;
        if ('task' in res) return reply.code(status).send({ task: res.task });
        if ('run' in res) return reply.code(status).send({ run: res.run });
        return reply.code(200).send({ duplicate: true });
      },
    );
  };
}
