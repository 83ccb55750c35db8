// /mcp: the Model Context Protocol door (CONTRACT §21.2, docs/agent-doors.md) over the Streamable
// HTTP transport, stateless: each POST gets a fresh MCP server and transport (no session), with
// the identity of /api/v1 (X-Agent-ID, or an agent token in token mode; auth.ts refuses a request
// without one with 401 before the transport sees it). The tools are src/doors/mcp-tools.ts.
//
// The SDK is loaded on the first /mcp request, not at start, so a deployment that never uses the
// door does not carry it: importing it into a bare Node 20 process adds ~26 MB of resident set;
// a started Dispatch (dist/main.js, idle) went from 157 to 150 MB with it loaded lazily.
import type { FastifyPluginAsync } from 'fastify';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { DispatchContext } from '../../context.js';
import { callTool, toolList, type Caller } from '../../doors/mcp-tools.js';
import { SERVICE_VERSION } from '../api-server.js';

type Sdk = {
  Server: typeof import('@modelcontextprotocol/sdk/server/index.js').Server;
  StreamableHTTPServerTransport: typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js').StreamableHTTPServerTransport;
  types: typeof import('@modelcontextprotocol/sdk/types.js');
};
let sdk: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> =>
  (sdk ??= Promise.all([
    import('@modelcontextprotocol/sdk/server/index.js'),
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]).then(([server, http, types]) => ({ Server: server.Server, StreamableHTTPServerTransport: http.StreamableHTTPServerTransport, types })));

function mcpServer({ Server, types }: Sdk, ctx: DispatchContext, caller: Caller): Server {
  const { CallToolRequestSchema, ListToolsRequestSchema } = types;
  const server = new Server(
    { name: 'dispatch', title: 'Dispatch', version: SERVICE_VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        'Dispatch brokers tasks between agents. As a requester: create_task, then wait_for_task (answer_task when it is input_required). As a worker: next_assignment, report_progress, complete_task or fail_task; request_input to ask the requester.',
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolList() }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => callTool(ctx, caller, req.params.name, req.params.arguments));
  return server;
}

const methodNotAllowed = { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP server is stateless, POST only' }, id: null };

export function mcpRoutes(ctx: DispatchContext): FastifyPluginAsync {
  return async (app) => {
    app.post('/mcp', { config: { identity: true }, schema: { hide: true } }, async (req, reply) => {
      const lib = await loadSdk();
      const server = mcpServer(lib, ctx, { agentId: req.agentId, isAdmin: req.isAdmin });
      // Stateless: no session id; answers as JSON (a held wait_for_task is one response, not a stream).
      const transport = new lib.StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      reply.hijack();
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      try {
        await server.connect(transport);
        await transport.handleRequest(req.raw, reply.raw, req.body);
      } catch (err) {
        req.log.error({ err }, 'MCP request failed');
        if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' });
        if (!reply.raw.writableEnded) reply.raw.end(JSON.stringify({ error: 'internal error', code: 'internal' }));
      }
    });
    for (const method of ['GET', 'DELETE'] as const) {
      app.route({
        method,
        url: '/mcp',
        config: { identity: true },
        schema: { hide: true },
        handler: async (_req, reply) => reply.code(405).header('allow', 'POST').send(methodNotAllowed),
      });
    }
  };
}
