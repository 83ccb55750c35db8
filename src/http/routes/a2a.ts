// The A2A door (CONTRACT §21.3, docs/agent-doors.md): the public agent card and JSON-RPC at /a2a
// as @a2a-js/sdk serves it — the SDK's own transport handlers (1.0, and the 0.3 compat layer for a
// request whose A2A-Version is 0.3 or absent) over DispatchA2AHandler (doors/a2a.ts); this route
// only does what the SDK's express adapter does around them, on fastify. Identity as /api/v1
// (auth.ts: X-Agent-ID or a token; 401 before the SDK sees the request).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { A2A_VERSION_HEADER, AGENT_CARD_PATH, SSE_HEADERS, formatSSEErrorEvent, formatSSEEvent } from '@a2a-js/sdk';
import { JsonRpcTransportHandler, defaultServerCallContextBuilder, validateVersion } from '@a2a-js/sdk/server';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { A2A_LEGACY_PROTOCOL_VERSION } from '@a2a-js/sdk/compat/v0_3';
import type { DispatchContext } from '../../context.js';
import { ABORT_KEY, AgentUser, DispatchA2AHandler, agentCardJson } from '../../doors/a2a.js';
import { SERVICE_VERSION } from '../api-server.js';

type JsonRpcOut = { jsonrpc: string; id: string | number | null; result?: unknown; error?: { code: number } };

/** The base URL the caller reached this API at (the card's urls point back at it). */
function baseOf(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

async function card(ctx: DispatchContext, req: FastifyRequest): Promise<Record<string, unknown>> {
  const { agents } = await ctx.agents.snapshot();
  const tags = [...new Set(agents.flatMap((a) => a.capabilities.map((c) => c.toLowerCase())))].sort();
  return agentCardJson({ base: baseOf(req), version: SERVICE_VERSION, tags });
}

export function a2aRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (app) => {
    app.get(AGENT_CARD_PATH.startsWith('/') ? AGENT_CARD_PATH : `/${AGENT_CARD_PATH}`, { schema: { hide: true } }, async (req, reply) => {
      reply.header('cache-control', 'no-cache');
      return card(ctx, req);
    });

    app.post('/a2a', { config: { identity: true }, schema: { hide: true } }, async (req, reply) => {
      const header = req.headers[A2A_VERSION_HEADER.toLowerCase()];
      const requested = typeof header === 'string' && header ? header : undefined;
      const legacy = (requested ?? A2A_LEGACY_PROTOCOL_VERSION) === A2A_LEGACY_PROTOCOL_VERSION;
      const mapError = legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError : JsonRpcTransportHandler.mapToJSONRPCError;
      const body = req.body as { id?: string | number | null; method?: string } | undefined;
      const rpcId = body?.id ?? null;
      const handler = new DispatchA2AHandler(ctx, await card(ctx, req));
      const context = defaultServerCallContextBuilder({
        extensions: undefined,
        user: new AgentUser({ agentId: req.agentId, isAdmin: req.isAdmin }),
        headers: req.headers,
        ...(requested ? { requestedVersion: requested } : {}),
      });
      // A stream stops following its task as soon as the client goes away.
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      context.state.set(ABORT_KEY, gone.signal);
      let out: JsonRpcOut | AsyncGenerator<JsonRpcOut, void, undefined>;
      try {
        validateVersion(context.requestedVersion, await handler.getAgentCard(), 'JSONRPC');
        out = (await (legacy ? new LegacyJsonRpcTransportHandler(handler) : new JsonRpcTransportHandler(handler)).handle(
          req.body as Record<string, unknown>,
          context,
        )) as typeof out;
      } catch (err) {
        return reply.code(200).send({ jsonrpc: '2.0', id: rpcId, error: mapError(err) });
      }
      if (!(Symbol.asyncIterator in out)) return reply.code(200).send(out);
      // A stream: the first item (or a refusal before it) decides between JSON and SSE.
      const iterator = out[Symbol.asyncIterator]();
      let first: IteratorResult<JsonRpcOut>;
      try {
        first = await iterator.next();
      } catch (err) {
        return reply.code(200).send({ jsonrpc: '2.0', id: rpcId, error: mapError(err) });
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, SSE_HEADERS);
      const closed = new Promise<void>((resolve) => res.on('close', resolve));
      try {
        if (!first.done) res.write(formatSSEEvent(first.value));
        for (;;) {
          const next = await Promise.race([iterator.next(), closed.then(() => undefined)]);
          if (!next || next.done) break;
          res.write(formatSSEEvent(next.value));
        }
      } catch (err) {
        if (!res.writableEnded) res.write(formatSSEErrorEvent({ jsonrpc: '2.0', id: rpcId, error: mapError(err) }));
      } finally {
        void iterator.return?.(undefined);
        if (!res.writableEnded) res.end();
      }
    });
  };
}
