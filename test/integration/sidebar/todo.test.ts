import { build } from '../../../server/app';
import { openDatabase } from '../../../server/db/data-source';
import {
  Customer,
  CustomerHolding,
  Follow,
  FollowNote,
  Manager,
  SopPlan,
  SopTask,
  TodoReminder,
  Touch,
} from '../../../server/db/entities';
import { productJobs } from '../../../server/jobs/definitions';
import { runJobNow } from '../../../server/jobs/plugin';
import { newTask } from '../../../server/sop/planner';
import { sendTodoReminders } from '../../../server/todo/reminder';
import { TodoService } from '../../../server/todo/service';
import { DB_TARGETS, testConfig } from '../../helpers/db';
import { PUBLIC, SECRET, type SidebarTestApp, startSidebarApp, T0 } from './helpers';

/** 09:00 in China on a day of November/December 2026. */
const at = (day: string) => Date.parse(`${day}T01:00:00Z`);

/**
 * 今日待办 by date. Seed (helpers.ts): every follow was added 2026-11-22 (China). lilei follows
 * wmA (C001) and wmC (not linked); hanmei follows wmD (C003) and wmE (C004); lead1 leads B001.
 */
describe.each(DB_TARGETS)('今日待办 on %s', (target) => {
  let t: SidebarTestApp;
  let service: TodoService;
  beforeAll(async () => {
    t = await startSidebarApp(target, { TODO_TOUCH_CADENCE_DAYS: '30' });
    service = new TodoService(t.db, () => t.clock.now, 30);
    await t.db.getRepository(Customer).update({ id: 'C001' }, { birthdayMd: '11-25' });
    await t.db.getRepository(CustomerHolding).insert({
      id: 'C001|稳盈90天|2026-09-01',
      customerId: 'C001',
      product: '稳盈90天',
      productType: '理财',
      amountBand: '20-50万',
      openedOn: '2026-09-01',
      maturesOn: '2026-11-30',
      createdAt: T0,
      updatedAt: T0,
    });
    await t.db.getRepository(FollowNote).insert({
      externalUserid: 'wmA',
      userid: 'lilei',
      kind: 'visit',
      text: '约好下周再聊',
      nextFollowUp: '2026-11-26',
      createdAt: T0,
    });
    // wmE deleted hanmei on 2026-11-23 at 15:00 China time.
    await t.db
      .getRepository(Follow)
      .update(
        { externalUserid: 'wmE', userid: 'hanmei' },
        { deletedAt: Date.parse('2026-11-23T07:00:00Z'), deletedBy: 'customer' },
      );
  });
  afterAll(async () => t.close());

  const listOf = async (userid: string, day: string) => {
    t.clock.now = at(day);
    const m = await t.db.getRepository(Manager).findOneByOrFail({ userid });
    const [list] = await service.lists([{ userid, name: m.name, role: m.role, branch_code: m.branchCode }]);
    return list.items.map((i) => [i.kind, i.externalUserId]);
  };

  it('lists by date: maturing, new customers at stage 1, birthdays, follow-ups due, deletions, stale', async () => {
    expect(await listOf('lilei', '2026-11-23')).toEqual([['maturing', 'wmA']]);
    // Two days after the add, nothing sent yet: both of lilei's customers are new at stage 1.
    expect(await listOf('lilei', '2026-11-24')).toEqual([
      ['maturing', 'wmA'],
      ['new_stage1', 'wmA'],
      ['new_stage1', 'wmC'],
    ]);
    expect(await listOf('hanmei', '2026-11-24')).toEqual([
      ['new_stage1', 'wmD'],
      ['deleted', 'wmE'],
    ]);
    // A script sent to wmA takes it off the stage-1 list.
    await t.db.getRepository(Touch).insert({
      externalUserid: 'wmA',
      userid: 'lilei',
      templateId: null,
      stage: 1,
      channel: 'send',
      sentAt: at('2026-11-24'),
    } as Touch);
    expect(await listOf('lilei', '2026-11-25')).toEqual([
      ['maturing', 'wmA'],
      ['birthday', 'wmA'],
      ['new_stage1', 'wmC'],
    ]);
    expect(await listOf('hanmei', '2026-11-25')).toEqual([['new_stage1', 'wmD']]);
    expect(await listOf('lilei', '2026-11-26')).toEqual([
      ['followup_due', 'wmA'],
      ['maturing', 'wmA'],
      ['new_stage1', 'wmC'],
    ]);
    // The maturity is 7 days ahead on 11-23 and gone after 11-30; the overdue follow-up stays.
    expect(await listOf('lilei', '2026-12-01')).toEqual([
      ['followup_due', 'wmA'],
      ['new_stage1', 'wmC'],
    ]);
    // 30 days after the last touch (11-24) and after the add (11-22): stale.
    expect(await listOf('lilei', '2026-12-24')).toEqual([
      ['followup_due', 'wmA'],
      ['stale', 'wmA'],
      ['stale', 'wmC'],
    ]);
    // A newer note without a date replaces the follow-up and counts as contact.
    await t.db.getRepository(FollowNote).insert({
      externalUserid: 'wmA',
      userid: 'lilei',
      kind: 'call',
      text: '已电话沟通',
      nextFollowUp: null,
      createdAt: at('2026-12-24'),
    });
    expect(await listOf('lilei', '2026-12-24')).toEqual([['stale', 'wmC']]);
  });

  it('GET /todo: the manager gets the list in Chinese; a branch lead gets the branch by manager with counts', async () => {
    t.clock.now = at('2026-11-24');
    const lilei = await t.login('lilei');
    const res = await t.get('/api/sidebar/todo', lilei);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ day: '2026-11-24', userid: 'lilei', name: '李雷', total: 2, branch: null });
    expect(body.items.map((i: { kind: string }) => i.kind)).toEqual(['maturing', 'new_stage1']);
    expect(body.items[1]).toEqual({
      kind: 'new_stage1',
      kindZh: '新客未首触',
      externalUserId: 'wmC',
      customerName: expect.any(String),
      segment: null,
      detail: '添加已 2 天，尚未发送首次问候',
      canChat: true,
    });
    expect(res.body).not.toContain('微信昵称不可外泄');

    const lead = (await t.get('/api/sidebar/todo', await t.login('lead1'))).json();
    expect(lead.branch.branchCode).toBe('B001');
    const byName = Object.fromEntries(
      lead.branch.managers.map((m: { name: string; total: number; counts: Record<string, number> }) => [
        m.name,
        [m.total, m.counts],
      ]),
    );
    expect(byName['韩梅']).toEqual([
      2,
      { followup_due: 0, maturing: 0, birthday: 0, new_stage1: 1, stale: 0, deleted: 1 },
    ]);
    expect(byName['李雷'][0]).toBe(2);
    expect(Object.keys(byName)).not.toContain('张伟');
    expect((await t.get('/api/sidebar/todo', await t.login('op1'))).statusCode).toBe(403);
    expect((await t.get('/api/sidebar/todo')).statusCode).toBe(401);
  });

  it('总行任务: SOP tasks the manager has not yet confirmed in WeCom, per plan and channel', async () => {
    t.clock.now = at('2026-11-24');
    await t.db.getRepository(SopPlan).insert([
      {
        id: 'salon',
        name: '每周财富沙龙预告',
        channel: 'group',
        status: 'active',
        version: 1,
        createdBy: 't',
        createdAt: T0,
        updatedAt: T0,
      },
      {
        id: 'class',
        name: '周末理财小课堂',
        channel: 'moments',
        status: 'active',
        version: 1,
        createdBy: 't',
        createdAt: T0,
        updatedAt: T0,
      },
      {
        id: 'app',
        name: '手机银行拉新',
        channel: 'chat',
        status: 'active',
        version: 1,
        createdBy: 't',
        createdAt: T0,
        updatedAt: T0,
      },
    ]);
    // Created in WeCom (open) and waiting for lilei unless told otherwise.
    const task = (o: Partial<SopTask>): Omit<SopTask, 'id'> => ({
      ...newTask(
        {
          occurrenceId: 1,
          planId: 'salon',
          senderUserid: 'lilei',
          chunk: 0,
          kind: 'group',
          branchCode: 'B001',
          targets: 0,
        },
        T0,
      ),
      status: 'open',
      attempts: 1,
      dispatchedAt: T0,
      ...o,
    });
    await t.db.getRepository(SopTask).insert([
      // Two chunks of one group task: one row, their groups summed.
      task({ chunk: 0, targets: 2000 }),
      task({ chunk: 1, targets: 5 }),
      task({ occurrenceId: 2, planId: 'class', kind: 'moment', dispatchedAt: T0 + 60_000 }),
      // Sent already, or not yet created in WeCom, or finished: not a 待办.
      task({ occurrenceId: 3, planId: 'app', kind: 'single', targets: 30, senderSent: true }),
      task({ occurrenceId: 4, planId: 'app', kind: 'single', targets: 30, status: 'pending' }),
      task({ occurrenceId: 5, planId: 'app', kind: 'single', targets: 30, status: 'done' }),
      task({ planId: 'class', kind: 'moment', senderUserid: 'hanmei', occurrenceId: 2, dispatchedAt: T0 + 60_000 }),
    ]);
    const body = (await t.get('/api/sidebar/todo', await t.login('lilei'))).json();
    expect(body.sop).toEqual([
      {
        planId: 'salon',
        planName: '每周财富沙龙预告',
        channelZh: '客户群群发',
        detail: '请在企业微信「客户群群发」中确认发送到 2005 个客户群',
      },
      {
        planId: 'class',
        planName: '周末理财小课堂',
        channelZh: '客户朋友圈',
        detail: '请在企业微信「客户朋友圈」中确认发表',
      },
    ]);
    // Customer rows are unchanged by it.
    expect(body.total).toBe(2);
    const lead = (await t.get('/api/sidebar/todo', await t.login('lead1'))).json();
    const sopOf = (name: string) =>
      lead.branch.managers.find((m: { name: string }) => m.name === name).sop.map((x: { planId: string }) => x.planId);
    expect(sopOf('李雷')).toEqual(['salon', 'class']);
    expect(sopOf('韩梅')).toEqual(['class']);
    await t.db.getRepository(SopTask).clear();
    await t.db.getRepository(SopPlan).clear();
  });

  it('morning reminder: one textcard per manager with items, once per day across two instances', async () => {
    t.clock.now = at('2026-11-24') - 30 * 60_000; // 08:30 China
    const db2 = await openDatabase({ url: t.fresh.url });
    const b = await build(testConfig(t.fresh.url, { SESSION_SECRET: SECRET, PUBLIC_BASE_URL: PUBLIC }), {
      db: db2,
      now: () => t.clock.now,
    });
    try {
      await b.ready();
      const managers = await t.db.getRepository(Manager).find();
      b.sandbox!.fake.load({
        users: managers.map((x) => ({
          userid: x.userid,
          name: x.name,
          department: [1],
          main_department: 1,
          status: 1,
        })),
      });
      const fakes = [t.far.fake, b.sandbox!.fake];
      const reminders = () =>
        fakes.flatMap((f) => f.messages.filter((m) => m.msgtype === 'textcard')).map((m) => m.touser);

      // Both instances run the reminder at the same moment (as if the lease had been lost).
      const opts = (app: typeof b, db: typeof t.db) => ({
        db,
        wecom: app.wecom,
        agentId: app.config.wecom.agentId,
        publicBaseUrl: PUBLIC,
        cadenceDays: 30,
        now: () => t.clock.now,
      });
      const results = await Promise.all([sendTodoReminders(opts(t.app, t.db)), sendTodoReminders(opts(b, db2))]);
      expect(reminders().sort()).toEqual(['hanmei', 'lilei', 'zhang']);
      expect(results.map((r) => r.sent).reduce((x, y) => x + y)).toBe(3);
      expect(results.map((r) => r.skipped).reduce((x, y) => x + y)).toBe(3);
      const card = fakes.flatMap((f) => f.messages).find((m) => m.touser === 'lilei')!;
      expect(card.url).toBe(`${PUBLIC}/sidebar/?view=todo`);
      expect(card.content).toContain('今日待办');
      expect(card.content).toContain('产品到期 1，新客未首触 1');
      expect(card.content).not.toMatch(/lilei|wm[A-E]/);

      // Later the same day, through the job machinery on both instances: nothing more is sent.
      t.clock.now += 3 * 3600_000;
      await Promise.all([runJobNow(t.app, 'todo-reminder'), runJobNow(b, 'todo-reminder')]);
      expect(reminders()).toHaveLength(3);
      const rows = await t.db.getRepository(TodoReminder).find({ order: { userid: 'ASC' } });
      expect(rows.map((r) => [r.userid, r.day, r.status, r.items])).toEqual([
        ['hanmei', '2026-11-24', 'sent', 2],
        ['lilei', '2026-11-24', 'sent', 2],
        ['zhang', '2026-11-24', 'sent', 1],
      ]);

      // The next morning: a new reminder each (hanmei's deletion is no longer "yesterday").
      t.clock.now = at('2026-11-25') - 30 * 60_000;
      const next = await runJobNow(b, 'todo-reminder');
      expect(next.outcome).toBe('ok');
      expect(reminders().sort()).toEqual(['hanmei', 'hanmei', 'lilei', 'lilei', 'zhang', 'zhang']);
    } finally {
      await b.close();
      await db2.destroy();
    }
  });

  it('the reminder schedule comes from TODO_REMINDER_CRON and a bad value names the variable', () => {
    expect(() => testConfig('sqlite::memory:', { TODO_REMINDER_CRON: 'every morning' })).toThrow(/TODO_REMINDER_CRON/);
    expect(testConfig('sqlite::memory:', { TODO_REMINDER_CRON: '0 9 * * 1-5' }).todo.reminderCron).toBe('0 9 * * 1-5');
    expect(t.app.jobs.names()).toContain('todo-reminder');
    const custom = productJobs(testConfig('sqlite::memory:', { TODO_REMINDER_CRON: '0 9 * * 1-5' }));
    expect(custom.find((d) => d.name === 'todo-reminder')?.schedule).toBe('0 9 * * 1-5');
  });
});
