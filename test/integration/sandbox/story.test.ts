import { makeContext } from '../../../scripts/commands/context';
import { reportCommand } from '../../../scripts/commands/report';
import { sandboxCommand } from '../../../scripts/commands/sandbox';
import type { OperatingReport } from '../../../server/reports/queries';
import { DEMO_CUSTOMERS } from '../../../server/sandbox/demo-data';
import { DB_TARGETS } from '../../helpers/db';
import { useApp } from '../../helpers/fixtures';

/**
 * The sandbox page's guided story (server/sandbox/story.ts) through its routes, with the callback
 * worker on: the signed entry call, the add callback (welcome + link), the sidebar link, a send,
 * the delete and the report figures it shows, which must be the ops CLI's.
 */
describe.each(DB_TARGETS)('sandbox guided story on %s', (target) => {
  const s = useApp(target, { env: { DEMO_DATA: 'true', WORKER_ENABLED: 'true' }, build: { worker: true } });
  // A demo customer with an owner (管户) and no WeCom contact yet: the allocation names the owner.
  const customer = DEMO_CUSTOMERS.find((c) => c.ownerUserid && !c.externalUserid) as (typeof DEMO_CUSTOMERS)[0];
  const ownerName = () => s.app.sandbox?.fake.users.get(customer.ownerUserid as string)?.name as string;

  const post = (url: string, payload: unknown = {}) =>
    s.app.inject({ method: 'POST', url, payload: payload as object });

  it('refuses later steps before the scan, with a Chinese message', async () => {
    const res = await post('/sandbox/story/add');
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'story_step', message: expect.stringContaining('第 1 步') });
    expect((await post('/sandbox/story/scan', { customerId: 'NOPE' })).statusCode).toBe(400);
  });

  it('runs the story: scan → add (welcome, link) → sidebar → send → delete counted in the report', async () => {
    const start = (await s.app.inject('/sandbox/story')).json();
    expect(start.story).toBeNull();
    expect(start.fresh.map((c: { id: string }) => c.id)).toContain(customer.id);

    // 1. The signed entry call: an entry allocation, its reason with names (never a userid).
    const scan = await post('/sandbox/story/scan', { customerId: customer.id });
    expect(scan.statusCode).toBe(200);
    expect(scan.body).not.toContain(s.config.entrySecret);
    const a = scan.json().story.allocation;
    expect(a).toMatchObject({
      userid: customer.ownerUserid,
      managerName: ownerName(),
      reason: 'owner',
      reasonZh: '管户经理',
    });
    expect(a.summary).toContain(ownerName());
    expect(a.summary).not.toMatch(/hz_/);
    expect(a.configId).toBeTruthy();
    const [row] = await s.app.db.query('SELECT source, customer_id, state FROM allocations WHERE id = ?', [a.id]);
    expect(row).toMatchObject({ source: 'entry', customer_id: customer.id, state: a.state });
    expect(s.app.sandbox?.state.currentManager).toBe(customer.ownerUserid);
    expect(scan.json().fresh.map((c: { id: string }) => c.id)).not.toContain(customer.id);

    // 2. The add callback with the allocation's state: welcome in the chat, contact linked.
    const add = (await post('/sandbox/story/add')).json();
    const ext = add.story.externalUserId as string;
    expect(add.story.linkedCustomerId).toBe(customer.id);
    expect(add.story.welcomeMissing).toBe(false);
    expect(add.chat).toEqual([
      expect.objectContaining({ kind: 'welcome', text: expect.stringContaining(ownerName()) }),
    ]);
    expect(s.app.sandbox?.state.context).toEqual({ entry: 'single_chat_tools', externalUserId: ext });

    // 3. The sidebar link: that manager, that chat, and the old sidebar session dropped.
    const open = await s.app.inject('/sandbox/story/open-sidebar');
    expect(open.statusCode).toBe(302);
    expect(open.headers.location).toBe('/sidebar/');
    expect(String(open.headers['set-cookie'])).toMatch(/^sb_session=;.*Path=\/api\/sidebar.*Max-Age=0/);
    expect((await s.app.inject('/sandbox/story')).json().story.sidebarOpened).toBe(true);

    // 4. What the sidebar sends through the JS-SDK mock appears in the story's chat.
    await post('/sandbox/api/jssdk/send', { msgtype: 'text', text: { content: '您好，测试话术' } });
    const chat = (await s.app.inject('/sandbox/story')).json().chat;
    expect(chat.map((m: { kind: string }) => m.kind)).toEqual(['welcome', 'sent']);
    expect(chat[1].text).toBe('您好，测试话术');

    // 5. The delete: churn +1 for that manager, the same figure the ops CLI reports.
    const del = (await post('/sandbox/story/delete')).json();
    const d = del.story.deleted;
    expect(d.recorded).toBe(true);
    expect(d.after.churned).toBe(d.before.churned + 1);
    expect(d.after.adds).toBeGreaterThanOrEqual(1);
    expect(del.reportCommand).toBe('npm run ops -- report --by manager');
    const cli = await reportCommand(
      { by: 'manager' },
      makeContext({ db: s.app.db, config: s.config, now: () => s.app.now() }),
    );
    const mine = (cli.json as OperatingReport).rows.find((r) => r.key === customer.ownerUserid);
    expect(mine).toMatchObject({ churned: d.after.churned, adds: d.after.adds });
    // Deleting twice changes nothing.
    expect((await post('/sandbox/story/delete')).json().story.deleted).toEqual(d);

    const reset = (await post('/sandbox/story/reset')).json();
    expect(reset.story).toBeNull();
  });

  it('the free add-contact links a demo customer by the phone the manager noted', async () => {
    const c = DEMO_CUSTOMERS.find(
      (x) => !x.externalUserid && x.id !== customer.id && !x.ownerUserid,
    ) as (typeof DEMO_CUSTOMERS)[0];
    const res = await post('/sandbox/simulate/add-contact', {
      userid: 'hz_wangqiang',
      name: c.maskedName,
      phone: c.phone,
    });
    expect(res.statusCode).toBe(200);
    const ext = res.json().externalUserId;
    let linked: string | null = null;
    for (let i = 0; i < 100 && !linked; i++) {
      const [r] = await s.app.db.query('SELECT customer_id FROM external_contacts WHERE external_userid = ?', [ext]);
      linked = r?.customer_id ?? null;
      if (!linked) await new Promise((r) => setTimeout(r, 100));
    }
    expect(linked).toBe(c.id);
    // No longer new: the story does not offer them for a scan.
    const fresh = (await s.app.inject('/sandbox/story')).json().fresh.map((x: { id: string }) => x.id);
    expect(fresh).not.toContain(c.id);
    expect(fresh.length).toBeGreaterThan(0);
    const data = (await s.app.inject('/sandbox/data')).json();
    expect(data.contacts.find((x: { externalUserId: string }) => x.externalUserId === ext).customerId).toBe(c.id);
    expect(data.customers.find((x: { id: string }) => x.id === c.id).contacts).toEqual([
      { externalUserId: ext, userids: ['hz_wangqiang'] },
    ]);
    expect((await post('/sandbox/simulate/add-contact', { userid: 'hz_wangqiang', phone: 'x1' })).statusCode).toBe(400);
  });

  it('ops sandbox add-contact --phone links the demo customer too', async () => {
    const fresh = (await s.app.inject('/sandbox/story')).json().fresh as { id: string }[];
    const c = DEMO_CUSTOMERS.find((x) => x.id === fresh[fresh.length - 1].id) as (typeof DEMO_CUSTOMERS)[0];
    const ctx = makeContext({ db: s.app.db, config: s.config, now: () => s.app.now() });
    const added = await sandboxCommand(
      { action: 'add-contact', target: s.app, userid: 'hz_liuyang', phone: c.phone },
      ctx,
    );
    const ext = (added.json as { externalUserId: string }).externalUserId;
    let linked: string | null = null;
    for (let i = 0; i < 100 && !linked; i++) {
      const [r] = await s.app.db.query('SELECT customer_id FROM external_contacts WHERE external_userid = ?', [ext]);
      linked = r?.customer_id ?? null;
      if (!linked) await new Promise((r) => setTimeout(r, 100));
    }
    expect(linked).toBe(c.id);
  });

  it('switching the logged-in manager drops the sidebar session', async () => {
    const res = await s.app.inject({
      method: 'PUT',
      url: '/sandbox/current-manager',
      payload: { userid: 'hz_liuyang' },
    });
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['set-cookie'])).toMatch(/^sb_session=;/);
  });
});
