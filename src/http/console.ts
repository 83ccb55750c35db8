// The operator console (docs/console.md, CONTRACT §14): static files from console/ at /console/,
// and the browser modules it imports (Preact, its hooks, htm) straight from node_modules under
// /console/vendor/, so there is no build step and nothing comes from a CDN. None of it needs a
// token (docs/security.md); everything the console shows it reads from /api/v1 with the admin token.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';

export const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

const require = createRequire(import.meta.url);
/** URL name under /console/vendor/ → the package's dist folder (what index.html's import map names). */
export const CONSOLE_VENDOR: Record<string, string> = {
  preact: path.dirname(require.resolve('preact')),
  'preact-hooks': path.dirname(require.resolve('preact/hooks')),
  htm: path.dirname(require.resolve('htm')),
};

/** Optional routes the console adapts to (answered by GET /console/features.json). */
const FEATURES = { events: '/api/v1/events', schedules: '/api/v1/schedules' } as const;

export function consoleRoutes(): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onSend', async (req, reply) => {
      if (!req.url.startsWith('/console')) return;
      // The console has buttons that change things (drain, cancel): never inside someone else's frame.
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-content-type-options', 'nosniff');
    });
    await app.register(fastifyStatic, { root: CONSOLE_DIR, prefix: '/console/', index: 'index.html' });
    // A relative Location, so it also works behind a proxy that mounts Dispatch under a prefix.
    app.get('/console', { schema: { hide: true } }, async (_req, reply) => reply.redirect('console/', 301));
    for (const [name, root] of Object.entries(CONSOLE_VENDOR)) {
      await app.register(fastifyStatic, { root, prefix: `/console/vendor/${name}/`, decorateReply: false, maxAge: '1h' });
    }
    // Which optional routes this server has, so the console need not probe them (a probe's 404
    // shows as an error in the browser's console log). Public, like GET /openapi.json.
    app.get('/console/features.json', { schema: { hide: true } }, async () =>
      Object.fromEntries(Object.entries(FEATURES).map(([k, url]) => [k, app.hasRoute({ method: 'GET', url })])),
    );
  };
}
