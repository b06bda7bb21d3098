import { ContactTag, CorpTag, Customer, CustomerHolding, Follow, Touch } from '../../../server/db/entities';
import { DB_TARGETS } from '../../helpers/db';
import { type SidebarTestApp, startSidebarApp, T0 } from './helpers';

/** The 360° card's bank profile, maturing products and the 跟进记录 (follow-up notes) timeline. */
describe.each(DB_TARGETS)('sidebar workbench card and notes on %s', (target) => {
  let t: SidebarTestApp;
  const cookies: Record<string, string> = {};
  beforeAll(async () => {
    t = await startSidebarApp(target);
    for (const u of ['lilei', 'hanmei', 'lead1', 'lead2', 'op1', 'zhang']) cookies[u] = await t.login(u);
    // T0 is 2026-11-23 10:00 in China.
    await t.db.getRepository(Customer).update(
      { id: 'C001' },
      {
        assetTier: '金卡',
        riskRating: 'C3',
        riskRatedOn: '2025-11-01',
        birthdayMd: '11-23',
        preferredBranch: 'B002',
      },
    );
    await t.db
      .getRepository(Customer)
      .update({ id: 'C003' }, { riskRating: 'C2', riskRatedOn: '2026-05-01', birthdayMd: '01-05' });
    const h = (customerId: string, product: string, maturesOn: string | null) => ({
      id: `${customerId}|${product}|2026-01-01`,
      customerId,
      product,
      productType: '理财',
      amountBand: '20-50万',
      openedOn: '2026-01-01',
      maturesOn,
      createdAt: T0,
      updatedAt: T0,
    });
    await t.db
      .getRepository(CustomerHolding)
      .insert([
        h('C001', '稳盈90天', '2026-11-30'),
        h('C001', '稳盈一年', '2027-03-01'),
        h('C001', '已到期', '2026-11-22'),
        h('C001', '活期宝', null),
        h('C001', '月末到期', '2026-12-23'),
      ]);
  });
  afterAll(async () => t.close());

  const card = (user: string, ext: string) => t.get(`/api/sidebar/customers/${ext}`, cookies[user]);
  const note = (user: string, ext: string, body: unknown) =>
    t.post(`/api/sidebar/customers/${ext}/notes`, body, cookies[user]);

  it('shows asset tier, risk rating (expired after a year), birthday, preferred branch and maturities within 30 days', async () => {
    const { customer } = (await card('lilei', 'wmA')).json();
    expect(customer.profile).toEqual({
      assetTier: '金卡',
      riskRating: 'C3',
      riskRatingZh: '平衡型',
      riskRatedOn: '2025-11-01',
      riskExpired: true,
      birthday: '11-23',
      birthdayToday: true,
      preferredBranch: '海淀支行',
    });
    expect(customer.maturing).toEqual([
      { product: '稳盈90天', productType: '理财', amountBand: '20-50万', maturesOn: '2026-11-30', daysLeft: 7 },
      { product: '月末到期', productType: '理财', amountBand: '20-50万', maturesOn: '2026-12-23', daysLeft: 30 },
    ]);
    expect(customer.servingManager).toEqual({ userid: 'lilei', name: '李雷' });
    expect(customer.owner.name).toBe('李雷');
    const fresh = (await card('hanmei', 'wmD')).json().customer;
    expect(fresh.profile).toMatchObject({
      riskRating: 'C2',
      riskExpired: false,
      birthdayToday: false,
      assetTier: null,
    });
    expect(fresh.maturing).toEqual([]);
  });

  it('records a note with a next follow-up; the card shows it newest first with the manager by name', async () => {
    const res = await note('lilei', 'wmA', { kind: 'visit', text: '到网点面谈，关注定投', nextFollowUp: '2026-11-25' });
    expect(res.statusCode).toBe(200);
    expect(res.json().note).toMatchObject({
      kind: 'note',
      managerName: '李雷',
      label: '拜访',
      text: '到网点面谈，关注定投',
      nextFollowUp: '2026-11-25',
    });
    t.clock.now += 60_000;
    expect((await note('lilei', 'wmA', { kind: 'call', text: '电话确认时间' })).statusCode).toBe(200);
    const { customer } = (await card('lilei', 'wmA')).json();
    expect(customer.timeline.map((i: { label: string; text: string }) => [i.label, i.text])).toEqual([
      ['电话', '电话确认时间'],
      ['拜访', '到网点面谈，关注定投'],
    ]);
    // The newest note has no date: it replaces the earlier follow-up date.
    expect(customer.nextFollowUp).toBeNull();
    expect(customer.lastContactAt).toBe(new Date(t.clock.now).toISOString());
    const audit = await t.db.query(`SELECT detail FROM audit_log WHERE action = 'sidebar.note'`);
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain('面谈');
  });

  it('refuses bad notes with a specific code and writes nothing', async () => {
    const before = await t.db.query('SELECT COUNT(*) AS n FROM follow_notes');
    const cases: [unknown, number, string][] = [
      [{ kind: 'visit', text: '   ' }, 400, 'empty_note'],
      [{ kind: 'visit', text: 'x', nextFollowUp: '2026-02-30' }, 400, 'bad_date'],
      [{ kind: 'visit', text: 'x', nextFollowUp: '2026-11-22' }, 400, 'bad_date'],
      [{ kind: 'meeting', text: 'x' }, 400, 'bad_request'],
    ];
    for (const [body, status, code] of cases) {
      const res = await note('lilei', 'wmA', body);
      expect([res.statusCode, res.json().error.code]).toEqual([status, code]);
    }
    expect((await note('zhang', 'wmA', { kind: 'visit', text: 'x' })).statusCode).toBe(403);
    expect((await note('op1', 'wmA', { kind: 'visit', text: 'x' })).statusCode).toBe(403);
    expect((await note('lilei', 'nobody', { kind: 'visit', text: 'x' })).statusCode).toBe(404);
    expect(await t.db.query('SELECT COUNT(*) AS n FROM follow_notes')).toEqual(before);
  });

  it('lets the branch lead write and read notes of the branch, not of another branch', async () => {
    expect((await note('lead1', 'wmD', { kind: 'other', text: '组长备注' })).statusCode).toBe(200);
    expect((await t.get('/api/sidebar/customers/wmD/timeline', cookies.lead2)).statusCode).toBe(403);
  });

  it('after a transfer, the next manager sees the notes of the previous one', async () => {
    expect(
      (await note('hanmei', 'wmD', { kind: 'chat', text: '客户想了解大额存单', nextFollowUp: '2026-11-24' }))
        .statusCode,
    ).toBe(200);
    // WeCom moved wmD from hanmei to lilei (在职继承): hanmei's follow ends by transfer, lilei's begins.
    t.clock.now += 60_000;
    await t.db
      .getRepository(Follow)
      .update({ externalUserid: 'wmD', userid: 'hanmei' }, { deletedAt: t.clock.now, deletedBy: 'transfer' });
    await t.db.getRepository(Follow).insert({
      externalUserid: 'wmD',
      userid: 'lilei',
      state: null,
      remark: null,
      addedAt: t.clock.now,
      deletedAt: null,
      deletedBy: null,
      half: false,
    });
    const { customer } = (await card('lilei', 'wmD')).json();
    expect(customer.servingManager).toEqual({ userid: 'lilei', name: '李雷' });
    expect(customer.nextFollowUp).toBe('2026-11-24');
    expect(customer.timeline.map((i: { managerName: string; text: string }) => [i.managerName, i.text])).toEqual([
      ['韩梅', '客户想了解大额存单'],
      ['王组长', '组长备注'],
    ]);
    const tl = (await t.get('/api/sidebar/customers/wmD/timeline', cookies.lilei)).json();
    expect(tl.timeline).toHaveLength(2);
    expect(tl.nextFollowUp).toBe('2026-11-24');
    // The previous manager no longer serves the customer.
    expect((await card('hanmei', 'wmD')).statusCode).toBe(403);
  });

  it('tag groups and tags follow WeCom order (larger first); the segment badge follows the segment tag', async () => {
    const seg = (id: string, name: string, sortOrder: number) => ({
      id,
      groupId: 'gseg',
      groupName: '客户分层',
      name,
      sortOrder,
      groupOrder: 9,
      deleted: false,
      updatedAt: T0,
    });
    await t.db
      .getRepository(CorpTag)
      .insert([seg('s1', '代发客户', 3), seg('s2', '高潜客户', 2), seg('s3', '流失预警', 1)]);
    await t.db.getRepository(ContactTag).insert({ externalUserid: 'wmB', userid: 'zhang', tagId: 's2', createdAt: T0 });
    const createTime = Math.floor(T0 / 1000);
    t.far.fake.load({
      tagGroups: [
        {
          group_id: 'gseg',
          group_name: '客户分层',
          create_time: createTime,
          order: 9,
          tag: [
            { id: 's1', name: '代发客户', create_time: createTime, order: 3 },
            { id: 's2', name: '高潜客户', create_time: createTime, order: 2 },
            { id: 's3', name: '流失预警', create_time: createTime, order: 1 },
          ],
        },
      ],
    });
    t.far.fake.follows.get('wmB|zhang')?.tag_ids.push('s2');
    t.clock.now += 61_000; // past the tag library cache
    cookies.zhang = await t.login('zhang');
    const { customer } = (await card('zhang', 'wmB')).json();
    expect(customer.corpTags.map((g: { groupName: string }) => g.groupName)).toEqual([
      '客户分层',
      '客户意向',
      '产品偏好',
    ]);
    expect(customer.corpTags[0].tags.map((x: { name: string }) => x.name)).toEqual([
      '代发客户',
      '高潜客户',
      '流失预警',
    ]);
    expect(customer.segment).toBe('高潜');
    expect(customer.segmentBadge).toBe('高潜');
    // Removing 高潜客户 removes the badge at once, in the reply and on the next card.
    const removed = await t.post('/api/sidebar/customers/wmB/tags', { add: [], remove: ['s2'] }, cookies.zhang);
    expect(removed.statusCode).toBe(200);
    expect(removed.json().segmentBadge).toBeNull();
    expect((await card('zhang', 'wmB')).json().customer.segmentBadge).toBeNull();
    const added = await t.post('/api/sidebar/customers/wmB/tags', { add: ['s2'], remove: [] }, cookies.zhang);
    expect(added.json().segmentBadge).toBe('高潜');
  });

  it('a touch in the timeline carries its script (for 存为我的); a confirmed copy reads as sent', async () => {
    cookies.lilei = await t.login('lilei');
    const [tpl] = await t.db.query(`SELECT id FROM script_templates WHERE title = '通用问候'`);
    const templateId = Number(tpl.id);
    const touch = async (channel: 'send' | 'copy') => {
      t.clock.now += 1_000;
      const res = await t.post('/api/sidebar/touches', { externalUserId: 'wmA', templateId, channel }, cookies.lilei);
      expect(res.statusCode).toBe(200);
      return Number(res.json().touch.id);
    };
    const sent = await touch('send');
    const copied = await touch('copy');
    // A stage set by hand is a touch without a script.
    t.clock.now += 1_000;
    await t.db.getRepository(Touch).insert({
      externalUserid: 'wmA',
      userid: 'lilei',
      templateId: null,
      templateVersion: null,
      stage: 3,
      channel: 'manual',
      sentAt: t.clock.now,
      sentDay: null,
      confirmedAt: null,
    });
    type Item = { kind: string; id: number; templateId: number | null; label: string; text: string };
    const touches = async () =>
      ((await t.get('/api/sidebar/customers/wmA/timeline', cookies.lilei)).json().timeline as Item[])
        .filter((i) => i.kind === 'touch')
        .map((i) => [i.label, i.templateId, i.text]);
    expect(await touches()).toEqual([
      ['调整触达阶段', null, ''],
      ['复制话术', templateId, '通用问候'],
      ['发送话术', templateId, '通用问候'],
    ]);
    expect((await t.post(`/api/sidebar/touches/${copied}/confirm`, {}, cookies.lilei)).statusCode).toBe(200);
    expect(await touches()).toEqual([
      ['调整触达阶段', null, ''],
      ['发送话术', templateId, '通用问候'],
      ['发送话术', templateId, '通用问候'],
    ]);
    // The card's timeline is the same, and notes carry no script.
    const { customer } = (await card('lilei', 'wmA')).json();
    expect(customer.timeline.find((i: Item) => i.kind === 'touch' && i.id === sent).templateId).toBe(templateId);
    expect(customer.timeline.filter((i: Item) => i.kind === 'note').every((i: Item) => i.templateId === null)).toBe(
      true,
    );
    expect(customer.timeline.some((i: Item) => i.kind === 'note')).toBe(true);
  });
});
