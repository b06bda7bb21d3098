import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors';
import { registerFavicon } from './favicon';

/** dist/sidebar next to the source tree (tsx) or the compiled tree (dist/server/sidebar). */
export function findSidebarDist(): string | null {
  const candidates = [
    resolve(__dirname, '../../dist/sidebar'),
    resolve(__dirname, '../../../dist/sidebar'),
    resolve(process.cwd(), 'dist/sidebar'),
  ];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? null;
}

/**
 * The built Vue app at /sidebar/: hashed assets cached for a year, index.html never cached, and any
 * other path under /sidebar/ answered with index.html (SPA fallback) except missing assets, which 404.
 */
export async function sidebarStatic(app: FastifyInstance, opts: { root?: string | null }): Promise<void> {
  if (!app.hasRoute({ method: 'GET', url: '/favicon.ico' })) registerFavicon(app);
  const root = opts.root === undefined ? findSidebarDist() : opts.root;
  if (!root) {
    app.log.warn('dist/sidebar is missing: run `npm run build:sidebar`');
    app.get('/sidebar/*', (_req, reply) =>
      reply.code(503).send(errorBody('sidebar_not_built', 'the sidebar app is not built (npm run build:sidebar)')),
    );
    return;
  }
  const indexHtml = readFileSync(join(root, 'index.html'));

  // Own prefix: the SPA fallback below is a not-found handler for /sidebar only.
  await app.register(
    async (s) => {
      // Encoded traversal (`..%2f`, `%2e%2e`, `..%5c`) reaches this scope undecoded; @fastify/static
      // would refuse it with its own 403 body. Refuse it first, in our envelope, as a plain 404.
      s.addHook('onRequest', async (req, reply) => {
        const path = req.url.split('?')[0];
        let decoded: string;
        try {
          decoded = decodeURIComponent(path);
        } catch {
          return reply.code(400).send(errorBody('bad_request', 'malformed percent-encoding in the path'));
        }
        if (/(^|[/\\])\.\.([/\\]|$)|\\|\0/.test(decoded)) {
          return reply.code(404).send(errorBody('not_found', `no route ${req.method} ${path}`));
        }
      });
      const sendIndex = (reply: import('fastify').FastifyReply) =>
        reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(indexHtml);

      await s.register(fastifyStatic, {
        root,
        prefix: '/',
        index: false,
        // Reply decorators stay out so another @fastify/static elsewhere cannot clash with ours.
        decorateReply: false,
        cacheControl: false,
        setHeaders: (res, path) => {
          res.setHeader(
            'cache-control',
            path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      });
      s.get('/', (_req, reply) => sendIndex(reply));
      s.setNotFoundHandler((req, reply) => {
        const path = req.url.split('?')[0];
        if (req.method === 'GET' && path.startsWith('/sidebar/') && !path.startsWith('/sidebar/assets/')) {
          return sendIndex(reply);
        }
        return reply.code(404).send(errorBody('not_found', `no route ${req.method} ${path}`));
      });
    },
    { prefix: '/sidebar' },
  );
}
