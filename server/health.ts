import fp from 'fastify-plugin';
import { inboxStats } from './callback/inbox-repo';

/** /healthz: process alive. /readyz: DB reachable and no pending migration. /metrics: Prometheus text. */
export const healthPlugin = fp(
  async (app) => {
    app.get('/healthz', async () => ({ status: 'ok' }));

    app.get('/readyz', async (_req, reply) => {
      try {
        await app.db.query('SELECT 1');
        const pending = await app.db.showMigrations();
        if (pending) return reply.code(503).send({ status: 'not_ready', reason: 'migrations_pending' });
        return { status: 'ready' };
      } catch {
        return reply.code(503).send({ status: 'not_ready', reason: 'database_unreachable' });
      }
    });

    app.get('/metrics', async (_req, reply) => {
      try {
        // Every status is present (0 when empty), so a drained queue reads 0, not a stale value.
        for (const [status, n] of Object.entries(await inboxStats(app.db))) app.metrics.inboxDepth.set({ status }, n);
      } catch (err) {
        app.log.warn({ err }, 'inbox depth unavailable for /metrics');
      }
      reply.type(app.metrics.registry.contentType);
      return app.metrics.registry.metrics();
    });
  },
  { name: 'health' },
);
