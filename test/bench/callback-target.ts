/**
 * Bench target process. BENCH_MODE=bare: a Fastify route that reads an XML body and answers
 * `success` (the baseline). Otherwise the real service (build(config)) on DATABASE_URL, worker off
 * so only the acknowledgement path is measured.
 */
import Fastify from 'fastify';
import { build } from '../../server/app';
import { loadConfig } from '../../server/config';

async function main() {
  const port = Number(process.env.PORT);
  if (process.env.BENCH_MODE === 'bare') {
    const app = Fastify({ logger: false });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('text/xml', { parseAs: 'string', bodyLimit: 65536 }, (_r, b, done) => done(null, b));
    app.get('/readyz', async () => ({ status: 'ready' }));
    app.post('/wecom/callback', async (_req, reply) => reply.type('text/plain').send('success'));
    await app.listen({ port, host: '127.0.0.1' });
    process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
    return;
  }
  const app = await build(loadConfig(process.env), { worker: false });
  // /metrics lives on its own listener (as in main.ts); the bench reads its counters there.
  if (app.config.metrics.port !== null)
    await app.metricsServer.listen({ port: app.config.metrics.port, host: '127.0.0.1' });
  await app.listen({ port, host: '127.0.0.1' });
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  process.on('SIGTERM', () => {
    // Event-loop stalls explain ack-latency tails; printed for the bench log.
    if (process.env.BENCH_LOOP_DELAY) {
      process.stderr.write(
        `event loop delay p50=${(h.percentile(50) / 1e6).toFixed(1)}ms p99=${(h.percentile(99) / 1e6).toFixed(1)}ms max=${(h.max / 1e6).toFixed(1)}ms\n`,
      );
    }
    void app.close().then(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
