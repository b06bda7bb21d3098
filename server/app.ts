import { randomUUID } from 'node:crypto';
import Fastify, { FastifyError, FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import { callbackPlugin } from './callback/routes';
import { workerPlugin } from './callback/worker';
import { type Config, fastifyTrustProxy } from './config';
import { contactsPlugin } from './contacts/plugin';
import { openDatabase } from './db/data-source';
import { entryPlugin } from './entry/plugin';
import { AppError, errorBody } from './errors';
import { groupsPlugin } from './groups/plugin';
import { healthPlugin } from './health';
import { jobsPlugin } from './jobs/plugin';
import { fastifyLogger } from './logger';
import { createMetrics, Metrics } from './metrics';
import { metricsServerPlugin } from './metrics-server';
import { sandboxPlugin } from './sandbox/plugin';
import { securityHeadersPlugin } from './security-headers';
import { sidebarPlugin } from './sidebar';
import { EventRegistry } from './wecom/events';
import { wecomPlugin } from './wecom/plugin';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: DataSource;
    metrics: Metrics;
    events: EventRegistry;
    /** Injectable clock (ms) so tests can pin time-dependent checks. */
    now: () => number;
  }
}

export interface BuildOptions {
  /** Use an already open DataSource (tests, CLI); otherwise one is opened from config and migrated. */
  db?: DataSource;
  now?: () => number;
  /** Override config.worker.enabled (tests drive the worker by hand). */
  worker?: boolean;
  /** pino logger override (tests capture log lines). */
  logger?: unknown;
}

// Request ids: a random per-process prefix and a counter — unique across processes, and far
// cheaper than a UUID per request on the callback ack path.
const REQ_PREFIX = randomUUID().slice(0, 8);
let reqCounter = 0;
const nextRequestId = () => `${REQ_PREFIX}-${(++reqCounter).toString(36)}`;

/** Builds the whole service without listening: main.ts listens, tests use inject(). */
export async function build(config: Config, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: (opts.logger as never) ?? fastifyLogger(config.logLevel),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w-]{1,64}$/.test(given) ? given : nextRequestId();
    },
    bodyLimit: 1024 * 1024,
    trustProxy: fastifyTrustProxy(config.trustProxy),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  const ownsDb = !opts.db;
  const db =
    opts.db ??
    (await openDatabase(
      { url: config.database.url },
      {
        checkpointer: true,
        onCheckpointError: (message) => app.log.error({ message }, 'SQLite WAL checkpoint failed'),
      },
    ));
  app.decorate('config', config);
  app.decorate('db', db);
  app.decorate('metrics', createMetrics());
  app.decorate('events', new EventRegistry());
  app.decorate('now', opts.now ?? Date.now);
  if (ownsDb) app.addHook('onClose', async () => db.destroy());

  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (err instanceof AppError) return reply.code(err.statusCode).send(errorBody(err.code, err.message, err.details));
    if (err.validation) return reply.code(400).send(errorBody('bad_request', err.message));
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return reply.code(413).send(errorBody('body_too_large', 'request body exceeds the limit'));
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return reply.code(415).send(errorBody('unsupported_media_type', 'unsupported Content-Type'));
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
      return reply.code(err.statusCode).send(errorBody('bad_request', err.message));
    req.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody('internal', 'internal error'));
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)),
  );

  // First: its onRoute hook gives every route registered below its security headers.
  await app.register(securityHeadersPlugin, {
    publicBaseUrl: config.publicBaseUrl,
    extraFrameAncestors: config.sidebarFrameAncestors,
  });
  await app.register(healthPlugin);
  await app.register(metricsServerPlugin);
  await app.register(workerPlugin, { enabled: opts.worker ?? config.worker.enabled });
  await app.register(callbackPlugin);
  // Feature plugins register below (WeCom client, sandbox, contacts, entry API, sidebar).
  await app.register(wecomPlugin);
  await app.register(sandboxPlugin);
  await app.register(jobsPlugin);
  await app.register(contactsPlugin);
  await app.register(entryPlugin);
  await app.register(groupsPlugin);
  await app.register(sidebarPlugin);
  return app;
}
