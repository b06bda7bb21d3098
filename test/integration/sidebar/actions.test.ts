import { DB_TARGETS } from '../../helpers/db';
import { type SidebarTestApp, startSidebarApp } from './helpers';

type Groups = { tags: { id: string; selected: boolean }[] }[];
const selectedIds = (groups: Groups) => groups.flatMap((g) => g.tags.filter((x) => x.selected).map((x) => x.id)).sort();

describe.each(DB_TARGETS)('sidebar actions on %s', (target) => {
  let t: SidebarTestApp;
  const cookies: Record<string, string> = {};
  beforeAll(async () => {
    t = await startSidebarApp(target);
    for (const u of ['lilei', 'hanmei', 'lead1', 'op1', 'zhang']) cookies[u] = await t.login(u);
  });
  afterAll(async () => t.close());

  const contactTags = async (ext: string, userid: string) =>
    (
      (await t.db.query('SELECT tag_id FROM contact_tags WHERE external_userid = ? AND userid = ? ORDER BY tag_id', [
        ext,
        userid,
      ])) as { tag_id: string }[]
    ).map((r) => r.tag_id);

  describe('POST /customers/:id/tags', () => {
    it('calls mark_tag through the manager’s follow, then stores the tags and answers the new groups', async () => {
      const before = t.far.markTagCalls().length;
      const res = await t.post('/api/sidebar/customers/wmA/tags', { add: ['t2', 't3'], remove: ['t1'] }, cookies.lilei);
      expect(res.statusCode).toBe(200);
      expect(t.far.markTagCalls().slice(before)).toEqual([
        { userid: 'lilei', external_userid: 'wmA', add_tag: ['t2', 't3'], remove_tag: ['t1'] },
      ]);
      expect(selectedIds(res.json().corpTags)).toEqual(['t2', 't3']);
      expect(await contactTags('wmA', 'lilei')).toEqual(['t2', 't3']);
      expect(t.far.fake.follows.get('wmA|lilei')?.tag_ids.sort()).toEqual(['t2', 't3']);
      expect(await contactTags('wmA', 'hanmei')).toEqual(['t3']); // another follow is untouched
      const audit = await t.db.query(`SELECT actor, action, subject FROM audit_log WHERE action = 'sidebar.tags'`);
      expect(audit).toContainEqual({ actor: 'lilei', action: 'sidebar.tags', subject: 'wmA' });
    });

    it('adding a tag that is already there is harmless (idempotent)', async () => {
      const res = await t.post('/api/sidebar/customers/wmA/tags', { add: ['t2'], remove: [] }, cookies.lilei);
      expect(res.statusCode).toBe(200);
      expect(await contactTags('wmA', 'lilei')).toEqual(['t2', 't3']);
    });

    it('a branch lead tags through the follower’s relation', async () => {
      const before = t.far.markTagCalls().length;
      const res = await t.post('/api/sidebar/customers/wmD/tags', { add: ['t1'], remove: [] }, cookies.lead1);
      expect(res.statusCode).toBe(200);
      expect(t.far.markTagCalls().slice(before)).toEqual([
        { userid: 'hanmei', external_userid: 'wmD', add_tag: ['t1'], remove_tag: [] },
      ]);
      expect(t.far.fake.follows.get('wmD|hanmei')?.tag_ids).toEqual(['t1']);
      expect(await contactTags('wmD', 'hanmei')).toEqual(['t1']);
    });

    it('a WeCom error is 502 wecom_error and changes nothing locally', async () => {
      // lilei owns wmE but has no WeCom relation with it: hanmei's follow is used, and WeCom refuses it here.
      const restore = t.far.dropRelation('wmE', 'hanmei');
      try {
        const res = await t.post('/api/sidebar/customers/wmE/tags', { add: ['t1'], remove: [] }, cookies.lilei);
        expect(res.statusCode).toBe(502);
        expect(res.json().error).toEqual({ code: 'wecom_error', message: expect.stringContaining('84061') });
        expect(await contactTags('wmE', 'hanmei')).toEqual([]);
      } finally {
        restore();
      }
    });

    it.each([
      ['unknown tag ids', { add: ['t999'], remove: [] }, 'unknown_tag'],
      ['deleted tags', { add: ['t4'], remove: [] }, 'unknown_tag'],
      ['nothing to do', { add: [], remove: [] }, 'bad_request'],
      ['a wrong shape', { add: [{ id: 't1' }] }, 'bad_request'],
      ['too long an id', { add: ['x'.repeat(65)] }, 'bad_request'],
    ])('refuses %s with 400', async (_label, body, code) => {
      const calls = t.far.markTagCalls().length;
      const res = await t.post('/api/sidebar/customers/wmA/tags', body, cookies.lilei);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe(code);
      expect(t.far.markTagCalls().length).toBe(calls);
    });

    it('applies the card authorization (403 for someone else’s customer, operators, 401 without session)', async () => {
      expect((await t.post('/api/sidebar/customers/wmB/tags', { add: ['t1'] }, cookies.lilei)).statusCode).toBe(403);
      expect((await t.post('/api/sidebar/customers/wmA/tags', { add: ['t1'] }, cookies.op1)).statusCode).toBe(403);
      expect((await t.post('/api/sidebar/customers/wmA/tags', { add: ['t1'] })).statusCode).toBe(401);
    });
  });

  describe('GET /templates', () => {
    it('searches every stage by title or content, ranked, filled for the customer', async () => {
      const res = await t.get(
        `/api/sidebar/templates?q=${encodeURIComponent('定投')}&externalUserId=wmA`,
        cookies.lilei,
      );
      expect(res.statusCode).toBe(200);
      const { templates } = res.json();
      expect(templates.map((x: { title: string }) => x.title)).toEqual(['基金定投介绍']);
      expect(templates[0].content).toBe('王先生，了解一下定投吗？');
    });

    it('without a customer fills a neutral salutation and includes only the caller’s own templates', async () => {
      const { templates } = (await t.get('/api/sidebar/templates?stage=1', cookies.hanmei)).json();
      const titles = templates.map((x: { title: string }) => x.title);
      expect(titles).toContain('韩梅的话术');
      expect(titles).not.toContain('李雷的私房话术');
      expect(templates.find((x: { title: string }) => x.title === '通用问候').content).toBe('您好！');
    });

    it('the stage parameter moves the ranking; the caller’s own templates stay offered at every stage', async () => {
      const { templates } = (await t.get('/api/sidebar/templates?stage=4', cookies.lilei)).json();
      const titles = templates.map((x: { title: string }) => x.title);
      expect(titles[0]).toBe('第四次回访');
      expect(titles).toContain('李雷的私房话术'); // stage 1, but lilei's own
      expect(titles).not.toContain('通用问候'); // stage 1 corp template, three stages away
    });

    it('checks access to the customer and validates the query', async () => {
      expect((await t.get('/api/sidebar/templates?externalUserId=wmB', cookies.lilei)).statusCode).toBe(403);
      expect((await t.get('/api/sidebar/templates?stage=9', cookies.lilei)).statusCode).toBe(400);
      expect((await t.get('/api/sidebar/templates')).statusCode).toBe(401);
    });
  });

  describe('POST /touches', () => {
    it('the stage counts distinct days with a real send: a copy or a second send that day does not move it', async () => {
      const [tpl] = await t.db.query(`SELECT id FROM script_templates WHERE title = '通用问候'`);
      const DAY = 86_400_000;
      const steps: { channel: 'send' | 'copy'; advance: number }[] = [
        { channel: 'copy', advance: 1000 },
        { channel: 'send', advance: 1000 },
        { channel: 'send', advance: DAY },
        { channel: 'send', advance: DAY },
        { channel: 'send', advance: DAY },
        { channel: 'send', advance: 1000 },
      ];
      const stages: number[] = [];
      const progress: number[] = [];
      const start = t.clock.now;
      for (const step of steps) {
        // Sessions last 30 minutes; the steps span days.
        cookies.hanmei = await t.login('hanmei');
        const res = await t.post(
          '/api/sidebar/touches',
          { externalUserId: 'wmE', templateId: Number(tpl.id), channel: step.channel },
          cookies.hanmei,
        );
        expect(res.statusCode).toBe(200);
        expect(res.json().touch).toMatchObject({ templateId: Number(tpl.id), title: '通用问候', userid: 'hanmei' });
        stages.push(res.json().touch.stage);
        progress.push(res.json().progress.touchCount);
        t.clock.now += step.advance;
      }
      cookies.hanmei = await t.login('hanmei');
      // copy · send · send (same day) · send (day 2) · send (day 3) · send (day 4)
      expect(stages).toEqual([1, 1, 2, 2, 3, 4]);
      expect(progress).toEqual([0, 1, 1, 2, 3, 4]);
      const { customer } = (await t.get('/api/sidebar/customers/wmE', cookies.hanmei)).json();
      expect(customer.touchCount).toBe(4);
      expect(customer.stage).toBe(4);
      expect(customer.touches).toHaveLength(6);
      expect(customer.touches[0]).toMatchObject({ title: '通用问候', channel: 'send', stage: 4 });
      expect(customer.touches[5]).toMatchObject({ channel: 'copy', stage: 1, confirmed: false });
      t.clock.now = start;
      for (const u of Object.keys(cookies)) cookies[u] = await t.login(u);
    });

    it('refuses a template the manager may not use (someone else’s own, draft, unknown)', async () => {
      const rows: { id: number; title: string }[] = await t.db.query(
        `SELECT id, title FROM script_templates WHERE title IN ('韩梅的话术', '草稿话术')`,
      );
      for (const id of [...rows.map((r) => Number(r.id)), 99999]) {
        const res = await t.post(
          '/api/sidebar/touches',
          { externalUserId: 'wmA', templateId: id, channel: 'send' },
          cookies.lilei,
        );
        expect(res.statusCode).toBe(404);
        expect(res.json().error.code).toBe('template_not_found');
      }
    });

    it('validates channel and access', async () => {
      const bad = await t.post(
        '/api/sidebar/touches',
        { externalUserId: 'wmA', templateId: 1, channel: 'sms' },
        cookies.lilei,
      );
      expect(bad.statusCode).toBe(400);
      const other = await t.post(
        '/api/sidebar/touches',
        { externalUserId: 'wmB', templateId: 1, channel: 'send' },
        cookies.lilei,
      );
      expect(other.statusCode).toBe(403);
    });
  });
});
