import { build } from './app';
import { Config, ConfigError, loadConfig } from './config';

/** Entry point: validate config, build, listen, and shut down gracefully on SIGTERM/SIGINT. */
async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const app = await build(config);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: draining requests and the worker');
    // Stop accepting, wait for in-flight requests, then onClose hooks stop the worker and close the DB.
    const timer = setTimeout(() => {
      app.log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, 15_000);
    timer.unref();
    try {
      await app.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  // Prometheus on its own listener (loopback by default), never on the public port; before the
  // public port, so a taken METRICS_PORT stops the start (naming the variable) before any callback
  // is accepted. Closed by app.close() (an onClose hook) in the shutdown above.
  let metricsAt = 'off (METRICS_PORT=off)';
  if (config.metrics.port !== null) {
    try {
      metricsAt = await app.metricsServer.listen({ port: config.metrics.port, host: config.metrics.host });
    } catch (err) {
      process.stderr.write(
        `METRICS_PORT: cannot listen on ${config.metrics.host}:${config.metrics.port} (${(err as Error).message}); set another port or off\n`,
      );
      await app.close();
      process.exit(78);
    }
    app.log.info({ url: `${metricsAt}/metrics` }, 'metrics listening');
  }
  await app.listen({ port: config.port, host: config.host });
  const base = config.publicBaseUrl;
  app.log.info({ mode: config.wecom.sandbox ? 'sandbox' : 'production', db: config.database.kind }, 'listening');
  if (config.wecom.sandbox) {
    process.stdout.write(
      `\n  WeCom sandbox mode (no real WeCom corp configured)\n` +
        `  Sidebar:       ${base}/sidebar/\n` +
        `  Sandbox page:  ${base}/sandbox/\n` +
        `  Callback URL:  ${base}/wecom/callback\n` +
        `  Metrics:       ${config.metrics.port === null ? metricsAt : `${metricsAt}/metrics`}\n\n`,
    );
  }
}

main().catch((err) => {
  process.stderr.write(`fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
