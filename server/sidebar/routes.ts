import fastifyCookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { audit } from '../audit/audit';
import { AppError, forbidden, unauthorized } from '../errors';
import { TableTemplateProvider, type TemplateProvider } from '../playbook';
import { LibraryService } from '../playbook/library';
import { createReferralCode } from '../referrals/service';
import { TodoService } from '../todo/service';
import type { WecomApi } from '../wecom/api-types';
import { wecomErrorInfo } from '../wecom/errors';
import { jssdkSignature } from '../wecom/jssdk';
import { checkSignableUrl } from './jssdk';
import { libraryRoutes } from './library-routes';
import { DEFAULT_LINK_LIMITS } from './link-limits';
import * as S from './schemas';
import { SidebarService, type Viewer, viewerFrom, wecomFailure } from './service';
import {
  cookieOptions,
  SESSION_COOKIE,
  SESSION_REFRESH_AFTER_MS,
  SESSION_TTL_MS,
  signSession,
  verifySession,
} from './session';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in manager, being read from the managers table (see authenticate). */
    sidebarViewer: Promise<Viewer> | null;
  }
}

export interface SidebarRoutesOptions {
  templates?: TemplateProvider;
}

/** OAuth codes are single-use at WeCom already; remembering ours makes a replay fail without a call. */
class UsedCodes {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly ttlMs = 5 * 60 * 1000,
    private readonly max = 10_000,
  ) {}
  /** true if the code was already used. */
  use(code: string, now: number): boolean {
    if (this.seen.size >= this.max) {
      for (const [k, until] of this.seen) if (until <= now || this.seen.size >= this.max) this.seen.delete(k);
    }
    const until = this.seen.get(code);
    if (until !== undefined && until > now) return true;
    this.seen.set(code, now + this.ttlMs);
    return false;
  }
}

const meBody = (v: Viewer) => ({ userid: v.userid, name: v.name, role: v.role, branchCode: v.branchCode ?? '' });

/** /api/sidebar/* (registered with that prefix, encapsulated: the cookie parser stays in here). */
export async function sidebarRoutes(root: FastifyInstance, opts: SidebarRoutesOptions): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  if (!app.hasDecorator('parseCookie')) await app.register(fastifyCookie);
  app.decorateRequest('sidebarViewer', null);

  // The cookie is SameSite=None on https (the sidebar runs inside WeCom's webview), so a writing
  // request from another site would carry it: browsers send Origin on those, and it must be ours.
  app.addHook('onRequest', async (req) => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const origin = req.headers.origin;
    if (origin && origin !== new URL(app.config.publicBaseUrl).origin) {
      throw forbidden('bad_origin', 'cross-site request refused');
    }
  });

  const templates =
    opts.templates ??
    new TableTemplateProvider(app.db, () => app.now(), {
      campaignProducts: app.config.learning?.campaignProducts,
    });
  const library = new LibraryService(app.db, () => app.now(), app.config.playbook ?? { personalReview: true });
  const service = new SidebarService(
    app.db,
    templates,
    () => app.wecom,
    () => app.now(),
    { phoneSalt: app.config.phoneHashSalt, limits: app.config.sidebarLink ?? DEFAULT_LINK_LIMITS },
    app.config.segmentTags,
    library,
  );
  const usedCodes = new UsedCodes();
  const todo = new TodoService(app.db, () => app.now(), app.config.todo.cadenceDays);

  function setSession(reply: FastifyReply, v: Viewer): void {
    const token = signSession(
      { userid: v.userid, role: v.role, branchCode: v.branchCode ?? '', exp: app.now() + SESSION_TTL_MS },
      app.config.sessionSecret,
    );
    reply.setCookie(SESSION_COOKIE, token, cookieOptions(app.config.publicBaseUrl));
  }

  /** Only active managers use the sidebar (any role; operators then see no cards). */
  async function activeViewer(userid: string): Promise<Viewer> {
    const row = await service.repo.manager(userid);
    if (row?.status !== 'active') throw forbidden('not_a_manager', 'not an active customer manager');
    return viewerFrom(row);
  }

  /** 401 with distinct codes (no cookie / expired / forged); a deactivated manager gets 403. */
  async function authenticate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const now = app.now();
    const check = verifySession(req.cookies[SESSION_COOKIE], app.config.sessionSecret, now);
    if (!check.ok) {
      const messages = {
        unauthenticated: 'no sidebar session',
        session_expired: 'the sidebar session has expired',
        session_invalid: 'the sidebar session is not valid',
      };
      throw unauthorized(check.code, messages[check.code]);
    }
    // Role and branch come from the table, not the cookie, so changes apply at once. The lookup is
    // started here and awaited by the route, so the card can read the contact at the same time.
    const { session } = check;
    const pending = activeViewer(session.userid).then((v) => {
      if (session.exp - now < SESSION_TTL_MS - SESSION_REFRESH_AFTER_MS) setSession(reply, v);
      return v;
    });
    // Every route awaits it; this only keeps a rejection from being reported as unhandled meanwhile.
    pending.catch(() => {});
    req.sidebarViewer = pending;
  }
  const viewer = (req: FastifyRequest) => req.sidebarViewer as Promise<Viewer>;

  app.get('/bootstrap', { schema: { response: { 200: S.Bootstrap } } }, async () => ({
    corpId: app.config.wecom.corpId,
    agentId: app.config.wecom.agentId,
    oauthBase: app.config.wecom.oauthBase,
    sandbox: app.config.wecom.sandbox,
  }));

  app.post('/session', { schema: { body: S.SessionBody, response: { 200: S.Me } } }, async (req, reply) => {
    const { code } = req.body;
    if (usedCodes.use(code, app.now())) throw unauthorized('oauth_code_invalid', 'this OAuth code was already used');
    let info: Awaited<ReturnType<WecomApi['getUserInfo']>>;
    try {
      info = await app.wecom.getUserInfo(code);
    } catch (err) {
      const e = wecomErrorInfo(err);
      if (e.kind === 'auth' || e.errcode === 40029) {
        throw unauthorized('oauth_code_invalid', 'the OAuth code is invalid, expired or already used');
      }
      throw wecomFailure('auth/getuserinfo', err);
    }
    if (!info.userid) throw forbidden('not_a_manager', 'the visitor is not a member of this corp');
    const v = await activeViewer(info.userid);
    setSession(reply, v);
    await audit(app.db, { actor: v.userid, action: 'sidebar.login', subject: v.userid });
    return meBody(v);
  });

  // The boot check: 200 either way, so a cold open logs no 401 in the console (issue 13).
  app.get('/session', { schema: { response: { 200: S.SessionStatus } } }, async (req) => {
    const check = verifySession(req.cookies[SESSION_COOKIE], app.config.sessionSecret, app.now());
    if (!check.ok) return { authenticated: false, reason: check.code };
    const row = await service.repo.manager(check.session.userid);
    if (row?.status !== 'active') return { authenticated: false, reason: 'not_a_manager' };
    return { authenticated: true, me: meBody(viewerFrom(row)) };
  });

  // Everything below needs a session.
  await app.register(async (authed) => {
    const api = authed.withTypeProvider<TypeBoxTypeProvider>();
    api.addHook('preHandler', authenticate);

    api.get('/me', { schema: { response: { 200: S.Me } } }, async (req) => meBody(await viewer(req)));

    api.get(
      '/jssdk-config',
      { schema: { querystring: S.JssdkQuery, response: { 200: S.JssdkConfig } } },
      async (req) => {
        const problem = checkSignableUrl(req.query.url, app.config.publicBaseUrl);
        if (problem) throw new AppError(problem.code, 400, problem.message);
        const client = app.wecom;
        let corpTicket: string;
        let agentTicket: string;
        try {
          [corpTicket, agentTicket] = await Promise.all([client.getJsapiTicket(), client.getAgentTicket()]);
        } catch (err) {
          throw wecomFailure('jsapi ticket', err);
        }
        const timestamp = Math.floor(app.now() / 1000);
        return {
          corpId: app.config.wecom.corpId,
          agentId: app.config.wecom.agentId,
          corp: jssdkSignature(corpTicket, req.query.url, undefined, timestamp),
          agent: jssdkSignature(agentTicket, req.query.url, undefined, timestamp),
        };
      },
    );

    api.get(
      '/customers/:externalUserId',
      { schema: { params: S.ExternalUserIdParams, response: { 200: S.Card } } },
      async (req) => service.card(viewer(req), req.params.externalUserId),
    );

    api.post(
      '/customers/:externalUserId/tags',
      { schema: { params: S.ExternalUserIdParams, body: S.TagsBody, response: { 200: S.TagsReply } } },
      async (req) => service.updateTags(await viewer(req), req.params.externalUserId, req.body.add, req.body.remove),
    );

    api.post(
      '/customers/:externalUserId/link',
      { schema: { params: S.ExternalUserIdParams, body: S.LinkBody, response: { 200: S.LinkReply } } },
      async (req) => ({
        linked: await service.link(await viewer(req), req.params.externalUserId, req.body),
      }),
    );

    // 生成推荐码 (MGM): authorised like the card; the code adds the manager who made it.
    api.post(
      '/customers/:externalUserId/referral-code',
      { schema: { params: S.ExternalUserIdParams, response: { 200: S.ReferralCodeReply } } },
      async (req) => {
        const v = await viewer(req);
        const c = await service.access(v, req.params.externalUserId);
        try {
          const made = await createReferralCode(app.db, app.wecom, {
            referrer: { externalUserid: c.head.external_userid, customerId: c.head.customer_id },
            userid: v.userid,
            actor: v.userid,
            now: app.now(),
          });
          return { qrCode: made.qrCode, created: made.created };
        } catch (err) {
          // WeCom refused (or was unreachable): a 502 the sidebar words plainly; anything else as is.
          if (wecomErrorInfo(err).errcode === null) throw err;
          throw wecomFailure('add_contact_way', err);
        }
      },
    );

    api.get('/todo', { schema: { response: { 200: S.TodoReply } } }, async (req) => {
      const v = await viewer(req);
      if (v.role === 'operator') throw forbidden('forbidden_role', 'operators have no customer to-do list');
      return todo.forViewer(v);
    });

    // 跟进记录: authorised like the card (serving/owning manager or the branch lead).
    api.post(
      '/customers/:externalUserId/notes',
      { schema: { params: S.ExternalUserIdParams, body: S.NoteBody, response: { 200: S.NoteReply } } },
      async (req) => {
        const v = await viewer(req);
        await service.access(v, req.params.externalUserId);
        return { note: await service.workbench.addNote(v.userid, req.params.externalUserId, req.body) };
      },
    );

    api.get(
      '/customers/:externalUserId/timeline',
      { schema: { params: S.ExternalUserIdParams, response: { 200: S.TimelineReply } } },
      async (req) => {
        await service.access(await viewer(req), req.params.externalUserId);
        const [timeline, latest] = await Promise.all([
          service.workbench.timeline(req.params.externalUserId),
          service.workbench.repo.latestNote(req.params.externalUserId),
        ]);
        return { timeline, nextFollowUp: latest?.next_follow_up ?? null };
      },
    );

    api.get(
      '/templates',
      { schema: { querystring: S.TemplatesQuery, response: { 200: S.TemplatesReply } } },
      async (req) =>
        service.searchTemplates(await viewer(req), req.query.q, req.query.stage, req.query.externalUserId, {
          category: req.query.category,
          onlyStage: req.query.onlyStage,
        }),
    );

    api.post('/touches', { schema: { body: S.TouchBody, response: { 200: S.TouchReply } } }, async (req) =>
      service.recordTouch(
        await viewer(req),
        req.body.externalUserId,
        req.body.templateId,
        req.body.channel,
        req.body.requestId,
      ),
    );

    await libraryRoutes(api, { service, library, viewer, now: () => app.now() });
  });
}
