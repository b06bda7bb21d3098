import type { LightMyRequestResponse } from 'fastify';
import { pickWelcomeTemplate } from '../../../server/contacts/welcome';
import { DB_TARGETS } from '../../helpers/db';
import { type SidebarTestApp, startSidebarApp, T0 } from '../sidebar/helpers';

const DAY = 86_400_000;
const WEALTH = '【风险提示】理财非存款，产品有风险，投资须谨慎。';

describe.each(DB_TARGETS)('script library workflow on %s', (target) => {
  let t: SidebarTestApp;
  const c: Record<string, string> = {};
  const send = (method: 'PUT' | 'DELETE' | 'POST', url: string, cookie: string, payload?: unknown) =>
    t.app.inject({
      method,
      url,
      headers: { cookie },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const ok = (res: LightMyRequestResponse) => {
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`);
    return res.json();
  };
  const titles = async (cookie: string, q = '') =>
    ok(
      await t.get(`/api/sidebar/templates?externalUserId=${cookie === c.hanmei ? 'wmD' : 'wmA'}${q}`, cookie),
    ).templates.map((x: { title: string }) => x.title) as string[];
  const createLibrary = async (template: object, submit = true) =>
    ok(await t.post('/api/sidebar/library/templates', { template, submit }, c.op1)).template;
  const approve = async (ids: number[], expires = '2027-06-30') =>
    ok(await t.post('/api/sidebar/library/templates/approve', { ids, expires }, c.op1)).templates;

  /** Sessions last 30 minutes: after moving the clock by days, sign in again. */
  const relogin = async () => {
    for (const u of ['lilei', 'hanmei', 'op1']) c[u] = await t.login(u);
  };
  beforeAll(async () => {
    t = await startSidebarApp(target);
    await relogin();
  });
  afterAll(async () => t.close());

  it('draft → review → approved, and only then in the sidebar and in welcomes', async () => {
    const draft = await createLibrary(
      { title: '代发新客问候', body: '{{客户称呼}}好，我是{{网点}}的{{客户经理}}。', stage: 1, segments: ['代发'] },
      false,
    );
    expect(draft).toMatchObject({ status: 'draft', version: 1, lineageId: draft.id, author: 'op1', owner: null });
    expect(await titles(c.lilei)).not.toContain('代发新客问候');
    const submitted = ok(await t.post(`/api/sidebar/library/templates/${draft.id}/submit`, {}, c.op1)).template;
    expect(submitted.status).toBe('review');
    expect(await titles(c.lilei)).not.toContain('代发新客问候');
    const [approved] = await approve([draft.id]);
    expect(approved).toMatchObject({ status: 'approved', reviewer: 'op1' });
    expect(approved.expiresAt).toBe('2027-06-30T16:00:00.000Z'); // valid through 2027-06-30 in UTC+8
    expect(await titles(c.lilei)).toContain('代发新客问候');

    const welcome = await createLibrary({
      title: '代发欢迎',
      body: '{{客户称呼}}好，欢迎！',
      channel: 'welcome',
      segments: ['代发'],
    });
    expect((await pickWelcomeTemplate(t.db, 'lilei', '代发', t.clock.now))?.id).not.toBe(welcome.id);
    await approve([welcome.id]);
    expect((await pickWelcomeTemplate(t.db, 'lilei', '代发', t.clock.now))?.id).toBe(welcome.id);
    // A welcome script is never a chat suggestion.
    expect(await titles(c.lilei)).not.toContain('代发欢迎');

    const audit: { action: string }[] = await t.db.query(`SELECT action FROM audit_log WHERE subject = ? ORDER BY id`, [
      `template:${draft.id}`,
    ]);
    expect(audit.map((a) => a.action)).toEqual(['template.create', 'template.submit', 'template.approve']);
  });

  it('rejects with a reason; approval needs a future expiry and a script in review', async () => {
    const t1 = await createLibrary({ title: '待驳回', body: '内容' });
    const rejected = ok(await t.post(`/api/sidebar/library/templates/${t1.id}/reject`, { reason: '措辞不当' }, c.op1));
    expect(rejected.template).toMatchObject({ status: 'rejected', reviewComment: '措辞不当' });
    const again = await t.post(
      '/api/sidebar/library/templates/approve',
      { ids: [t1.id], expires: '2027-01-01' },
      c.op1,
    );
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'template_not_in_review']);
    const t2 = await createLibrary({ title: '过去的日期', body: '内容' });
    const past = await t.post('/api/sidebar/library/templates/approve', { ids: [t2.id], expires: '2020-01-01' }, c.op1);
    expect(past.statusCode).toBe(400);
    // Managers are not reviewers.
    const byManager = await t.post(
      '/api/sidebar/library/templates/approve',
      { ids: [t2.id], expires: '2027-01-01' },
      c.lilei,
    );
    expect([byManager.statusCode, byManager.json().error.code]).toEqual([403, 'forbidden_role']);
  });

  it('editing an approved script makes a new version; the old one serves until that is approved', async () => {
    const v1 = await createLibrary({ title: '版本话术', body: '第一版{{客户称呼}}好', stage: 1 });
    await approve([v1.id]);
    const v2 = ok(
      await send('PUT', `/api/sidebar/library/templates/${v1.id}`, c.op1, {
        title: '版本话术',
        body: '第二版',
        stage: 1,
      }),
    ).template;
    expect(v2).toMatchObject({ status: 'review', version: 2, lineageId: v1.id });
    expect(v2.id).not.toBe(v1.id);
    let list = ok(await t.get('/api/sidebar/templates?externalUserId=wmA', c.lilei)).templates;
    expect(list.find((x: { title: string }) => x.title === '版本话术')).toMatchObject({ id: v1.id, version: 1 });
    await approve([v2.id]);
    list = ok(await t.get('/api/sidebar/templates?externalUserId=wmA', c.lilei)).templates;
    expect(list.find((x: { title: string }) => x.title === '版本话术')).toMatchObject({ id: v2.id, version: 2 });
    const versions = ok(await t.get(`/api/sidebar/library/templates/${v2.id}/versions`, c.op1)).templates;
    expect(versions.map((v: { status: string; supersededBy: number | null }) => [v.status, v.supersededBy])).toEqual([
      ['retired', v2.id],
      ['approved', null],
    ]);
    // A send of the superseded version (card loaded before) is refused.
    const stale = await t.post(
      '/api/sidebar/touches',
      { externalUserId: 'wmA', templateId: v1.id, channel: 'send' },
      c.lilei,
    );
    expect([stale.statusCode, stale.json().error.code]).toEqual([409, 'template_retired']);
  });

  it('an expired script disappears and its send is refused; a retired one too', async () => {
    const s = await createLibrary({ title: '限时话术', body: '{{客户称呼}}好，限时活动', stage: 1 });
    await approve([s.id], '2026-11-30');
    expect(await titles(c.lilei)).toContain('限时话术');
    const before = t.clock.now;
    t.clock.now = Date.UTC(2026, 10, 30, 16, 0, 0); // 2026-12-01 00:00 in UTC+8
    await relogin();
    try {
      expect(await titles(c.lilei)).not.toContain('限时话术');
      const res = await t.post(
        '/api/sidebar/touches',
        { externalUserId: 'wmA', templateId: s.id, channel: 'send' },
        c.lilei,
      );
      expect([res.statusCode, res.json().error.code]).toEqual([409, 'template_expired']);
      const prep = await t.post(`/api/sidebar/templates/${s.id}/prepare`, { externalUserId: 'wmA' }, c.lilei);
      expect(prep.json().error.code).toBe('template_expired');
      const expiring = ok(await t.get('/api/sidebar/library/templates?status=approved', c.op1)).templates;
      expect(expiring.some((x: { id: number }) => x.id === s.id)).toBe(true);
    } finally {
      t.clock.now = before;
      await relogin();
    }
    const r = await createLibrary({ title: '将退役', body: '内容', stage: 1 });
    await approve([r.id]);
    ok(await t.post(`/api/sidebar/library/templates/${r.id}/retire`, {}, c.op1));
    const res = await t.post(
      '/api/sidebar/touches',
      { externalUserId: 'wmA', templateId: r.id, channel: 'copy' },
      c.lilei,
    );
    expect([res.statusCode, res.json().error.code]).toEqual([409, 'template_retired']);
  });

  it('a personal script with a forbidden word is refused with the finding; a clean one waits for review', async () => {
    const bad = await t.post(
      '/api/sidebar/my-templates',
      { title: '我的理财话术', body: '这款产品稳 赚不赔，{{客户称呼}}放心', riskClass: 'wealth', disclaimer: WEALTH },
      c.lilei,
    );
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBe('template_noncompliant');
    expect(bad.json().error.details.findings).toEqual([
      expect.objectContaining({
        code: 'sensitive_word',
        field: 'body',
        word: '稳赚不赔',
        start: 4,
        end: 9,
        matched: '稳 赚不赔',
      }),
    ]);
    const noDisclaimer = await t.post(
      '/api/sidebar/my-templates',
      { title: '理财', body: '了解一下', riskClass: 'wealth' },
      c.lilei,
    );
    expect(noDisclaimer.json().error.details.findings[0].code).toBe('missing_disclaimer');
    const check = ok(await t.post('/api/sidebar/templates/check', { title: 'x', body: '零风险' }, c.lilei));
    expect(check.findings[0]).toMatchObject({ word: '零风险', start: 0, end: 3 });
    expect(await t.db.query(`SELECT id FROM script_templates WHERE title = '我的理财话术'`)).toEqual([]);

    const mine = ok(
      await t.post(
        '/api/sidebar/my-templates',
        { title: '李雷的新话术', body: '{{客户称呼}}好，有空聊聊', stage: 2 },
        c.lilei,
      ),
    ).template;
    expect(mine).toMatchObject({ status: 'review', owner: 'lilei', channel: 'chat' });
    expect(await titles(c.lilei)).not.toContain('李雷的新话术');
    const own = ok(await t.get('/api/sidebar/my-templates', c.lilei)).templates;
    expect(own.find((x: { id: number }) => x.id === mine.id)?.status).toBe('review');
    expect(
      ok(await t.get('/api/sidebar/my-templates', c.hanmei)).templates.some((x: { id: number }) => x.id === mine.id),
    ).toBe(false);
    await approve([mine.id]);
    expect(await titles(c.lilei)).toContain('李雷的新话术');
    expect(await titles(c.hanmei)).not.toContain('李雷的新话术');
    // Only the owner deletes it (retired, kept).
    expect((await send('DELETE', `/api/sidebar/my-templates/${mine.id}`, c.hanmei)).statusCode).toBe(404);
    expect(ok(await send('DELETE', `/api/sidebar/my-templates/${mine.id}`, c.lilei)).template.status).toBe('retired');
    expect(await titles(c.lilei)).not.toContain('李雷的新话术');
  });

  it('a disclaimer script sends its disclaimer: the list, prepare and the text are the same', async () => {
    const w = await createLibrary({
      title: '稳健理财推荐',
      body: '{{客户称呼}}，{{产品}}期限灵活。',
      product: '稳健理财',
      riskClass: 'wealth',
      disclaimer: WEALTH,
      stage: 1,
    });
    await approve([w.id]);
    const item = ok(await t.get('/api/sidebar/templates?externalUserId=wmA', c.lilei)).templates.find(
      (x: { id: number }) => x.id === w.id,
    );
    expect(item.text).toBe(`王先生，稳健理财期限灵活。\n\n${WEALTH}`);
    const prep = ok(await t.post(`/api/sidebar/templates/${w.id}/prepare`, { externalUserId: 'wmA' }, c.lilei));
    expect(prep).toMatchObject({ templateId: w.id, version: 1, text: item.text, disclaimer: WEALTH });
  });

  it('search covers product, category and attachment titles; filters by category and stage', async () => {
    const s = await createLibrary({
      title: '资产配置建议',
      body: '{{客户称呼}}，给您一份配置建议',
      category: '产品推荐',
      stage: 3,
      attachments: [{ type: 'link', title: '理财产品一览', url: 'https://bank.example/w' }],
    });
    await approve([s.id]);
    expect(await titles(c.lilei, `&q=${encodeURIComponent('理财产品一览')}`)).toContain('资产配置建议');
    expect(await titles(c.lilei, `&q=${encodeURIComponent('产品推荐')}`)).toContain('资产配置建议');
    expect(await titles(c.lilei, `&category=${encodeURIComponent('产品推荐')}`)).toEqual(['资产配置建议']);
    const stage3 = await titles(c.lilei, '&onlyStage=3');
    expect(stage3).toContain('资产配置建议');
    expect(stage3).not.toContain('通用问候');
  });

  it('search 理财 for a customer finds the segment’s 理财 script by category or product; the category filter lists it', async () => {
    const s = await createLibrary({
      title: '到期资金安排',
      body: '{{客户称呼}}，您的定期快到期了，可以看看{{产品}}。',
      category: '理财',
      product: '稳健理财',
      riskClass: 'wealth',
      disclaimer: WEALTH,
      segments: ['代发'],
      stage: 2,
    });
    await approve([s.id]);
    // on screen for the 代发 customer (no query), and found by 理财 although the title does not say it
    expect(await titles(c.lilei)).toContain('到期资金安排');
    expect(await titles(c.lilei, `&q=${encodeURIComponent('理财')}`)).toContain('到期资金安排');
    expect(await titles(c.lilei, `&q=${encodeURIComponent('稳健')}`)).toContain('到期资金安排');
    const cats = ok(await t.get('/api/sidebar/templates/categories', c.lilei)).categories as string[];
    expect(cats).toEqual(expect.arrayContaining(['理财', '产品推荐']));
    expect(new Set(cats).size).toBe(cats.length);
  });

  it('存为我的话术 reads a usable script’s own wording (variables unfilled); not one in review or another’s', async () => {
    const [w] = await t.db.query(`SELECT id FROM script_templates WHERE title = '到期资金安排'`);
    const src = ok(await t.get(`/api/sidebar/templates/${w.id}/source`, c.lilei)).source;
    expect(src).toEqual({
      title: '到期资金安排',
      body: '{{客户称呼}}，您的定期快到期了，可以看看{{产品}}。',
      category: '理财',
      stage: 2,
      segments: ['代发'],
      product: '稳健理财',
      riskClass: 'wealth',
      disclaimer: WEALTH,
      attachments: [],
    });
    const pending = await createLibrary({ title: '待审话术', body: '您好' });
    expect((await t.get(`/api/sidebar/templates/${pending.id}/source`, c.lilei)).json().error.code).toBe(
      'template_not_found',
    );
    const mine = ok(await t.post('/api/sidebar/my-templates', { title: '韩梅梅的话术', body: '您好呀' }, c.hanmei));
    await approve([mine.template.id]);
    expect((await t.get(`/api/sidebar/templates/${mine.template.id}/source`, c.lilei)).statusCode).toBe(404);
    expect(ok(await t.get(`/api/sidebar/templates/${mine.template.id}/source`, c.hanmei)).source.title).toBe(
      '韩梅梅的话术',
    );
  });

  it('copies do not advance the stage; 已发送 and setting the stage by hand do', async () => {
    const [tpl] = await t.db.query(`SELECT id FROM script_templates WHERE title = '通用问候'`);
    const touch = (channel: string) =>
      t.post('/api/sidebar/touches', { externalUserId: 'wmD', templateId: Number(tpl.id), channel }, c.hanmei);
    const stageOf = async () => ok(await t.get('/api/sidebar/customers/wmD', c.hanmei)).customer.stage as number;
    expect(await stageOf()).toBe(1);
    const copies = [];
    for (let i = 0; i < 3; i++) {
      copies.push(ok(await touch('copy')).touch.id);
      t.clock.now += DAY;
      await relogin();
    }
    expect(await stageOf()).toBe(1);
    const confirmed = ok(await t.post(`/api/sidebar/touches/${copies[0]}/confirm`, {}, c.hanmei));
    expect(confirmed.progress).toEqual({ touchCount: 1, stage: 2 });
    expect(await stageOf()).toBe(2);
    // Someone else's touch cannot be confirmed.
    expect((await t.post(`/api/sidebar/touches/${copies[1]}/confirm`, {}, c.lilei)).statusCode).toBe(404);
    const manual = ok(await send('PUT', '/api/sidebar/customers/wmD/stage', c.hanmei, { stage: 4 }));
    expect(manual.progress.stage).toBe(4);
    expect(await stageOf()).toBe(4);
    const back = ok(await send('PUT', '/api/sidebar/customers/wmD/stage', c.hanmei, { stage: 2 }));
    expect(back.progress).toEqual({ touchCount: 1, stage: 2 });
    t.clock.now += 1000;
    expect(ok(await touch('send')).progress).toEqual({ touchCount: 2, stage: 3 });
    expect(T0).toBeLessThan(t.clock.now);
  });
});

describe.each(DB_TARGETS)('personal scripts without review (PERSONAL_TEMPLATES_REVIEW=false) on %s', (target) => {
  let t: SidebarTestApp;
  beforeAll(async () => {
    t = await startSidebarApp(target, { PERSONAL_TEMPLATES_REVIEW: 'false' });
  });
  afterAll(async () => t.close());

  it('are usable at once, and still checked', async () => {
    const cookie = await t.login('lilei');
    const res = await t.post(
      '/api/sidebar/my-templates',
      { title: '直接可用', body: '{{客户称呼}}好', stage: 1 },
      cookie,
    );
    expect(res.json().template.status).toBe('approved');
    const list = (await t.get('/api/sidebar/templates?externalUserId=wmA', cookie)).json().templates;
    expect(list.map((x: { title: string }) => x.title)).toContain('直接可用');
    const bad = await t.post('/api/sidebar/my-templates', { title: '违规', body: '保证收益' }, cookie);
    expect(bad.statusCode).toBe(422);
  });
});
