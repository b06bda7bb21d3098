import { sopApplyCommand, sopRunCommand, sopStatusCommand } from '../../../scripts/commands/sop';
import { SopOccurrence, SopTarget, SopTask } from '../../../server/db/entities';
import { runSopDelivery } from '../../../server/sop/delivery';
import { planStatus } from '../../../server/sop/service';
import { DB_TARGETS } from '../../helpers/db';
import { CUSTOMERS, DELETED } from './seed';
import { HOUR, MONDAY, useSopSuite } from './suite';

describe.each(DB_TARGETS)('SOP journeys and moments on %s', (target) => {
  const suite = useSopSuite(target, 'sop-ch-');
  const { ctx, file, deps } = suite;

  test('journey steps reach the customers added that many days before, once per day and step', async () => {
    const journey = {
      id: 'new-customer-journey',
      name: '新客旅程',
      channel: 'chat',
      audience: { customers: {} },
      schedule: {
        steps: [
          { day: 1, template: suite.tpl.chat },
          { day: 3, template: suite.tpl.chat2 },
        ],
        at: '10:00',
      },
    };
    await sopApplyCommand({ file: file('journey.json', journey) }, ctx(true));
    suite.h.clock.now = MONDAY + 10 * HOUR + 5 * 60_000;
    const dry = await sopRunCommand({ id: 'new-customer-journey' }, ctx());
    expect(dry.output).toContain(`occurrence 2026-12-07#d1: would reach ${CUSTOMERS.length} target(s)`);
    expect(dry.output).toContain('occurrence 2026-12-07#d3: would reach 0 target(s)');
    await runSopDelivery(deps('a'));
    await runSopDelivery(deps('b'));
    const occ = await suite.h.app.db.manager.find(SopOccurrence, {
      where: { planId: 'new-customer-journey' },
      order: { occurrenceKey: 'ASC' },
    });
    expect(occ.map((o) => [o.occurrenceKey, o.templateId, o.targets, o.skippedDeleted])).toEqual([
      ['2026-12-07#d1', suite.tpl.chat, CUSTOMERS.length, 1],
      ['2026-12-07#d3', suite.tpl.chat2, 0, 0],
    ]);
    const targets = await suite.h.app.db.manager.find(SopTarget, { where: { occurrenceId: occ[0].id } });
    expect(targets.map((t) => t.targetId).sort()).toEqual(CUSTOMERS.map((c) => c.ext).sort());
    expect(targets.map((t) => t.targetId)).not.toContain(DELETED.ext);
    const singles = [...suite.h.fake.massSend.tasks.values()].filter((t) => t.chatType === 'single');
    expect(singles.map((t) => t.sender).sort()).toEqual([...new Set(CUSTOMERS.map((c) => c.userid))].sort());
    expect(singles.find((t) => t.sender === 'wang_hz01')!.text).toContain('王经理');
  });

  test('moments: one add_moment_task carries every sender of the branch; publishing completes each sender', async () => {
    const plan = {
      id: 'weekend-class',
      name: '周末理财小课堂',
      channel: 'moments',
      audience: { customers: { branches: ['HZ01'] } },
      schedule: '30 10 * * 1',
      template: suite.tpl.moments,
    };
    await sopApplyCommand({ file: file('moments.json', plan) }, ctx(true));
    suite.h.clock.now = MONDAY + 10 * HOUR + 31 * 60_000;
    const before = suite.h.fake.count('externalcontact/add_moment_task');
    const cards = suite.h.fake.count('message/send');
    await runSopDelivery(deps('a'));
    await runSopDelivery(deps('b'));
    expect(suite.h.fake.count('externalcontact/add_moment_task') - before).toBe(1);
    const moment = [...suite.h.fake.massSend.moments.values()].at(-1)!;
    expect(moment.senders.sort()).toEqual(['li_hz01', 'wang_hz01']);
    // One app card for both senders (message/send takes up to 1,000 users).
    expect(suite.h.fake.count('message/send') - cards).toBe(1);
    const tasks = await suite.h.app.db.manager.find(SopTask, { where: { planId: 'weekend-class' } });
    expect(tasks.map((t) => [t.senderUserid, t.kind, t.status]).sort()).toEqual([
      ['li_hz01', 'moment', 'open'],
      ['wang_hz01', 'moment', 'open'],
    ]);
    expect(new Set(tasks.map((t) => t.momentJobId)).size).toBe(1);
    expect(tasks.every((t) => t.msgid === moment.jobid && t.notifiedAt !== null)).toBe(true);
    suite.h.fake.massSend.publish(moment.jobid, 'wang_hz01');
    suite.h.clock.now += 11 * 60_000;
    await runSopDelivery(deps('a'));
    const s = await planStatus(suite.h.app.db, 'weekend-class');
    expect(s.rows.find((r) => r.sender === 'wang_hz01')).toMatchObject({ senderConfirmed: 1, open: 0 });
    expect(s.rows.find((r) => r.sender === 'li_hz01')).toMatchObject({ senderConfirmed: 0, open: 1 });
    expect(s.momentJobs).toMatchObject({ total: 1, senders: 2, published: 1, byStatus: { open: 1 } });
    const cli = await sopStatusCommand({ id: 'weekend-class' }, ctx());
    expect(cli.output).toContain('moments: 1 WeCom task(s) carrying 2 sender(s) (open 1); published by 1 sender(s)');
    // li has not published: reminded with the app card after SOP_REMIND_AFTER_HOURS (4), again
    // after as long, at most 3 times in 24 hours (quiet hours off here; they hold reminders back too).
    const reminders = () => suite.h.fake.messages.filter((m) => m.content.startsWith('总行SOP提醒：周末理财小课堂'));
    expect(reminders()).toHaveLength(0);
    const noQuiet = { config: { ...suite.h.app.config.sop!, quietHours: null } };
    for (let i = 0; i < 5; i++) {
      suite.h.clock.now += 4 * HOUR + 60_000;
      await runSopDelivery(deps('a', suite.h.app.wecom, noQuiet));
    }
    expect(reminders().map((m) => m.touser)).toEqual(['li_hz01', 'li_hz01', 'li_hz01']);
    expect(reminders()[0].content).toContain('您还没有发表');
    suite.h.fake.massSend.publish(moment.jobid, 'li_hz01');
    suite.h.clock.now += 11 * 60_000;
    await runSopDelivery(deps('b'));
    const done = await planStatus(suite.h.app.db, 'weekend-class');
    expect(done.momentJobs).toMatchObject({ total: 1, published: 2, byStatus: { done: 1 } });
    expect(done.occurrence?.status).toBe('done');
  });
});
