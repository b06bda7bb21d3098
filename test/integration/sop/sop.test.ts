import {
  sopApplyCommand,
  sopRunCommand,
  sopStatusChange,
  sopStatusCommand,
  sopValidateCommand,
} from '../../../scripts/commands/sop';
import { AuditEntry, SopOccurrence, SopTarget, SopTask } from '../../../server/db/entities';
import { runSopDelivery } from '../../../server/sop/delivery';
import { parsePlanFile } from '../../../server/sop/plan-file';
import { planStatus } from '../../../server/sop/service';
import { DB_TARGETS } from '../../helpers/db';
import { CUSTOMERS, DELETED, GROUPS } from './seed';
import { HOUR, MONDAY, useSopSuite } from './suite';

describe.each(DB_TARGETS)('SOP plans on %s', (target) => {
  const suite = useSopSuite(target, 'sop-');
  const { ctx, file, deps, tasksOf } = suite;
  const massTasks = () => [...suite.h.fake.massSend.tasks.values()];

  test('validation names the path of every problem, in the file and against the database', async () => {
    expect(() =>
      parsePlanFile({
        id: 'X',
        name: '',
        channel: 'fax',
        audience: { groups: { branches: [] }, extra: 1 },
        schedule: '*/5 * * * *',
        template: 'twelve',
      }),
    ).toThrow(/id: must be[\s\S]*name: must not be empty[\s\S]*channel: must be group, chat or moments/);
    expect(() =>
      parsePlanFile({
        id: 'ok-id',
        name: 'n',
        channel: 'group',
        audience: { groups: { branches: [] } },
        schedule: '*/5 * * * *',
        template: 1,
      }),
    ).toThrow(/audience\.groups\.branches: must list at least one value[\s\S]*schedule: must fire at most once a day/);
    expect(() =>
      parsePlanFile({
        id: 'ok-id',
        name: 'n',
        channel: 'group',
        audience: { groups: {}, extra: 1 },
        schedule: '0 10 * * 1',
      }),
    ).toThrow(/audience\.extra: is not a plan field[\s\S]*template: is required with a cron schedule/);
    expect(() =>
      parsePlanFile({
        id: 'ok-id',
        name: 'n',
        channel: 'chat',
        audience: { customers: { stages: [1, 7] } },
        schedule: {
          steps: [
            { day: 0, template: 1 },
            { day: 0, template: 'x' },
          ],
        },
      }),
    ).toThrow(/audience\.customers\.stages\[1\]: must be a stage 1–4[\s\S]*schedule/);

    const r = await sopValidateCommand(
      {
        file: file('refs.json', {
          id: 'refs',
          name: '引用检查',
          channel: 'group',
          audience: { groups: { branches: ['HZ01', 'NOPE'], regions: ['ZZ'] } },
          schedule: '0 10 * * 1',
          template: suite.tpl.chat,
        }),
      },
      ctx(),
    );
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/template: script \d+ is for channel chat, the plan sends to group/);
    expect(r.output).toContain('audience.groups.branches[1]: no branch NOPE');
    expect(r.output).toContain('audience.groups.regions[0]: no branch is in region ZZ');
    const draft = await sopValidateCommand(
      {
        file: file('draft.json', {
          id: 'draft',
          name: 'd',
          channel: 'group',
          audience: { groups: {} },
          schedule: '0 10 * * 1',
          template: suite.tpl.draft,
        }),
      },
      ctx(),
    );
    expect(draft.output).toMatch(/template: script \d+ is draft, not approved/);
    await expect(sopApplyCommand({ file: file('refs.json', { id: 'refs' }) }, ctx(true))).rejects.toThrow(
      /invalid SOP plan/,
    );
  });

  const weekly = () => ({
    id: 'hz-weekly-salon',
    name: '每周财富沙龙预告',
    channel: 'group',
    audience: { groups: { branches: ['HZ01', 'HZ02'] } },
    schedule: '0 10 * * 1',
    template: suite.tpl.group,
  });

  test('apply is versioned: dry run, create, unchanged, new version with the diff, audited', async () => {
    const f = file('weekly.json', weekly());
    expect((await sopApplyCommand({ file: f }, ctx())).output).toContain('dry run');
    expect((await sopApplyCommand({ file: f }, ctx(true))).output).toContain('version 1');
    expect((await sopApplyCommand({ file: f }, ctx(true))).output).toContain('unchanged');
    const v2 = { ...weekly(), audience: { groups: { branches: ['HZ01', 'HZ02'], purposes: ['网点客户维护'] } } };
    const out = (await sopApplyCommand({ file: file('weekly2.json', v2) }, ctx(true))).output!;
    expect(out).toContain('version 2');
    expect(out).toContain('audience.groups.purposes: undefined → ["网点客户维护"]');
    const audits = await suite.h.app.db.manager.find(AuditEntry, { where: { subject: 'sop:hz-weekly-salon' } });
    expect(audits.map((a) => a.action).sort()).toEqual(['sop.create', 'sop.update']);
  });

  test('an occurrence creates exactly the expected tasks once: two instances at the tick, then an operator rerun', async () => {
    suite.h.clock.now = MONDAY + 10 * HOUR + 2 * 60_000;
    const before = suite.h.fake.count('externalcontact/add_msg_template');
    const [a, b] = await Promise.all([runSopDelivery(deps('inst-a')), runSopDelivery(deps('inst-b'))]);
    expect(a.created + b.created).toBe(1);
    const rerun = await sopRunCommand({ id: 'hz-weekly-salon' }, ctx(true));
    expect(rerun.exitCode).toBe(0);
    await runSopDelivery(deps('inst-a'));

    const occ = await suite.h.app.db.manager.find(SopOccurrence, { where: { planId: 'hz-weekly-salon' } });
    expect(occ).toHaveLength(1);
    expect(occ[0]).toMatchObject({ version: 2, occurrenceKey: '2026-12-07T10:00', targets: 3, tasks: 3 });
    const tasks = await tasksOf('hz-weekly-salon');
    expect(tasks.map((t) => [t.senderUserid, t.kind, t.status, t.targets]).sort()).toEqual([
      ['li_hz01', 'group', 'open', 1],
      ['wang_hz01', 'group', 'open', 1],
      ['zhao_hz02', 'group', 'open', 1],
    ]);
    expect(suite.h.fake.count('externalcontact/add_msg_template') - before).toBe(3);
    const created = massTasks().filter((t) => t.chatType === 'group');
    expect(created.map((t) => [t.sender, t.targets.join()]).sort()).toEqual(
      GROUPS.filter((g) => g.branch !== 'SH01')
        .map((g) => [g.owner, g.chatId])
        .sort(),
    );
    expect(created[0].text).toContain('财富沙龙');
    // One app reminder per sender, saying what to send.
    const cards = suite.h.fake.messages.filter(
      (m) => m.msgtype === 'textcard' && m.content.includes('每周财富沙龙预告'),
    );
    expect(cards.map((m) => m.touser).sort()).toEqual(['li_hz01', 'wang_hz01', 'zhao_hz02']);
    expect(cards[0].content).toContain('客户群群发');
  });

  test('the manager confirms: completion is polled and status shows it sent per branch and sender', async () => {
    const wang = massTasks().find((t) => t.sender === 'wang_hz01' && t.chatType === 'group')!;
    suite.h.fake.massSend.confirm(wang.msgid);
    suite.h.clock.now += 11 * 60_000;
    await runSopDelivery(deps('inst-a'));
    const s = await planStatus(suite.h.app.db, 'hz-weekly-salon');
    const row = (u: string) => s.rows.find((r) => r.sender === u)!;
    expect(row('wang_hz01')).toMatchObject({ branch: 'HZ01', tasks: 1, sent: 1, notSent: 0, overCap: 0 });
    expect(row('li_hz01')).toMatchObject({ branch: 'HZ01', tasks: 1, sent: 0, notSent: 1, open: 1 });
    const cli = await sopStatusCommand({ id: 'hz-weekly-salon' }, ctx());
    expect(cli.output).toMatch(/HZ01\s+wang_hz01\s+1\s+0\s+1\s+1\s+1\s+0\s+0\s+0/);
    const t = await suite.h.app.db.manager.findOneByOrFail(SopTarget, { targetId: 'wr_g1' });
    expect(t.status).toBe(1);
  });

  test('laggards are reminded after SOP_REMIND_AFTER_HOURS, at most 3 times in 24 h', async () => {
    const li = massTasks().find((t) => t.sender === 'li_hz01' && t.chatType === 'group')!;
    for (let i = 0; i < 5; i++) {
      suite.h.clock.now += 4 * HOUR + 60_000;
      if (suite.h.clock.now > MONDAY + 20 * HOUR) suite.h.clock.now = MONDAY + 24 * HOUR + 9 * HOUR; // past the quiet hours
      await runSopDelivery(deps('inst-a'));
    }
    expect(li.reminders.length).toBeGreaterThanOrEqual(1);
    expect(li.reminders.length).toBeLessThanOrEqual(3);
    const task = (await tasksOf('hz-weekly-salon')).find((t) => t.senderUserid === 'li_hz01')!;
    const inDay = (task.remindTimes ?? []).filter((x) => x > suite.h.clock.now - 24 * HOUR);
    expect(inDay.length).toBeLessThanOrEqual(3);
    expect(
      suite.h.fake.calls.filter((c) => c.api === 'externalcontact/remind_groupmsg_send' && c.errcode === 41094),
    ).toHaveLength(0);
  });

  test('cancel cancels the open tasks in WeCom and releases their targets', async () => {
    const dry = await sopStatusChange('cancelled')({ id: 'hz-weekly-salon' }, ctx());
    expect(dry.output).toContain('2 open or pending task(s) would be cancelled');
    const r = await sopStatusChange('cancelled')({ id: 'hz-weekly-salon' }, ctx(true));
    expect(r.output).toContain('2 open or pending task(s) cancelled');
    const cancelled = massTasks()
      .filter((t) => t.chatType === 'group' && t.cancelled)
      .map((t) => t.sender);
    expect(cancelled.sort()).toEqual(['li_hz01', 'zhao_hz02']);
    const tasks = await tasksOf('hz-weekly-salon');
    expect(tasks.filter((t) => t.status === 'cancelled')).toHaveLength(2);
    const released = await suite.h.app.db.manager.findOneByOrFail(SopTarget, { targetId: 'wr_g2' });
    expect(released.status).toBe(4);
    await expect(sopRunCommand({ id: 'hz-weekly-salon' }, ctx(true))).rejects.toThrow(/cancelled/);
  });

  test('one-to-one: deleted customers never targeted; the cap holds across plans; quiet hours hold tasks', async () => {
    // Tuesday 22:00: inside the default quiet hours (21:00-08:00).
    suite.h.clock.now = MONDAY + 24 * HOUR + 21 * HOUR + 30 * 60_000;
    const plan = (id: string, template: number) => ({
      id,
      name: `一对一 ${id}`,
      channel: 'chat',
      audience: { customers: { segments: ['代发'], branches: ['HZ01', 'HZ02'] } },
      schedule: '0 21 * * *',
      template,
    });
    suite.h.clock.now -= 60 * 60_000; // apply at 21:00 before the tick … the tick is 21:00
    await sopApplyCommand({ file: file('p1.json', plan('bind-card', suite.tpl.chat)) }, ctx(true));
    await sopApplyCommand({ file: file('p2.json', plan('mobile-bank', suite.tpl.chat2)) }, ctx(true));
    suite.h.clock.now += 60 * 60_000;
    const quiet = await runSopDelivery(deps('inst-a'));
    expect(quiet.quiet).toBe(true);
    expect(quiet.dispatched).toBe(0);
    const p1 = await suite.h.app.db.manager.findOneByOrFail(SopOccurrence, { planId: 'bind-card' });
    const p2 = await suite.h.app.db.manager.findOneByOrFail(SopOccurrence, { planId: 'mobile-bank' });
    const expected = CUSTOMERS.filter((c) => c.segment === '代发' && c.userid !== 'chen_sh01').map((c) => c.ext);
    // Whichever plan was planned first took the day's one message per customer; the other is capped.
    const [first, second] = p1.id < p2.id ? [p1, p2] : [p2, p1];
    expect(first).toMatchObject({ targets: expected.length, skippedDeleted: 1 });
    expect(second).toMatchObject({ targets: 0, skippedCap: expected.length, tasks: 0 });
    const targets = await suite.h.app.db.manager.find(SopTarget, { where: { occurrenceId: first.id } });
    expect(targets.map((t) => t.targetId).sort()).toEqual(expected.sort());
    expect(targets.map((t) => t.targetId)).not.toContain(DELETED.ext);
    expect(await suite.h.app.db.manager.count(SopTask, { where: { occurrenceId: first.id, status: 'open' } })).toBe(0);

    // 08:01 Wednesday: the quiet hours are over, the tasks go out (one per serving manager).
    suite.h.clock.now = MONDAY + 2 * 24 * HOUR + 8 * HOUR + 60_000;
    const morning = await runSopDelivery(deps('inst-b'));
    expect(morning.dispatched).toBe(3);
    const singles = massTasks().filter((t) => t.chatType === 'single');
    expect(singles.flatMap((t) => t.targets).sort()).toEqual(expected.sort());
    // The manager confirms: the sends are recorded per customer.
    const wang = singles.find((t) => t.sender === 'wang_hz01')!;
    suite.h.fake.massSend.confirm(wang.msgid);
    suite.h.clock.now += 11 * 60_000;
    await runSopDelivery(deps('inst-a'));
    const s = await planStatus(suite.h.app.db, first.planId);
    expect(s.rows.find((r) => r.sender === 'wang_hz01')).toMatchObject({ sent: 1, overCap: 0 });
  });
});
