import { DB_TARGETS } from '../../helpers/db';
import { type SidebarTestApp, startSidebarApp } from './helpers';

describe.each(DB_TARGETS)('sidebar customer card on %s', (target) => {
  let t: SidebarTestApp;
  const cookies: Record<string, string> = {};
  beforeAll(async () => {
    t = await startSidebarApp(target);
    for (const u of ['lilei', 'hanmei', 'lead1', 'lead2', 'op1', 'zhang']) cookies[u] = await t.login(u);
  });
  afterAll(async () => t.close());

  const card = (user: string, ext: string) => t.get(`/api/sidebar/customers/${ext}`, cookies[user]);

  it('shows the card: masked name, segment, owner and branch, grouped corp tags, bank tags, stage, allocation', async () => {
    const res = await card('lilei', 'wmA');
    expect(res.statusCode).toBe(200);
    const { customer } = res.json();
    expect(customer).toMatchObject({
      externalUserId: 'wmA',
      name: '王*明',
      segment: '代发',
      bankCustomerId: 'C001',
      owner: { userid: 'lilei', name: '李雷', branchCode: 'B001', branchName: '朝阳支行' },
      branchName: '朝阳支行',
      bankTags: ['代发工资', '基金定投'],
      stage: 1,
      touchCount: 0,
      touches: [],
      allocation: { reason: 'owner', summaryZh: '管户客户经理 李雷 在岗，直接分配', ruleVersion: 'v1' },
      followedSince: expect.stringMatching(/^2026-11-22T/),
    });
    // lilei's follow carries t1; hanmei's t3 on another follow is not lilei's; deleted t4 is hidden.
    expect(customer.corpTags).toEqual([
      {
        groupId: 'g1',
        groupName: '客户意向',
        tags: [
          { id: 't1', name: '高意向', selected: true },
          { id: 't2', name: '待跟进', selected: false },
        ],
      },
      { groupId: 'g2', groupName: '产品偏好', tags: [{ id: 't3', name: '理财', selected: false }] },
    ]);
  });

  it('never sends the phone hash or the WeChat nickname to the browser', async () => {
    const res = await card('lilei', 'wmA');
    expect(res.body).not.toContain('phonehash');
    expect(res.body).not.toContain('微信昵称');
    expect(res.body).not.toMatch(/phone|mobile/i);
  });

  it('ranks templates for stage and segment, fills variables, keeps disclaimers and marks own templates', async () => {
    const { templates } = (await card('lilei', 'wmA')).json();
    const titles = templates.map((x: { title: string }) => x.title);
    // exact stage + segment match first; own template boosted; neighbour stage (2) after; others excluded
    expect(titles).toEqual(['代发首次问候', '李雷的私房话术', '通用问候', '基金定投介绍']);
    expect(titles).not.toContain('高潜专属'); // other segment
    expect(titles).not.toContain('韩梅的话术'); // someone else's own template
    for (const hidden of ['草稿话术', '过期话术', '欢迎语', '第四次回访']) expect(titles).not.toContain(hidden);
    const first = templates[0];
    expect(first).toMatchObject({
      content: '王先生您好，我是朝阳支行的客户经理李雷。',
      stage: 1,
      segments: ['代发'],
      owner: 'corp',
      disclaimer: null,
    });
    expect(templates[1]).toMatchObject({ owner: 'mine', content: '我是李雷，有事随时找我' });
    expect(templates[3]).toMatchObject({
      product: '基金定投',
      disclaimer: '基金有风险，投资需谨慎。',
      content: '王先生，了解一下定投吗？',
    });
    const scores = templates.map((x: { score: number }) => x.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  describe('authorization', () => {
    it.each([
      ['a manager, for a customer they follow and own', 'lilei', 'wmA'],
      ['a manager, for a customer they own but do not follow', 'lilei', 'wmE'],
      ['a manager, for a customer they follow but do not own', 'hanmei', 'wmE'],
      ['a branch lead, for a customer owned in their branch', 'lead1', 'wmA'],
      ['a branch lead, for a customer followed (not owned) in their branch', 'lead1', 'wmD'],
      ['a branch lead of another branch, for a customer owned there', 'lead2', 'wmB'],
    ])('allows %s', async (_label, user, ext) => {
      expect((await card(user, ext)).statusCode).toBe(200);
    });

    it.each([
      ['a manager, for another manager’s customer', 'lilei', 'wmB', 'forbidden_customer'],
      ['a manager whose follow was deleted', 'hanmei', 'wmB', 'forbidden_customer'],
      ['a manager, for a customer of a colleague in the same branch', 'lilei', 'wmD', 'forbidden_customer'],
      ['a branch lead, for a customer of another branch', 'lead1', 'wmB', 'forbidden_customer'],
      ['a branch lead, for a customer of another branch (other way)', 'lead2', 'wmA', 'forbidden_customer'],
      ['an operator', 'op1', 'wmA', 'forbidden_role'],
    ])('refuses %s with 403', async (_label, user, ext, code) => {
      const res = await card(user, ext);
      expect(res.statusCode).toBe(403);
      const body = res.json();
      if (code === 'forbidden_role') {
        expect(body).toEqual({ error: { code, message: expect.any(String) } });
        return;
      }
      // Who serves the customer, by name only: nothing else about the customer, never a userid.
      expect(body).toEqual({
        error: { code, message: expect.any(String), details: { servedBy: expect.any(Array) } },
      });
      expect(body.error.details.servedBy.length).toBeGreaterThan(0);
      for (const name of body.error.details.servedBy) expect(name).not.toMatch(/^[\x21-\x7e]+$/);
    });

    it('answers 401 without a session', async () => {
      const res = await t.get('/api/sidebar/customers/wmA');
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthenticated');
    });
  });

  it('404 customer_not_found for an unknown contact and for a followed contact with no bank customer', async () => {
    for (const ext of ['wmUNKNOWN', 'wmC']) {
      const res = await card('lilei', ext);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('customer_not_found');
    }
  });

  it('rejects a malformed external user id with 400', async () => {
    const res = await card('lilei', 'wm%20bad%3Bid');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('bad_request');
  });

  it('a branch lead sees the follower’s tags (the follow the tags belong to)', async () => {
    const { customer } = (await card('lead1', 'wmA')).json();
    const selected = customer.corpTags.flatMap((g: { tags: { id: string; selected: boolean }[] }) =>
      g.tags.filter((x) => x.selected).map((x) => x.id),
    );
    expect(selected).toEqual(['t1']);
  });
});
