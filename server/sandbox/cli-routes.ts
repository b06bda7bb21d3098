import type { FastifyInstance } from 'fastify';
import { forbidden } from '../errors';

/** The path the operator CLI asks for the running sandbox's fake WeCom credentials. */
export const SANDBOX_CREDENTIALS_PATH = '/sandbox/credentials';

export interface SandboxCredentials {
  corpId: string;
  agentId: string;
  agentSecret: string;
  contactSecret: string;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * GET /sandbox/credentials: the corp id and secrets of this server's fake WeCom (generated per
 * process), so `npm run ops` on the same machine can call the fake this server answers with instead
 * of building its own (its tasks then show on the sandbox page and the server's jobs know their
 * msgids). Only for connections from this machine: the TCP peer, never X-Forwarded-For. The secrets
 * open nothing but this fake.
 */
export async function cliRoutes(app: FastifyInstance): Promise<void> {
  app.get('/credentials', async (req, reply): Promise<SandboxCredentials> => {
    if (!LOOPBACK.test(req.socket.remoteAddress ?? ''))
      throw forbidden('not_local', 'the sandbox credentials are only given to this machine');
    reply.header('cache-control', 'no-store');
    const w = app.config.wecom;
    return { corpId: w.corpId, agentId: w.agentId, agentSecret: w.agentSecret, contactSecret: w.contactSecret };
  });
}
