import fp from 'fastify-plugin';

/** /healthz: process alive. /readyz: DB reachable and no pending migration. (/metrics is on its own listener: metrics-server.ts.) */
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
  },
  { name: 'health' },
);
