import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors';
import { escapeHtml } from '../lib/html';
import { DEMO_BRANCHES, DEMO_CUSTOMERS, DEMO_MANAGERS } from './demo-data';
import { appMessageView, textcardButtons } from './message-view';
import { SANDBOX_PAGE_HTML } from './page';
import { SIMULATIONS, SimulationError, SimulationName } from './simulator';
import type { Sandbox } from './state';
import { dropSidebarSession } from './story';

/**
 * /sandbox/: the page, the JSON it polls, and POST /sandbox/simulate/<action> (used by the page and
 * by the operator CLI against a running server).
 */
export async function pageRoutes(app: FastifyInstance, sandbox: Sandbox): Promise<void> {
  const { fake, state } = sandbox;

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(SANDBOX_PAGE_HTML));

  app.get('/data', async () => {
    const branchName = new Map(DEMO_BRANCHES.map((b) => [b.code, b.name]));
    const roleOf = new Map(DEMO_MANAGERS.map((m) => [m.userid, m]));
    // Which bank customer each contact is linked to (the page names contacts by customer, not by id).
    const links = new Map<string, string>();
    for (const r of (await app.db.query(
      'SELECT external_userid, customer_id FROM external_contacts WHERE customer_id IS NOT NULL',
    )) as { external_userid: string; customer_id: string }[])
      links.set(r.external_userid, r.customer_id);
    const contactsOf = new Map<string, { externalUserId: string; userids: string[] }[]>();
    for (const c of fake.contacts.values()) {
      const id = links.get(c.external_userid);
      if (!id) continue;
      const userids = fake
        .followsOf(c.external_userid)
        .filter((f) => !f.deletedByCustomer)
        .map((f) => f.userid);
      contactsOf.set(id, [...(contactsOf.get(id) ?? []), { externalUserId: c.external_userid, userids }]);
    }
    return {
      corpId: fake.corpId,
      agentId: fake.agentId,
      currentManager: state.currentManager,
      context: state.context,
      managers: [...fake.users.values()].map((u) => ({
        userid: u.userid,
        name: u.name,
        status: u.status,
        branch: branchName.get(roleOf.get(u.userid)?.branchCode ?? '') ?? '',
        role: roleOf.get(u.userid)?.role ?? 'manager',
      })),
      contacts: [...fake.contacts.values()].map((c) => ({
        externalUserId: c.external_userid,
        name: c.name,
        customerId: links.get(c.external_userid) ?? null,
        follows: fake.followsOf(c.external_userid).map((f) => ({
          userid: f.userid,
          state: f.state ?? null,
          deletedByCustomer: !!f.deletedByCustomer,
          tags: f.tag_ids,
        })),
      })),
      customers: DEMO_CUSTOMERS.map((c) => ({
        id: c.id,
        maskedName: c.maskedName,
        segment: c.segment,
        owner: c.ownerUserid,
        // Fictitious: what the customer would tell a manager who links them in the sidebar.
        phone: c.phone,
        contacts: contactsOf.get(c.id) ?? [],
      })),
      groups: [...fake.groups.values()]
        .filter((g) => !g.dismissed)
        .map((g) => ({ chatId: g.chat_id, name: g.name, owner: g.owner })),
      tagGroups: fake.tagGroups,
      transfers: fake.transfers,
      contactWays: [...fake.contactWays.values()].filter((w) => !w.deleted),
      welcomes: fake.welcomes.slice(-50),
      messages: (() => {
        const buttons = textcardButtons(fake.calls);
        return fake.messages.slice(-50).map((m) => ({ ...m, view: appMessageView(m, buttons) }));
      })(),
      rewards: sandbox.rewards.received.slice(-50),
    };
  });

  app.get('/log', async (req) => {
    const since = Number((req.query as { since?: string }).since ?? 0) || 0;
    return { calls: fake.calls.filter((c) => c.seq > since).slice(-200) };
  });

  app.put('/current-manager', async (req, reply) => {
    const userid = (req.body as { userid?: unknown } | undefined)?.userid;
    if (typeof userid !== 'string' || !fake.users.has(userid)) throw new AppError('bad_request', 400, 'unknown userid');
    // The sidebar's session cookie would keep the previous manager logged in.
    if (userid !== state.currentManager) dropSidebarSession(app, reply);
    state.currentManager = userid;
    return { currentManager: userid };
  });

  app.post('/simulate/:action', async (req) => {
    const action = (req.params as { action: string }).action as SimulationName;
    const fn = SIMULATIONS[action];
    if (!fn) throw new AppError('not_found', 404, `no simulation ${action}`);
    try {
      return await (fn as (t: FastifyInstance, o: unknown) => Promise<unknown>)(app, req.body ?? {});
    } catch (err) {
      if (err instanceof SimulationError) throw new AppError('bad_request', 400, err.message);
      throw err;
    }
  });

  // add_contact_way answers a qr_code URL under /sandbox/qr/<config_id>; show what a scan would do.
  app.get('/qr/:configId', async (req, reply) => {
    const id = (req.params as { configId: string }).configId.replace(/\.png$/, '');
    const way = fake.contactWays.get(id);
    if (!way) throw new AppError('not_found', 404, 'no such contact way');
    return reply
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><meta charset="utf-8"><title>沙箱二维码</title><p>沙箱「联系我」二维码 ${escapeHtml(id)}</p>` +
          `<p>客户经理：${escapeHtml(way.user.map((u) => fake.users.get(u)?.name ?? u).join('、'))}</p>` +
          `<p>渠道参数（state）：${escapeHtml(way.state ?? '（无）')}</p>` +
          '<p>在 <a href="/sandbox/">沙箱页面</a> 的「演示剧本」第 2 步，或在「更多模拟」里选这个二维码，即模拟扫码添加。</p>',
      );
  });
}
