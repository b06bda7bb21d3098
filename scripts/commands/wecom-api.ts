import pino from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../../server/config';
import { loggerOptions } from '../../server/logger';
import { createMetrics } from '../../server/metrics';
import { SANDBOX_CREDENTIALS_PATH, type SandboxCredentials } from '../../server/sandbox/cli-routes';
import type { WecomApi } from '../../server/wecom/api-types';
import { newWecomClient } from '../../server/wecom/plugin';
import { UsageError } from './context';

/**
 * The WeCom API of the operator CLI, created on a command's first WeCom call.
 *
 * - Real WeCom: a client sharing the server's token cache in the database.
 * - Sandbox, with the demo server running on this machine (http://127.0.0.1:$PORT, or
 *   SANDBOX_SERVER_URL): a real client against that server's fake WeCom (/sandbox/api), with the
 *   credentials it generated. The mass-send tasks then show on its sandbox page, and the msgids the
 *   CLI records are ones its SOP jobs can poll.
 * - Sandbox, nothing running: the app is built in this process (never listening, no worker, no cron
 *   jobs, no demo seeding) and its throwaway fake answers through inject; nothing it creates
 *   outlives the command.
 *
 * One line on stderr says which (stdout stays the command's output).
 */

export interface WecomFactoryOptions {
  /** Where the one "which WeCom" line goes; the CLI writes to stderr. */
  notice?: (line: string) => void;
  /** How long the running server may take to answer the probe. */
  probeTimeoutMs?: number;
}

const PROBE_TIMEOUT_MS = 1000;

/** The sandbox server to probe: SANDBOX_SERVER_URL, else this machine's PORT; null = none (off, PORT=0). */
export function sandboxServerTarget(config: Config): { url: string; explicit: boolean } | null {
  if (config.sandboxServerUrl === null) return null;
  if (config.sandboxServerUrl !== undefined) return { url: config.sandboxServerUrl, explicit: true };
  return config.port ? { url: `http://127.0.0.1:${config.port}`, explicit: false } : null;
}

/**
 * Asks `baseUrl` for its sandbox credentials (GET /sandbox/credentials, answered only by our
 * sandbox and only to this machine). Never throws: a reason when no sandbox answers.
 */
export async function probeSandboxServer(
  baseUrl: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<{ ok: true; credentials: SandboxCredentials } | { ok: false; reason: string }> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${SANDBOX_CREDENTIALS_PATH}`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') return { ok: false, reason: `no answer within ${timeoutMs} ms` };
    return { ok: false, reason: e.cause?.code ?? e.message };
  }
  const body = (await res.json().catch(() => null)) as Partial<SandboxCredentials> | null;
  if (res.status !== 200) return { ok: false, reason: `HTTP ${res.status} on ${SANDBOX_CREDENTIALS_PATH}` };
  const keys = ['corpId', 'agentId', 'agentSecret', 'contactSecret'] as const;
  if (!body || keys.some((k) => typeof body[k] !== 'string' || !body[k]))
    return { ok: false, reason: `${SANDBOX_CREDENTIALS_PATH} is not a WeCom sandbox answer` };
  return { ok: true, credentials: body as SandboxCredentials };
}

export function wecomFactory(
  db: DataSource,
  config: Config,
  closers: (() => Promise<void>)[],
  opts: WecomFactoryOptions = {},
): () => Promise<WecomApi> {
  const notice = opts.notice ?? (() => {});
  // Calls are logged (without tokens) to stderr at LOG_LEVEL, like the server's.
  const client = (cfg: Config) =>
    newWecomClient({
      config: cfg,
      db,
      log: pino(loggerOptions(cfg.logLevel), pino.destination(2)),
      metrics: createMetrics({ defaults: false }),
    });
  let api: Promise<WecomApi> | null = null;
  return () => {
    api ??= (async () => {
      if (!config.wecom.sandbox) return client(config);
      const target = sandboxServerTarget(config);
      if (target) {
        const probe = await probeSandboxServer(target.url, opts.probeTimeoutMs);
        if (probe.ok) {
          notice(`WeCom sandbox: the running server at ${target.url}`);
          const { corpId, agentId, agentSecret, contactSecret } = probe.credentials;
          const apiBase = `${target.url}/sandbox/api`;
          return client({
            ...config,
            wecom: { ...config.wecom, corpId, agentId, agentSecret, contactSecret, apiBase },
          });
        }
        // A server named on purpose that is not there is a mistake, not a reason for another fake.
        if (target.explicit)
          throw new UsageError(
            `SANDBOX_SERVER_URL=${target.url}: no WeCom sandbox answers there (${probe.reason}); start the server or unset SANDBOX_SERVER_URL`,
          );
        notice(
          `WeCom sandbox: no server running at ${target.url}; calls go to a throwaway in-process fake WeCom, start \`npm start\` to see them on the sandbox page`,
        );
      } else {
        notice(
          `WeCom sandbox: ${config.sandboxServerUrl === null ? 'SANDBOX_SERVER_URL=off' : 'PORT=0 names no server'}; calls go to a throwaway in-process fake WeCom`,
        );
      }
      const { build } = await import('../../server/app');
      const app = await build(
        {
          ...config,
          demoData: false,
          logLevel: 'silent',
          worker: { ...config.worker, enabled: false },
          jobs: { ...config.jobs, enabled: false },
        },
        { db, worker: false },
      );
      await app.ready();
      closers.push(() => app.close());
      return app.wecom;
    })();
    return api;
  };
}
