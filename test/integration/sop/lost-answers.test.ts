import { sopApplyCommand, sopStatusChange, sopValidateCommand } from '../../../scripts/commands/sop';
import { ContactTag, CorpTag, SopMomentJob, SopTask } from '../../../server/db/entities';
import { createDueOccurrences, planWaiting, runSopDelivery } from '../../../server/sop/delivery';
import type { WecomApi } from '../../../server/wecom/api-types';
import { NETWORK_ERRCODE, WecomApiError } from '../../../server/wecom/errors';
import { DB_TARGETS } from '../../helpers/db';
import { insertTemplate } from './seed';
import { DAY, HOUR, MONDAY, useSopSuite } from './suite';

const MIN = 60_000;

/**
 * WeCom has no idempotency key for add_msg_template or add_moment_task. These tests leave WeCom
 * and the database exactly as a lost answer or a process dying mid-call does (the task made in the
 * fake WeCom, nothing recorded but the mark written before the call) and check the next run finds
 * the task there instead of making a second one; and that moments go many senders per WeCom task.
 */
describe.each(DB_TARGETS)('SOP lost answers and moment jobs on %s', (target) => {
  const suite = useSopSuite(target, 'sop-lost-');
  const { ctx, file, deps, tasksOf } = suite;
  const apply = async (body: object) => {
    const r = await sopApplyCommand({ file: file(`${(body as { id: string }).id}.json`, body) }, ctx(true));
    expect(r.exitCode).toBe(0);
  };
  const lostAnswer = (api: string) =>
    new WecomApiError({ api, errcode: NETWORK_ERRCODE, errmsg: 'network error ECONNRESET', kind: 'retryable' });
  /** The real client, but `method` does its work in WeCom and then loses the answer, or never answers. */
  const faulty = (method: 'addMsgTemplate' | 'addMomentTask', mode: 'lose' | 'hang'): WecomApi =>
    new Proxy(suite.h.app.wecom, {
      get(t, k) {
        const v = Reflect.get(t, k);
        if (k !== method) return typeof v === 'function' ? v.bind(t) : v;
        return async (req: never) => {
          await (v as (r: never) => Promise<unknown>).call(t, req);
          if (mode === 'hang') return new Promise(() => {});
          throw lostAnswer(`externalcontact/${method === 'addMsgTemplate' ? 'add_msg_template' : 'add_moment_task'}`);
        };
      },
    });
  const fakeTasksBySender = (plan: string) => {
    const out = new Map<string, string[]>();
    for (const t of suite.h.fake.massSend.tasks.values())
      if (t.text.includes(plan)) out.set(t.sender, [...(out.get(t.sender) ?? []), t.msgid]);
    return out;
  };

  const template = (channel: 'group' | 'chat' | 'moments', content: string) =>
    insertTemplate(suite.h.app.db, channel, content, suite.h.clock.now);

  test('a group send whose answer was lost is found in WeCom on the next run, not created twice', async () => {
    const id = await template('group', '周一沙龙 lost-group：{{网点}}欢迎报名。');
    await apply({
      id: 'lost-group',
      name: '周一沙龙',
      channel: 'group',
      audience: { groups: { branches: ['HZ01'] } },
      schedule: '0 10 * * 1',
      template: id,
    });
    suite.h.clock.now = MONDAY + 10 * HOUR + MIN;
    await runSopDelivery(deps('a', faulty('addMsgTemplate', 'lose')));
    const made = fakeTasksBySender('lost-group');
    expect([...made.keys()].sort()).toEqual(['li_hz01', 'wang_hz01']);
    let tasks = await tasksOf('lost-group');
    // Both texts are the same (one branch): matching must also check the sender.
    expect(tasks.map((t) => [t.status, t.msgid, t.createStartedAt !== null, t.attempts])).toEqual([
      ['pending', null, true, 1],
      ['pending', null, true, 1],
    ]);

    suite.h.clock.now += 2 * MIN;
    const calls = suite.h.fake.count('externalcontact/add_msg_template');
    await runSopDelivery(deps('b'));
    expect(suite.h.fake.count('externalcontact/add_msg_template')).toBe(calls);
    tasks = await tasksOf('lost-group');
    for (const t of tasks) {
      expect(t).toMatchObject({ status: 'open', createStartedAt: null });
      expect(made.get(t.senderUserid)).toEqual([t.msgid]);
    }
    // The adopted task completes like any other.
    suite.h.fake.massSend.confirm(tasks[0].msgid as string);
    suite.h.clock.now += 11 * MIN;
    await runSopDelivery(deps('a'));
    expect((await tasksOf('lost-group'))[0]).toMatchObject({ status: 'done', senderSent: true, sent: 1 });
  });

  test('a process that died mid-call: once its claim expires, another instance finds the task', async () => {
    const id = await template('chat', '周二问候 lost-chat：我是{{客户经理}}。');
    await apply({
      id: 'lost-chat',
      name: '周二问候',
      channel: 'chat',
      audience: { customers: { branches: ['HZ01'] } },
      schedule: '0 10 * * 2',
      template: id,
    });
    suite.h.clock.now = MONDAY + DAY + 10 * HOUR + MIN;
    const calls = suite.h.fake.count('externalcontact/add_msg_template');
    // Instance a hangs inside its first add_msg_template, after WeCom made the task.
    void runSopDelivery(deps('a', faulty('addMsgTemplate', 'hang')));
    for (let i = 0; i < 500 && suite.h.fake.count('externalcontact/add_msg_template') === calls; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(suite.h.fake.count('externalcontact/add_msg_template')).toBe(calls + 1);
    const stuck = (await tasksOf('lost-chat')).find((t) => t.createStartedAt !== null)!;
    expect(stuck).toMatchObject({ status: 'pending', msgid: null, lockedBy: 'a' });

    // Within a's claim, b leaves that task alone (and creates the other sender's).
    await runSopDelivery(deps('b'));
    expect((await suite.h.app.db.manager.findOneByOrFail(SopTask, { id: stuck.id })).lockedBy).toBe('a');
    suite.h.clock.now += 3 * MIN;
    await runSopDelivery(deps('c'));
    const made = fakeTasksBySender('lost-chat');
    expect([...made.entries()].map(([s, ids]) => [s, ids.length]).sort()).toEqual([
      ['li_hz01', 1],
      ['wang_hz01', 1],
    ]);
    for (const t of await tasksOf('lost-chat')) expect(made.get(t.senderUserid)).toEqual([t.msgid]);
  });

  test('a call that never reached WeCom (HTTP 500) is looked up, found absent, and made once', async () => {
    const id = await template('group', '周三早报 never-made：{{网点}}。');
    await apply({
      id: 'never-made',
      name: '周三早报',
      channel: 'group',
      audience: { groups: { branches: ['HZ02'] } },
      schedule: '0 10 * * 3',
      template: id,
    });
    suite.h.clock.now = MONDAY + 2 * DAY + 10 * HOUR + MIN;
    suite.h.fake.failNext('externalcontact/add_msg_template', 'http500', 1);
    const lists = suite.h.fake.count('externalcontact/get_groupmsg_list_v2');
    await runSopDelivery(deps('a'));
    expect(await tasksOf('never-made')).toEqual([
      expect.objectContaining({ status: 'pending', createStartedAt: expect.any(Number), attempts: 1 }),
    ]);
    expect(fakeTasksBySender('never-made').size).toBe(0);
    suite.h.clock.now += 2 * MIN;
    await runSopDelivery(deps('a'));
    expect(suite.h.fake.count('externalcontact/get_groupmsg_list_v2')).toBeGreaterThan(lists);
    const made = fakeTasksBySender('never-made');
    expect([...made.values()]).toEqual([[(await tasksOf('never-made'))[0].msgid]]);
  });

  test('moments: a job whose answer was lost is found in get_moment_list, not created again', async () => {
    const id = await template('moments', '周四小课堂 lost-moment。');
    await apply({
      id: 'lost-moment',
      name: '周四小课堂',
      channel: 'moments',
      audience: { customers: { branches: ['HZ01'] } },
      schedule: '0 10 * * 4',
      template: id,
    });
    suite.h.clock.now = MONDAY + 3 * DAY + 10 * HOUR + MIN;
    const calls = suite.h.fake.count('externalcontact/add_moment_task');
    await runSopDelivery(deps('a', faulty('addMomentTask', 'lose')));
    expect(suite.h.fake.count('externalcontact/add_moment_task')).toBe(calls + 1);
    const [job] = await suite.h.app.db.manager.find(SopMomentJob, { where: { planId: 'lost-moment' } });
    expect(job).toMatchObject({ status: 'creating', jobid: null, senders: 2, attempts: 1 });
    expect(job.startedAt).not.toBeNull();

    suite.h.clock.now += 2 * MIN;
    await runSopDelivery(deps('b'));
    expect(suite.h.fake.count('externalcontact/add_moment_task')).toBe(calls + 1);
    const fake = [...suite.h.fake.massSend.moments.values()].find((m) => m.text.includes('lost-moment'))!;
    const after = await suite.h.app.db.manager.findOneByOrFail(SopMomentJob, { id: job.id });
    expect(after).toMatchObject({ status: 'open', momentId: fake.momentId, jobid: null });
    const tasks = await tasksOf('lost-moment');
    expect(tasks.map((t) => [t.status, t.momentId])).toEqual([
      ['open', fake.momentId],
      ['open', fake.momentId],
    ]);
    suite.h.fake.massSend.publish(fake.jobid, 'li_hz01');
    // A job found this way has no job result (no invalid_sender_list): a sender WeCom did not take
    // shows as missing from get_moment_task's list, and fails rather than stay open for 7 days.
    fake.senders = fake.senders.filter((u) => u !== 'wang_hz01');
    suite.h.clock.now += 11 * MIN;
    await runSopDelivery(deps('a'));
    expect((await tasksOf('lost-moment')).map((t) => [t.senderUserid, t.status, t.lastError]).sort()).toEqual([
      ['li_hz01', 'done', null],
      ['wang_hz01', 'failed', 'WeCom did not take the sender (not visible to the app)'],
    ]);
    expect(await suite.h.app.db.manager.findOneByOrFail(SopMomentJob, { id: job.id })).toMatchObject({
      status: 'done',
      published: 1,
    });
  });

  test('moments: senders split by text (a script naming the branch) and by SOP_MOMENT_SENDERS_PER_TASK', async () => {
    const id = await template('moments', '周五 split-moment：{{网点}}理财日。');
    await apply({
      id: 'split-moment',
      name: '周五理财日',
      channel: 'moments',
      audience: { customers: { branches: ['HZ01', 'HZ02'] } },
      schedule: '0 10 * * 5',
      template: id,
    });
    suite.h.clock.now = MONDAY + 4 * DAY + 10 * HOUR + MIN;
    await runSopDelivery(deps('a'));
    const jobs = await suite.h.app.db.manager.find(SopMomentJob, {
      where: { planId: 'split-moment' },
      order: { id: 'ASC' },
    });
    const fakes = [...suite.h.fake.massSend.moments.values()].filter((m) => m.text.includes('split-moment'));
    expect(fakes.map((m) => m.senders.sort()).sort()).toEqual([['li_hz01', 'wang_hz01'], ['zhao_hz02']]);
    expect(jobs.map((j) => [j.status, j.senders]).sort()).toEqual([
      ['open', 1],
      ['open', 2],
    ]);

    // The same plan a week later with one sender per WeCom task.
    suite.h.clock.now += 7 * DAY;
    await runSopDelivery(
      deps('a', suite.h.app.wecom, { config: { ...suite.h.app.config.sop!, momentSendersPerTask: 1 } }),
    );
    const week2 = [...suite.h.fake.massSend.moments.values()].filter((m) => m.text.includes('split-moment')).slice(2);
    expect(week2.map((m) => m.senders.length)).toEqual([1, 1, 1]);
  });

  test('cancelling a moments plan cancels its WeCom job once and every sender task', async () => {
    const id = await template('moments', '周六 cancel-moment。');
    await apply({
      id: 'cancel-moment',
      name: '周六活动',
      channel: 'moments',
      audience: { customers: {} },
      schedule: '0 10 * * 6',
      template: id,
    });
    suite.h.clock.now = MONDAY + 12 * DAY + 10 * HOUR + MIN;
    await runSopDelivery(deps('a'));
    expect((await tasksOf('cancel-moment')).length).toBeGreaterThan(2);
    const cancels = suite.h.fake.count('externalcontact/cancel_moment_task');
    expect((await sopStatusChange('cancelled')({ id: 'cancel-moment' }, ctx(true))).exitCode).toBe(0);
    await runSopDelivery(deps('a'));
    await runSopDelivery(deps('b'));
    expect(suite.h.fake.count('externalcontact/cancel_moment_task') - cancels).toBe(1);
    expect(new Set((await tasksOf('cancel-moment')).map((t) => t.status))).toEqual(new Set(['cancelled']));
    const fake = [...suite.h.fake.massSend.moments.values()].find((m) => m.text.includes('cancel-moment'))!;
    expect(fake.cancelled).toBe(true);
  });

  test('moments to tagged customers: only managers whose customers carry the tag, visible to the tag only', async () => {
    await suite.h.app.db.manager.insert(CorpTag, {
      id: 'et_vip',
      groupId: 'etg_level',
      groupName: '客户等级',
      name: '高净值',
      sortOrder: 0,
      deleted: false,
      updatedAt: suite.h.clock.now,
    });
    await suite.h.app.db.manager.insert(ContactTag, {
      externalUserid: 'wm_a1',
      userid: 'wang_hz01',
      tagId: 'et_vip',
      createdAt: suite.h.clock.now,
    });
    const id = await template('moments', '周日 vip-moment：高净值客户专属沙龙。');
    await apply({
      id: 'vip-moment',
      name: '高净值沙龙',
      channel: 'moments',
      audience: { customers: { corpTags: ['高净值'] } },
      schedule: '0 10 * * 0',
      template: id,
    });
    suite.h.clock.now = MONDAY + 13 * DAY + 10 * HOUR + MIN;
    await runSopDelivery(deps('a'));
    const [made] = [...suite.h.fake.massSend.moments.values()].filter((m) => m.text.includes('vip-moment'));
    expect(made).toMatchObject({ senders: ['wang_hz01'], tags: ['et_vip'] });
    expect((await tasksOf('vip-moment')).map((t) => [t.senderUserid, t.status])).toEqual([['wang_hz01', 'open']]);

    // Next week the post is planned, then the tag is deleted before it goes out: the tasks fail
    // rather than the post going to every customer.
    await suite.h.app.db.manager.update(SopTask, { planId: 'vip-moment' }, { status: 'done' });
    await suite.h.app.db.manager.update(SopMomentJob, { planId: 'vip-moment' }, { status: 'done' });
    suite.h.clock.now += 7 * DAY;
    expect(await createDueOccurrences(deps('a'), 'vip-moment', { manual: false })).toHaveLength(1);
    expect(await planWaiting(deps('a'))).toBe(1);
    await suite.h.app.db.manager.update(CorpTag, { id: 'et_vip' }, { deleted: true });
    const calls = suite.h.fake.count('externalcontact/add_moment_task');
    await runSopDelivery(deps('a'));
    expect(suite.h.fake.count('externalcontact/add_moment_task')).toBe(calls);
    const next = (await tasksOf('vip-moment')).filter((t) => t.status !== 'done');
    expect(next.map((t) => [t.senderUserid, t.status, t.lastError])).toEqual([
      ['wang_hz01', 'failed', "none of the plan's corp tags exists any more"],
    ]);
  });

  test('validate notes that a moments script naming the manager costs one WeCom task per manager', async () => {
    const named = await template('moments', '我是{{客户经理}}，周末理财小课堂欢迎您。');
    const branch = await template('moments', '{{网点}}周末理财小课堂欢迎您。');
    const plan = (t: number) => ({
      id: 'named-moment',
      name: '署名朋友圈',
      channel: 'moments',
      audience: { customers: {} },
      schedule: '0 10 * * 0',
      template: t,
    });
    const r = await sopValidateCommand({ file: file('named.json', plan(named)) }, ctx());
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain(`note: template: script ${named} names the manager ({{客户经理}})`);
    expect(r.json).toMatchObject({ valid: true, notes: [{ path: 'template' }] });
    const quiet = await sopValidateCommand({ file: file('branch.json', plan(branch)) }, ctx());
    expect(quiet.output).not.toContain('note:');
  });
});
