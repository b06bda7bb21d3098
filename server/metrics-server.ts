import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { inboxStats } from './callback/inbox-repo';
import { errorBody } from './errors';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The Prometheus listener: a separate Fastify instance serving only GET /metrics, so the public
     * port (the WeCom callback URL) never shows errcodes or inbox depth. main.ts listens on
     * METRICS_HOST:METRICS_PORT (loopback by default); tests use `metricsServer.inject()`.
     * Closed with the app.
     */
    metricsServer: FastifyInstance;
  }
}

export interface MetricsServerOptions {
  /** Inbox depth is read from the DB at most this often (default 5 s): scrapes can't hammer the DB. */
  depthCacheMs?: number;
}

export const metricsServerPlugin = fp(
  async (app: FastifyInstance, opts: MetricsServerOptions) => {
    const cacheMs = opts.depthCacheMs ?? 5_000;
    let depthAt = Number.NEGATIVE_INFINITY;
    let depth: Promise<void> | null = null;

    // Single flight plus a short cache: concurrent or rapid scrapes share one COUNT query.
    const refreshDepth = () => {
      if (depth && app.now() - depthAt < cacheMs) return depth;
      depthAt = app.now();
      depth = (async () => {
        try {
          // Every status is present (0 when empty), so a drained queue reads 0, not a stale value.
          for (const [status, n] of Object.entries(await inboxStats(app.db))) app.metrics.inboxDepth.set({ status }, n);
        } catch (err) {
          depthAt = Number.NEGATIVE_INFINITY; // retry on the next scrape
          app.log.warn({ err }, 'inbox depth unavailable for /metrics');
        }
      })();
      return depth;
    };

    const server = Fastify({ logger: false });
    server.get('/metrics', async (_req, reply) => {
      await refreshDepth();
      reply.type(app.metrics.registry.contentType);
      return app.metrics.registry.metrics();
    });
    server.setNotFoundHandler((req, reply) =>
      reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)),
    );
    app.decorate('metricsServer', server);
    app.addHook('onClose', async () => server.close());
  },
  { name: 'metrics-server' },
);
