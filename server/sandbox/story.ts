import type { FastifyInstance, FastifyReply } from 'fastify';
import { managersInSummary, withManagerNames } from '../allocation/explain';
import { DEFAULT_ENTRY_CLIENT } from '../config';
import { signEntry } from '../entry/signature';
import { AppError } from '../errors';
import { REASON_ZH } from '../reports/html';
import { buildReport } from '../reports/queries';
import { cookieOptions, SESSION_COOKIE } from '../sidebar/session';
import { DEMO_CUSTOMERS } from './demo-data';
import { simulateAddContact, simulateCustomerDeletesManager } from './simulator';
import type { Sandbox, StoryFigures, StoryState } from './state';

/**
 * The guided story (演示剧本) of the sandbox page: five steps a newcomer clicks through, each one a
 * real path through the server — the signed entry API, the add callback and its welcome, the
 * sidebar in that chat, a sent script, the delete callback and the operating report. The story's
 * progress lives in the sandbox state, so a reload of the page picks it up where it was.
 */

/** How long a step waits for the callback worker (welcome sent, link made, delete recorded). */
const WORKER_WAIT_MS = 15_000;
const POLL_MS = 100;
const DAY = 86_400_000;
/** The report period the story shows: the ops CLI's default (the 30 days before now). */
const REPORT_DAYS = 30;

export const REPORT_COMMAND = 'npm run ops -- report --by manager';

async function waitFor<T>(probe: () => Promise<T | null | undefined>, ms: number): Promise<T | null> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined) return v;
    if (Date.now() >= until) return null;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * The sidebar keeps its session in a cookie for 30 min: when the page switches who is "logged in",
 * that session must go, or the sidebar keeps showing the previous manager (and 无权限).
 */
export function dropSidebarSession(app: FastifyInstance, reply: FastifyReply): void {
  const o = cookieOptions(app.config.publicBaseUrl);
  const attrs = [`Path=${o.path}`, 'Max-Age=0', 'HttpOnly', `SameSite=${o.sameSite === 'none' ? 'None' : 'Lax'}`];
  if (o.secure) attrs.push('Secure');
  reply.header('set-cookie', `${SESSION_COOKIE}=; ${attrs.join('; ')}`);
}

async function managerNames(app: FastifyInstance, ids: string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const id of ids) {
    const u = app.sandbox?.fake.users.get(id);
    if (u) names.set(id, u.name);
  }
  if (ids.length && names.size < ids.length) {
    const rows: { userid: string; name: string }[] = await app.db.query(
      `SELECT userid, name FROM managers WHERE userid IN (${ids.map(() => '?').join(',')})`,
      ids,
    );
    for (const r of rows) names.set(r.userid, r.name);
  }
  return names;
}

async function figuresFor(app: FastifyInstance, userid: string): Promise<StoryFigures> {
  const to = app.now() + 1;
  const report = await buildReport(app.db, { from: to - REPORT_DAYS * DAY, to, by: 'manager' });
  const row = report.rows.find((r) => r.key === userid);
  return {
    days: REPORT_DAYS,
    adds: row?.adds ?? 0,
    churned: row?.churned ?? 0,
    churnRate: row?.churnRate ?? null,
    totalAdds: report.total.adds,
    totalChurned: report.total.churned,
  };
}

function needStory(sandbox: Sandbox, step: 'scanned' | 'added'): StoryState {
  const s = sandbox.state.story;
  if (!s?.allocation) throw new AppError('story_step', 409, '请先完成第 1 步：客户扫码');
  if (step === 'added' && !s.externalUserId) throw new AppError('story_step', 409, '请先完成第 2 步：客户添加客户经理');
  return s;
}

/** What the page shows of the story: progress, the mock chat with this customer, the figures. */
export async function storyView(app: FastifyInstance, sandbox: Sandbox) {
  const s = sandbox.state.story ?? null;
  const ext = s?.externalUserId;
  const chat = ext
    ? [
        ...sandbox.fake.welcomes
          .filter((w) => w.external_userid === ext)
          .map((w) => ({ at: w.at, kind: 'welcome' as const, text: w.content ?? '（欢迎语附件）' })),
        ...sandbox.state.sent
          .filter((m) => m.externalUserId === ext)
          .map((m) => ({
            at: m.at,
            kind: 'sent' as const,
            text: m.text?.content ?? (m.news ? `[链接] ${m.news.title}` : m.image ? '[图片]' : `[${m.msgtype}]`),
          })),
      ].sort((a, b) => a.at - b.at)
    : [];
  // Who can still scan: demo customers with no contact yet, in the seed, a story or a free add
  // (the first one is the page's default).
  const taken = new Set(
    (
      (await app.db.query('SELECT DISTINCT customer_id FROM external_contacts WHERE customer_id IS NOT NULL')) as {
        customer_id: string;
      }[]
    ).map((r) => r.customer_id),
  );
  for (const id of sandbox.state.storyCustomers ?? []) taken.add(id);
  return {
    story: s,
    chat,
    reportCommand: REPORT_COMMAND,
    fresh: DEMO_CUSTOMERS.filter((c) => !c.externalUserid && !taken.has(c.id)).map((c) => ({
      id: c.id,
      name: c.maskedName,
      segment: c.segment,
    })),
  };
}

export async function storyRoutes(app: FastifyInstance, sandbox: Sandbox): Promise<void> {
  const { fake, state } = sandbox;

  app.get('/story', async () => storyView(app, sandbox));

  app.post('/story/reset', async () => {
    state.story = undefined;
    return storyView(app, sandbox);
  });

  // 1. The bank app calls the entry API for the customer who scanned the branch's 联系我 code. The
  //    call is signed here, server-side, with the configured key: the browser never sees it.
  app.post('/story/scan', async (req) => {
    const customerId = (req.body as { customerId?: unknown } | undefined)?.customerId;
    const customer = DEMO_CUSTOMERS.find((c) => c.id === customerId);
    if (!customer) throw new AppError('bad_request', 400, '请选择一位演示客户');
    const secret = app.config.entry.clients[DEFAULT_ENTRY_CLIENT];
    if (!secret)
      throw new AppError('story_config', 500, 'ENTRY_SECRET is not set: the sandbox cannot sign the entry call');
    const payload = JSON.stringify({ customerId: customer.id });
    const timestamp = Math.floor(app.now() / 1000);
    const res = await app.inject({
      method: 'POST',
      url: '/api/entry/allocate',
      headers: {
        'content-type': 'application/json',
        'x-entry-timestamp': String(timestamp),
        'x-entry-signature': signEntry(secret, timestamp, payload),
      },
      payload,
    });
    if (res.statusCode !== 200) {
      const msg = (res.json() as { error?: { message?: string } }).error?.message ?? `HTTP ${res.statusCode}`;
      throw new AppError('story_entry', 502, `分配接口没有给出客户经理：${msg}`);
    }
    const a = res.json() as {
      allocationId: string;
      userid: string;
      managerName: string;
      branchName: string | null;
      distanceMeters: number | null;
      reason: string;
      state: string;
      qrCode: string | null;
    };
    const [row] = (await app.db.query('SELECT explanation, config_id FROM allocations WHERE id = ?', [
      a.allocationId,
    ])) as { explanation: string | null; config_id: string | null }[];
    let summary = '';
    try {
      const ex = JSON.parse(row?.explanation ?? 'null') as { summaryZh?: unknown } | null;
      if (typeof ex?.summaryZh === 'string')
        summary = withManagerNames(ex.summaryZh, await managerNames(app, managersInSummary(ex.summaryZh)));
    } catch {
      /* the reason code still says why */
    }
    state.story = {
      customerId: customer.id,
      customerName: customer.maskedName,
      segment: customer.segment,
      allocation: {
        id: a.allocationId,
        userid: a.userid,
        managerName: a.managerName,
        branchName: a.branchName,
        reason: a.reason,
        reasonZh: REASON_ZH[a.reason] ?? a.reason,
        summary,
        distanceMeters: a.distanceMeters,
        state: a.state,
        configId: row?.config_id ?? null,
        qrCode: a.qrCode,
        request: { body: payload, timestamp },
      },
    };
    state.storyCustomers = [...(state.storyCustomers ?? []), customer.id];
    // The page's identity follows the story: the allocated manager is who logs in to the sidebar.
    state.currentManager = a.userid;
    return storyView(app, sandbox);
  });

  // 2. The customer adds that manager with the QR code's state: the add callback links the contact
  //    to the bank customer (the state names the allocation) and sends the welcome message.
  app.post('/story/add', async () => {
    const s = needStory(sandbox, 'scanned');
    const a = s.allocation as NonNullable<StoryState['allocation']>;
    if (!s.externalUserId) {
      const r = await simulateAddContact(app, { userid: a.userid, state: a.state, name: s.customerName });
      if (r.status !== 200) throw new AppError('story_callback', 502, `回调没有被接收（HTTP ${r.status}）`);
      s.externalUserId = r.externalUserId;
      s.welcomeCode = r.welcomeCode;
    }
    const ext = s.externalUserId as string;
    const [welcomed, linked] = await Promise.all([
      waitFor(async () => fake.welcomes.find((w) => w.external_userid === ext) ?? null, WORKER_WAIT_MS),
      waitFor(async () => {
        const [c] = (await app.db.query('SELECT customer_id FROM external_contacts WHERE external_userid = ?', [
          ext,
        ])) as { customer_id: string | null }[];
        return c?.customer_id ?? null;
      }, WORKER_WAIT_MS),
    ]);
    s.linkedCustomerId = linked;
    s.welcomeMissing = !welcomed;
    state.currentManager = a.userid;
    state.context = { entry: 'single_chat_tools', externalUserId: ext };
    return storyView(app, sandbox);
  });

  // 3. Open the sidebar as that manager in that chat: a plain link (one click, no popup blocker).
  app.get('/story/open-sidebar', async (_req, reply) => {
    const s = needStory(sandbox, 'added');
    state.currentManager = (s.allocation as NonNullable<StoryState['allocation']>).userid;
    state.context = { entry: 'single_chat_tools', externalUserId: s.externalUserId };
    s.sidebarOpened = true;
    dropSidebarSession(app, reply);
    return reply.redirect('/sidebar/', 302);
  });

  // 5. The customer deletes the manager: churn, as the operating report counts it.
  app.post('/story/delete', async () => {
    const s = needStory(sandbox, 'added');
    const a = s.allocation as NonNullable<StoryState['allocation']>;
    const ext = s.externalUserId as string;
    if (!s.deleted) {
      const before = await figuresFor(app, a.userid);
      const r = await simulateCustomerDeletesManager(app, { userid: a.userid, externalUserId: ext });
      if (r.status !== 200) throw new AppError('story_callback', 502, `回调没有被接收（HTTP ${r.status}）`);
      const recorded = await waitFor(async () => {
        const [f] = (await app.db.query(
          "SELECT deleted_by FROM follows WHERE external_userid = ? AND userid = ? AND deleted_by = 'customer'",
          [ext, a.userid],
        )) as unknown[];
        return f ?? null;
      }, WORKER_WAIT_MS);
      s.deleted = { before, after: await figuresFor(app, a.userid), recorded: !!recorded };
    }
    return storyView(app, sandbox);
  });
}
