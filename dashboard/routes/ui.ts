// The web UI: the bundle `npm run build` writes (dist/dashboard/ui: index.html, app.js, app.css),
// served at / and /ui/* without the token (it is code, not cluster data: every figure it shows
// comes from /api/v1 with the token the operator logs in with). A strict CSP: nothing but this
// origin, no inline script.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Where the built UI is: next to this file once compiled; from the sources (tsx), the build output. */
export function uiRoot(): string | null {
  const candidates = [resolve(import.meta.dirname, '../ui'), resolve(import.meta.dirname, '../../dist/dashboard/ui')];
  return candidates.find((d) => existsSync(resolve(d, 'app.js'))) ?? null;
}

export async function registerUiRoutes(app: FastifyInstance): Promise<void> {
  const root = uiRoot();
  const headers = (reply: FastifyReply) => reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
  const open = { config: { open: true }, schema: { hide: true } };
  if (!root) {
    app.get('/', open, async (_req, reply) =>
      headers(reply).code(503).type('text/plain').send('The web UI is not built: run `npm run build` (it bundles dashboard/ui with esbuild).'));
    return;
  }
  await app.register(fastifyStatic, { root, serve: false, dotfiles: 'deny', cacheControl: true, maxAge: 0 });
  app.get('/', open, async (_req, reply) => headers(reply).sendFile('index.html'));
  app.get<{ Params: { '*': string } }>('/ui/*', open, async (req, reply) => headers(reply).sendFile(req.params['*']));
}
