import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { WecomApi } from './api-types';
import { WecomClient, WecomClientOptions } from './client';
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

export function createWecomClient(app: FastifyInstance, overrides: Partial<WecomClientOptions> = {}): WecomClient {
  const w = app.config.wecom;
  return new WecomClient({
    corpId: w.corpId,
    agentId: w.agentId,
    agentSecret: w.agentSecret,
    contactSecret: w.contactSecret,
    apiBase: w.apiBase,
    store: new DbSecretStore(app.db),
    metrics: app.metrics,
    log: app.log,
    now: app.now,
    // In sandbox mode the fake lives in this process: dispatch through inject, so tests need no socket.
    adapter: w.sandbox
      ? injectAdapter(
          app,
          () => selfSandboxPrefix(app),
          () => app.config.publicBaseUrl,
        )
      : undefined,
    ...overrides,
  });
}

export const wecomPlugin = fp(
  async (app: FastifyInstance, opts: WecomPluginOptions) => {
    app.decorate('wecom', createWecomClient(app, opts.client) as WecomApi);
  },
  { name: 'wecom' },
);
