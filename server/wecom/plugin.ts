import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { SecretBox } from '../lib/secret-box';
import type { WecomApi } from './api-types';
import { type ClientLog, type ClientMetrics, WecomClient, type WecomClientOptions } from './client';
import { injectAdapter } from './inject-adapter';
import { DbSecretStore } from './token-cache';

declare module 'fastify' {
  interface FastifyInstance {
    /** The WeCom server API (real WeCom, a private deployment, or the sandbox's fake). */
    wecom: WecomApi;
  }
}

/**
 * The WeCom client the wecom plugin decorated; read at call time, so a feature registered before
 * the client still finds it when a handler or job runs.
 */
export function wecomOf(app: FastifyInstance): WecomApi {
  if (!app.hasDecorator('wecom')) throw new Error('the WeCom client (app.wecom) is not registered');
  return app.wecom;
}

export interface WecomPluginOptions {
  /** Overrides for tests (sleep, random, retry policy, limiter …). */
  client?: Partial<WecomClientOptions>;
}

/** Sandbox apiBase pointing at this very app: `${publicBaseUrl}/sandbox/api`. */
function selfSandboxPrefix(app: FastifyInstance): string | undefined {
  const c = app.config;
  const own = `${c.publicBaseUrl}/sandbox/api`;
  return c.wecom.sandbox && c.wecom.apiBase.startsWith(own) ? own : undefined;
}

/**
 * The one way to make a WeCom client from configuration: the server's plugin and the operator CLI
 * both come here, so both share the token cache in the database and count and log every call.
 */
export function newWecomClient(deps: {
  config: Config;
  db: DataSource;
  metrics?: ClientMetrics;
  log?: ClientLog;
  now?: () => number;
  overrides?: Partial<WecomClientOptions>;
}): WecomClient {
  const w = deps.config.wecom;
  return new WecomClient({
    corpId: w.corpId,
    agentId: w.agentId,
    agentSecret: w.agentSecret,
    contactSecret: w.contactSecret,
    apiBase: w.apiBase,
    store: new DbSecretStore(deps.db, new SecretBox(deps.config.secretsKey)),
    metrics: deps.metrics,
    log: deps.log,
    now: deps.now,
    ...deps.overrides,
  });
}

export function createWecomClient(app: FastifyInstance, overrides: Partial<WecomClientOptions> = {}): WecomClient {
  return newWecomClient({
    config: app.config,
    db: app.db,
    metrics: app.metrics,
    log: app.log,
    now: app.now,
    overrides: {
      // In sandbox mode the fake lives in this process: dispatch through inject, so tests need no socket.
      adapter: app.config.wecom.sandbox
        ? injectAdapter(
            app,
            () => selfSandboxPrefix(app),
            () => app.config.publicBaseUrl,
          )
        : undefined,
      ...overrides,
    },
  });
}

export const wecomPlugin = fp(
  async (app: FastifyInstance, opts: WecomPluginOptions) => {
    app.decorate('wecom', createWecomClient(app, opts.client) as WecomApi);
  },
  { name: 'wecom' },
);
