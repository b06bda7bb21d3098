import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors';
import type { Sandbox } from './state';

/**
 * The OAuth authorize page of the sandbox: instead of asking WeCom who the member is, it issues a
 * single-use code for the sandbox's "current manager" (or `userid=`) and redirects like WeCom does.
 * The code resolves once through the fake's auth/getuserinfo (40029 afterwards or after 5 min).
 */
export async function oauthRoutes(app: FastifyInstance, sandbox: Sandbox): Promise<void> {
  app.get('/connect/oauth2/authorize', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.appid !== sandbox.fake.corpId) throw new AppError('bad_request', 400, 'appid is not the sandbox corp id');
    if (q.response_type !== 'code') throw new AppError('bad_request', 400, 'response_type must be code');
    if (q.scope && !['snsapi_base', 'snsapi_privateinfo'].includes(q.scope)) {
      throw new AppError('bad_request', 400, 'scope must be snsapi_base');
    }
    let target: URL;
    try {
      target = new URL(q.redirect_uri ?? '');
    } catch {
      throw new AppError('bad_request', 400, 'redirect_uri must be an absolute URL');
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new AppError('bad_request', 400, 'redirect_uri must be http(s)');
    }
    const userid = q.userid || sandbox.state.currentManager;
    if (!sandbox.fake.users.has(userid)) throw new AppError('bad_request', 400, `no sandbox member ${userid}`);
    target.searchParams.set('code', sandbox.fake.issueOAuthCode(userid));
    if (q.state !== undefined) target.searchParams.set('state', q.state);
    target.hash = '';
    return reply.redirect(target.toString(), 302);
  });
}
