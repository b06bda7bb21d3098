import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, forbidden } from '../errors';
import { parseExpiry } from '../playbook/days';
import { fromRow, type LibraryService } from '../playbook/library';
import { templateView } from '../playbook/view';
import * as L from './library-schemas';
import type { SidebarService, Viewer } from './service';

interface Deps {
  service: SidebarService;
  library: LibraryService;
  viewer: (req: FastifyRequest) => Promise<Viewer>;
  now: () => number;
}

/**
 * Routes of the script library, inside the sidebar's session scope:
 *   managers: live check, 我的话术 (create / edit / delete their own), the exact send text, 已发送,
 *             the stage by hand;
 *   operators (the reviewer role): the library workflow for a web console, the same service the
 *             `templates` CLI uses.
 */
export async function libraryRoutes(scope: FastifyInstance, deps: Deps): Promise<void> {
  const api = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { service, library, viewer } = deps;
  const manager = async (req: FastifyRequest) => {
    const v = await viewer(req);
    if (v.role === 'operator') throw forbidden('forbidden_role', 'personal scripts belong to customer managers');
    return v;
  };
  const reviewer = async (req: FastifyRequest) => {
    const v = await viewer(req);
    if (v.role !== 'operator') throw forbidden('forbidden_role', 'only operators review the script library');
    return v;
  };

  api.post(
    '/templates/check',
    { schema: { body: L.TemplateInputBody, response: { 200: L.CheckReply } } },
    async (req) => {
      await viewer(req);
      return { findings: await library.check(req.body) };
    },
  );

  // The category filter of the script list: categories of the scripts this manager may use now.
  api.get('/templates/categories', { schema: { response: { 200: L.CategoriesReply } } }, async (req) => {
    const v = await viewer(req);
    return { categories: await library.repo.usableCategories(v.userid, deps.now()) };
  });

  // "存为我的话术": the wording of a script the manager may use, variables unfilled.
  api.get(
    '/templates/:id/source',
    { schema: { params: L.IdParams, response: { 200: L.SourceReply } } },
    async (req) => {
      const v = await viewer(req);
      const t = await library.usable(req.params.id, v.userid);
      const src = fromRow(t);
      return {
        source: {
          title: src.title,
          body: src.body,
          category: src.category ?? null,
          stage: src.stage ?? null,
          segments: src.segments ?? [],
          product: src.product ?? null,
          riskClass: src.riskClass ?? 'none',
          disclaimer: src.disclaimer ?? null,
          attachments: src.attachments ?? [],
        },
      };
    },
  );

  api.post(
    '/templates/:id/prepare',
    { schema: { params: L.IdParams, body: L.PrepareBody, response: { 200: L.PrepareReply } } },
    async (req) => service.prepare(await viewer(req), req.params.id, req.body.externalUserId),
  );

  api.post('/touches/:id/confirm', { schema: { params: L.IdParams, response: { 200: L.StageReply } } }, async (req) =>
    service.confirmTouch(await viewer(req), req.params.id),
  );

  api.put(
    '/customers/:externalUserId/stage',
    { schema: { params: L.ExternalUserIdParams, body: L.StageBody, response: { 200: L.StageReply } } },
    async (req) => service.setStage(await viewer(req), req.params.externalUserId, req.body.stage),
  );

  // 我的话术: a manager's own scripts, every status but retired (deleted ones are retired, kept).
  api.get('/my-templates', { schema: { response: { 200: L.LibraryTemplatesReply } } }, async (req) => {
    const v = await manager(req);
    const rows = await library.list({ owner: v.userid, status: ['draft', 'review', 'approved', 'rejected'] });
    return { templates: rows.map(templateView) };
  });

  api.post(
    '/my-templates',
    { schema: { body: L.TemplateInputBody, response: { 200: L.LibraryTemplateReply } } },
    async (req) => {
      const v = await manager(req);
      const t = await library.create({ ...req.body, channel: 'chat' }, { actor: v.userid, owner: v.userid });
      return { template: templateView(t) };
    },
  );

  api.put(
    '/my-templates/:id',
    { schema: { params: L.IdParams, body: L.TemplateInputBody, response: { 200: L.LibraryTemplateReply } } },
    async (req) => {
      const v = await manager(req);
      const t = await library.update(
        req.params.id,
        { ...req.body, channel: 'chat' },
        { actor: v.userid, owner: v.userid },
      );
      return { template: templateView(t) };
    },
  );

  api.delete(
    '/my-templates/:id',
    { schema: { params: L.IdParams, response: { 200: L.LibraryTemplateReply } } },
    async (req) => {
      const v = await manager(req);
      const t = await library.retire(req.params.id, v.userid, { owner: v.userid, reason: '客户经理删除' });
      return { template: templateView(t) };
    },
  );

  // The reviewer console API (operators).
  api.get(
    '/library/templates',
    { schema: { querystring: L.LibraryListQuery, response: { 200: L.LibraryTemplatesReply } } },
    async (req) => {
      await reviewer(req);
      const q = req.query;
      const rows = await library.list({
        status: q.status ? [q.status] : undefined,
        owner: q.owner === undefined ? undefined : q.owner === '' ? null : q.owner,
        expiringBefore: q.expiringDays ? deps.now() + q.expiringDays * 86_400_000 : undefined,
      });
      return { templates: rows.map(templateView) };
    },
  );

  api.get(
    '/library/templates/:id/versions',
    { schema: { params: L.IdParams, response: { 200: L.LibraryTemplatesReply } } },
    async (req) => {
      await reviewer(req);
      const t = await library.get(req.params.id);
      return { templates: (await library.repo.lineage(t.lineageId ?? t.id)).map(templateView) };
    },
  );

  api.post(
    '/library/templates',
    { schema: { body: L.CreateBody, response: { 200: L.LibraryTemplateReply } } },
    async (req) => {
      const v = await reviewer(req);
      const t = await library.create(req.body.template, { actor: v.userid, owner: null, submit: req.body.submit });
      return { template: templateView(t) };
    },
  );

  api.put(
    '/library/templates/:id',
    { schema: { params: L.IdParams, body: L.TemplateInputBody, response: { 200: L.LibraryTemplateReply } } },
    async (req) => {
      const v = await reviewer(req);
      return { template: templateView(await library.update(req.params.id, req.body, { actor: v.userid })) };
    },
  );

  api.post(
    '/library/templates/:id/submit',
    { schema: { params: L.IdParams, response: { 200: L.LibraryTemplateReply } } },
    async (req) => {
      const v = await reviewer(req);
      return { template: templateView(await library.submit(req.params.id, v.userid)) };
    },
  );

  api.post(
    '/library/templates/approve',
    { schema: { body: L.ApproveBody, response: { 200: L.LibraryTemplatesReply } } },
    async (req) => {
      const v = await reviewer(req);
      const expiresAt = parseExpiry(req.body.expires);
      if (expiresAt === null) throw new AppError('bad_request', 400, 'expires must be a date (YYYY-MM-DD)');
      const rows = await library.approve(req.body.ids, { reviewer: v.userid, expiresAt, comment: req.body.comment });
      return { templates: rows.map(templateView) };
    },
  );

  api.post(
    '/library/templates/:id/reject',
    { schema: { params: L.IdParams, body: L.RejectBody, response: { 200: L.LibraryTemplateReply } } },
    async (req) => {
      const v = await reviewer(req);
      return {
        template: templateView(await library.reject(req.params.id, { reviewer: v.userid, reason: req.body.reason })),
      };
    },
  );

  api.post(
    '/library/templates/:id/retire',
    { schema: { params: L.IdParams, response: { 200: L.LibraryTemplateReply } } },
    async (req) => {
      const v = await reviewer(req);
      return { template: templateView(await library.retire(req.params.id, v.userid)) };
    },
  );
}
