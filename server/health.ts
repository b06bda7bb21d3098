import fp from 'fastify-plugin';
import { InboxEvent } from './db/entities';

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
        const rows: { status: string; n: number | string }[] = await app.db
          .getRepository(InboxEvent)
          .createQueryBuilder('i')
          .select('i.status', 'status')
          .addSelect('COUNT(*)', 'n')
          .groupBy('i.status')
          .getRawMany();
        app.metrics.inboxDepth.reset();
        for (const s of ['pending', 'processing', 'done', 'dead', 'unhandled', 'malformed'])
          app.metrics.inboxDepth.set({ status: s }, 0);
        for (const r of rows) app.metrics.inboxDepth.set({ status: r.status }, Number(r.n));
      } catch (err) {
        app.log.warn({ err }, 'inbox depth unavailable for /metrics');
      }
      reply.type(app.metrics.registry.contentType);
      return app.metrics.registry.metrics();
    });
  },
  { name: 'health' },
);
