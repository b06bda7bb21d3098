import type { FastifyInstance } from 'fastify';
import { DEFAULT_RULE_SET } from '../../../server/allocation';
import { build } from '../../../server/app';
import { loadConfig } from '../../../server/config';
import {
  Branch,
  Customer,
  ExternalContact,
  Follow,
  Manager,
  RuleSetRow,
  ScriptTemplate,
} from '../../../server/db/entities';
import { DB_TARGETS, openFreshDb, testConfig } from '../../helpers/db';
import { useApp } from '../../helpers/fixtures';

describe.each(DB_TARGETS)('sandbox contracts (OAuth, JS-SDK mock, page, demo seed) on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let app: FastifyInstance;

  const suite = useApp(target, { env: { DEMO_DATA: 'true' } });
  beforeAll(() => {
    ({ app, fresh } = suite);
  });

  const authorize = (params: Record<string, string>) =>
    app.inject({ url: `/sandbox/oauth/connect/oauth2/authorize?${new URLSearchParams(params)}` });

  it('OAuth: 302 to redirect_uri with code and state; the code resolves once to the current manager', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/sandbox/current-manager',
      payload: { userid: 'hz_zhoutingting' },
    });
    expect(put.statusCode).toBe(200);
    const base = {
      appid: app.config.wecom.corpId,
      redirect_uri: 'http://localhost:3000/sidebar/?x=1',
      response_type: 'code',
      scope: 'snsapi_base',
      state: 'st-123',
      agentid: app.config.wecom.agentId,
    };
    const res = await authorize(base);
    expect(res.statusCode).toBe(302);
    const loc = new URL(String(res.headers.location));
    expect(`${loc.origin}${loc.pathname}`).toBe('http://localhost:3000/sidebar/');
    expect(loc.searchParams.get('x')).toBe('1');
    expect(loc.searchParams.get('state')).toBe('st-123');
    const code = loc.searchParams.get('code') as string;
    expect(await app.wecom.getUserInfo(code)).toEqual({ userid: 'hz_zhoutingting' });
    await expect(app.wecom.getUserInfo(code)).rejects.toMatchObject({ errcode: 40029, kind: 'auth' });

    const explicit = await authorize({ ...base, userid: 'hz_gaoyan' });
    const code2 = new URL(String(explicit.headers.location)).searchParams.get('code') as string;
    expect((await app.wecom.getUserInfo(code2)).userid).toBe('hz_gaoyan');

    expect((await authorize({ ...base, appid: 'wwother' })).statusCode).toBe(400);
    expect((await authorize({ ...base, redirect_uri: 'javascript:alert(1)' })).statusCode).toBe(400);
  });

  it('JS-SDK mock: context get/put, send recorded, sent listed', async () => {
    expect((await app.inject('/sandbox/api/jssdk/context')).json()).toEqual({ entry: 'normal' });
    const ctx = { entry: 'single_chat_tools', externalUserId: 'wmsbxdemo0001AAAAbbbbCCCCdddd' };
    const put = await app.inject({ method: 'PUT', url: '/sandbox/api/jssdk/context', payload: ctx });
    expect(put.json()).toEqual(ctx);
    expect((await app.inject('/sandbox/api/jssdk/context')).json()).toEqual(ctx);
    expect(
      (await app.inject({ method: 'PUT', url: '/sandbox/api/jssdk/context', payload: { entry: 'x' } })).statusCode,
    ).toBe(400);

    const send = await app.inject({
      method: 'POST',
      url: '/sandbox/api/jssdk/send',
      payload: { msgtype: 'text', text: { content: '您好' }, externalUserId: ctx.externalUserId, userid: 'hz_liuyang' },
    });
    expect(send.json()).toEqual({ errMsg: 'sendChatMessage:ok' });
    const sent = (await app.inject('/sandbox/api/jssdk/sent')).json().sent;
    expect(sent).toEqual([
      expect.objectContaining({
        msgtype: 'text',
        text: { content: '您好' },
        externalUserId: ctx.externalUserId,
        userid: 'hz_liuyang',
      }),
    ]);
  });

  it('page and its JSON: /sandbox/ is the Chinese page, /sandbox/data lists the corp', async () => {
    const page = await app.inject('/sandbox/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('企业微信沙箱');
    expect(page.body).toContain('/sidebar/');
    expect(page.body).toContain('/metrics');
    const data = (await app.inject('/sandbox/data')).json();
    expect(data.corpId).toBe(app.config.wecom.corpId);
    expect(data.managers).toHaveLength(20);
    expect(data.contacts.length).toBeGreaterThan(10);
    expect(data.customers).toHaveLength(60);
  });

  it('seeds the demo bank once, consistent with the fake corp', async () => {
    const count = (e: Parameters<typeof fresh.ds.getRepository>[0]) => fresh.ds.getRepository(e).count();
    expect(await count(Branch)).toBe(7);
    expect(await count(Manager)).toBe(20);
    expect(await count(Customer)).toBe(60);
    const segments = new Set((await fresh.ds.getRepository(Customer).find()).map((c) => c.segment));
    expect(segments).toEqual(new Set(['代发', '高潜', '流降']));
    const managers = await fresh.ds.getRepository(Manager).find();
    expect(managers.some((m) => m.role === 'branch_lead')).toBe(true);
    expect(managers.some((m) => m.skills.includes('wealth'))).toBe(true);
    const templates = await fresh.ds.getRepository(ScriptTemplate).find();
    // The demo adds its own welcome next to the built-in one from the migration.
    const demo = templates.filter((t) => t.createdBy === 'sandbox');
    expect(demo.filter((t) => t.channel === 'welcome')).toHaveLength(1);
    expect(templates.filter((t) => t.createdBy === 'system' && t.channel === 'welcome')).toHaveLength(1);
    expect(new Set(demo.filter((t) => t.channel === 'chat').map((t) => t.stage))).toEqual(new Set([1, 2, 3, 4]));
    expect(templates.every((t) => t.status === 'approved')).toBe(true);
    expect(demo.every((t) => (t.expiresAt ?? 0) > Date.now())).toBe(true);
    expect(templates.some((t) => t.disclaimer?.includes('风险提示'))).toBe(true);
    // A couple of templates carry a link card to a (placeholder) page of the bank.
    const links = templates.flatMap((t) => (Array.isArray(t.attachments) ? t.attachments : []));
    expect(links.length).toBeGreaterThan(0);
    for (const a of links)
      expect(a).toMatchObject({ type: 'link', url: expect.stringMatching(/^https:\/\/bank\.example\//) });
    expect(demo.find((t) => t.channel === 'welcome')?.content).toMatch(
      /\{\{客户称呼\}\}.*\{\{网点\}\}.*\{\{客户经理\}\}/,
    );
    const rules = await fresh.ds.getRepository(RuleSetRow).find();
    expect(rules).toEqual([expect.objectContaining({ version: 'default-v1', active: true })]);
    expect(JSON.parse(rules[0].body)).toEqual(JSON.parse(JSON.stringify(DEFAULT_RULE_SET)));

    // Every seeded follow exists in the fake, with the same member.
    const follows = await fresh.ds.getRepository(Follow).find();
    const contacts = await fresh.ds.getRepository(ExternalContact).find();
    expect(contacts.length).toBe(follows.length);
    for (const f of follows) {
      expect(app.sandbox?.fake.followsOf(f.externalUserid).map((x) => x.userid)).toContain(f.userid);
    }

    // A second start on the same DB seeds nothing.
    const again = await build(testConfig(fresh.url, { DEMO_DATA: 'true' }), { db: fresh.ds, worker: false });
    await again.ready();
    await again.close();
    expect(await count(Branch)).toBe(7);
    expect(await count(Customer)).toBe(60);
    expect(await count(ScriptTemplate)).toBe(templates.length);
  });

  it('is never mounted outside sandbox mode', async () => {
    const config = loadConfig({
      DATABASE_URL: fresh.url,
      LOG_LEVEL: 'silent',
      WORKER_ENABLED: 'false',
      JOBS_ENABLED: 'false',
      WECOM_CORP_ID: 'wwrealcorp000001',
      WECOM_CALLBACK_TOKEN: 'tok123',
      WECOM_CALLBACK_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
      WECOM_AGENT_ID: '1000002',
      WECOM_AGENT_SECRET: 'real-agent-secret-123',
      SESSION_SECRET: 'x'.repeat(32),
      ENTRY_SECRET: 'y'.repeat(32),
      PHONE_HASH_SALT: 'z'.repeat(32),
      SECRETS_KEY: 'a'.repeat(64),
      PUBLIC_BASE_URL: 'https://scrm.bank.example',
      DEMO_DATA: 'false',
    });
    expect(config.wecom.sandbox).toBe(false);
    const prod = await build(config, { db: fresh.ds, worker: false });
    try {
      await prod.ready();
      expect(prod.sandbox).toBeUndefined();
      for (const url of [
        '/sandbox/',
        '/sandbox/api/cgi-bin/gettoken?corpid=x&corpsecret=y',
        '/sandbox/api/jssdk/context',
      ]) {
        expect((await prod.inject(url)).statusCode).toBe(404);
      }
      expect(prod.wecom).toBeDefined();
    } finally {
      await prod.close();
    }
  });
});
