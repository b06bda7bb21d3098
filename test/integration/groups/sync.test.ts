import { AuditEntry, CustomerGroup, CustomerGroupMember, CustomerGroupStat } from '../../../server/db/entities';
import { activeMembers } from '../../../server/groups/repo';
import { cstDay, fetchGroupStats, syncGroups } from '../../../server/groups/sync';
import { deliverCallback, simulateGroupMembers } from '../../../server/sandbox/simulator';
import type { WecomApi } from '../../../server/wecom/api-types';
import { DB_TARGETS } from '../../helpers/db';
import { type Harness, harness } from '../contacts/harness';

const DAY = 86_400_000;

describe.each(DB_TARGETS)('customer groups on %s', (target) => {
  let h: Harness;
  let wecom: WecomApi;
  let chatId: string;
  const group = () => h.app.db.manager.findOneByOrFail(CustomerGroup, { chatId });
  const open = async () => (await activeMembers(h.app.db, chatId)).map((m) => m.memberId).sort();
  const gets = () => h.fake.count('externalcontact/groupchat/get');

  beforeAll(async () => {
    h = await harness(target);
    wecom = h.app.wecom;
    const g = h.fake.createGroup('wang_hz01', '西湖支行客户维护群');
    chatId = g.chat_id;
    h.clock.now += 60_000;
    h.fake.joinGroup(chatId, ['li_hz01'], 1);
    h.fake.joinGroup(chatId, ['wm_cust_a', 'wm_cust_b'], 2);
  });
  afterAll(async () => h.close());

  test('sync: a dry run writes nothing; --apply stores the group with the owner branch and every member', async () => {
    const dry = await syncGroups(h.app.db, wecom, { now: h.clock.now, apply: false, actor: 'test' });
    // The fake also holds the demo corp's groups; only groups of managers in this DB are listed.
    expect(dry).toMatchObject({ groups: 1, newGroups: 1, joins: 4, quits: 0 });
    expect(await h.app.db.manager.count(CustomerGroup)).toBe(0);

    const done = await syncGroups(h.app.db, wecom, { now: h.clock.now, apply: true, actor: 'test' });
    expect(done).toMatchObject({ groups: 1, newGroups: 1, joins: 4 });
    const g = await group();
    expect(g).toMatchObject({ ownerUserid: 'wang_hz01', branchCode: 'HZ01', memberCount: 4, customerCount: 2 });
    expect(g.memberVersion).toBe(h.fake.groups.get(chatId)!.member_version);
    const rows = await h.app.db.manager.findBy(CustomerGroupMember, { chatId });
    const byId = new Map(rows.map((r) => [r.memberId, r]));
    expect(byId.get('wang_hz01')).toMatchObject({ memberType: 1, joinScene: 'invited' });
    expect(byId.get('wm_cust_a')).toMatchObject({ memberType: 2, joinScene: 'link', quitAt: null });

    // Again: nothing changes.
    const again = await syncGroups(h.app.db, wecom, { now: h.clock.now, apply: true, actor: 'test' });
    expect(again).toMatchObject({ newGroups: 0, changedGroups: 0, joins: 0, quits: 0 });
  });

  test('events with matching member versions are applied as deltas, once, without re-reading', async () => {
    const before = gets();
    h.clock.now += 60_000;
    const join = await simulateGroupMembers(h.app, { chatId, action: 'join', ids: ['wm_cust_c'], scene: 3 });
    expect(join.status).toBe(200);
    await h.settle();
    expect(await open()).toEqual(['li_hz01', 'wang_hz01', 'wm_cust_a', 'wm_cust_b', 'wm_cust_c']);
    const spell = await h.app.db.manager.findOneByOrFail(CustomerGroupMember, { chatId, memberId: 'wm_cust_c' });
    expect(spell).toMatchObject({
      joinScene: 'qrcode',
      memberType: 2,
      joinedAt: Math.floor(h.clock.now / 1000) * 1000,
    });
    expect((await group()).memberVersion).toBe(h.fake.groups.get(chatId)!.member_version);

    // WeCom redelivers it (a new inbox row): the stored version already equals CurMemVer.
    await deliverCallback(h.app, join.plaintext.replace('<xml>', '<xml>\n'));
    await h.settle();
    expect(await h.app.db.manager.countBy(CustomerGroupMember, { chatId, memberId: 'wm_cust_c' })).toBe(1);

    h.clock.now += 60_000;
    await simulateGroupMembers(h.app, { chatId, action: 'quit', ids: ['wm_cust_a'], quitScene: 1 });
    await h.settle();
    const quit = await h.app.db.manager.findOneByOrFail(CustomerGroupMember, { chatId, memberId: 'wm_cust_a' });
    expect(quit).toMatchObject({ quitScene: 'removed', quitAt: Math.floor(h.clock.now / 1000) * 1000 });
    expect(await group()).toMatchObject({ memberCount: 4, customerCount: 2 });
    expect(gets()).toBe(before);
  });

  test('a lost event is detected by the version gap and repaired by one re-read', async () => {
    const before = gets();
    h.clock.now += 60_000;
    // This callback never arrives.
    await simulateGroupMembers(h.app, { chatId, action: 'join', ids: ['wm_cust_lost'], scene: 2, deliver: false });
    h.clock.now += 60_000;
    await simulateGroupMembers(h.app, { chatId, action: 'quit', ids: ['wm_cust_b'], quitScene: 0 });
    await h.settle();
    expect(gets()).toBe(before + 1);
    expect(await open()).toEqual(['li_hz01', 'wang_hz01', 'wm_cust_c', 'wm_cust_lost']);
    const lost = await h.app.db.manager.findOneByOrFail(CustomerGroupMember, { chatId, memberId: 'wm_cust_lost' });
    // From groupchat/get: its own join time and scene code (2 = invite link).
    expect(lost).toMatchObject({ joinScene: 'link', memberType: 2 });
    // The quit the event named keeps its scene even though the re-read found it.
    expect(
      await h.app.db.manager.findOneByOrFail(CustomerGroupMember, { chatId, memberId: 'wm_cust_b' }),
    ).toMatchObject({
      quitScene: 'self',
    });
    expect((await group()).memberVersion).toBe(h.fake.groups.get(chatId)!.member_version);
    const repaired = await h.app.db.manager.findBy(AuditEntry, { action: 'group.resync', subject: `group:${chatId}` });
    expect(repaired).toHaveLength(1);
  });

  test('reordered events: the later one re-reads, the stale one changes nothing', async () => {
    h.clock.now += 60_000;
    const first = await simulateGroupMembers(h.app, {
      chatId,
      action: 'join',
      ids: ['wm_cust_d'],
      deliver: false,
    });
    h.clock.now += 60_000;
    const second = await simulateGroupMembers(h.app, { chatId, action: 'quit', ids: ['wm_cust_d'], deliver: false });
    await deliverCallback(h.app, second.plaintext);
    await h.settle();
    await deliverCallback(h.app, first.plaintext);
    await h.settle();
    // d joined and left: no open spell. A stale join must not reopen it.
    expect(await open()).toEqual(['li_hz01', 'wang_hz01', 'wm_cust_c', 'wm_cust_lost']);
    expect((await group()).memberVersion).toBe(h.fake.groups.get(chatId)!.member_version);
  });

  test('daily statistics per owner are kept as history; a refetch updates, never duplicates', async () => {
    const res = await fetchGroupStats(h.app.db, wecom, { now: h.clock.now, days: 3 });
    expect(res).toMatchObject({ owners: 1, rows: 3, failed: 0 });
    const again = await fetchGroupStats(h.app.db, wecom, { now: h.clock.now, days: 3 });
    expect(again.rows).toBe(3);
    const rows = await h.app.db.manager.find(CustomerGroupStat, { order: { day: 'ASC' } });
    expect(rows.map((r) => r.ownerUserid)).toEqual(['wang_hz01', 'wang_hz01', 'wang_hz01']);
    expect(rows[2].day).toBe(cstDay(Math.floor((h.clock.now - DAY) / 1000)));
    expect(h.fake.calls.filter((c) => c.api === 'externalcontact/groupchat/statistic_group_by_day').length).toBe(2);
  });

  test('dismiss closes every open spell', async () => {
    h.clock.now += 60_000;
    h.fake.dismissGroup(chatId);
    const { eventXml } = await import('../../../server/sandbox/event-xml');
    const xml = eventXml(h.fake.corpId, Math.floor(h.clock.now / 1000), 'change_external_chat', 'dismiss', [
      ['ChatId', chatId],
    ]);
    await deliverCallback(h.app, xml);
    await h.settle();
    expect(await open()).toEqual([]);
    expect((await group()).dismissedAt).toBe(Math.floor(h.clock.now / 1000) * 1000);
  });
});

describe.each(DB_TARGETS)('groups CLI and report on %s', (target) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(target);
  });
  afterAll(async () => h.close());

  test('sync --apply, set-purpose (validated, audited), list --branch, report --view groups with its definition', async () => {
    const { makeContext } = await import('../../../scripts/commands/context');
    const cmds = await import('../../../scripts/commands/groups');
    const { reportCommand } = await import('../../../scripts/commands/report');
    const base = { db: h.app.db, config: h.app.config, now: () => h.clock.now, wecom: async () => h.app.wecom };
    const start = h.clock.now;
    const g = h.fake.createGroup('zhao_hz02', '钱江支行客户群');
    h.fake.joinGroup(g.chat_id, ['wm_r1', 'wm_r2', 'wm_r3', 'wm_r4'], 3);

    const dry = await cmds.groupsSyncCommand({}, makeContext(base));
    expect(dry.output).toContain('dry run');
    expect(await h.app.db.manager.count(CustomerGroup)).toBe(0);
    const applied = await cmds.groupsSyncCommand({}, makeContext({ ...base, apply: true }));
    expect(applied.exitCode).toBe(0);

    await expect(
      cmds.groupsSetPurposeCommand(
        { chatId: g.chat_id, purpose: 'bad purpose!' },
        makeContext({ ...base, apply: true }),
      ),
    ).rejects.toThrow(/purpose must be/);
    await expect(
      cmds.groupsSetPurposeCommand({ chatId: 'wr_nope', purpose: 'salon' }, makeContext({ ...base, apply: true })),
    ).rejects.toThrow(/no customer group/);
    await cmds.groupsSetPurposeCommand({ chatId: g.chat_id, purpose: '网点客户维护' }, makeContext(base));
    expect((await h.app.db.manager.findOneByOrFail(CustomerGroup, { chatId: g.chat_id })).purpose).toBeNull();
    await cmds.groupsSetPurposeCommand(
      { chatId: g.chat_id, purpose: '网点客户维护' },
      makeContext({ ...base, apply: true }),
    );
    expect((await h.app.db.manager.findOneByOrFail(CustomerGroup, { chatId: g.chat_id })).purpose).toBe('网点客户维护');
    expect(await h.app.db.manager.countBy(AuditEntry, { action: 'group.purpose' })).toBe(1);

    const listed = await cmds.groupsListCommand({ branch: 'HZ02' }, makeContext(base));
    expect((listed.json as CustomerGroup[]).map((x) => x.chatId)).toEqual([g.chat_id]);
    expect((await cmds.groupsListCommand({ branch: 'HZ01' }, makeContext(base))).json).toEqual([]);
    await expect(cmds.groupsListCommand({ branch: 'NOPE' }, makeContext(base))).rejects.toThrow(/not a known branch/);

    // A day later one of four customers leaves; statistics for that day are fetched.
    h.clock.now = start + DAY;
    await simulateGroupMembers(h.app, { chatId: g.chat_id, action: 'quit', ids: ['wm_r1'] });
    await h.settle();
    h.clock.now = start + 2 * DAY;
    await fetchGroupStats(h.app.db, h.app.wecom, { now: h.clock.now, days: 2 });
    const stats = await h.app.db.manager.findBy(CustomerGroupStat, { ownerUserid: 'zhao_hz02' });
    const act = stats.reduce((s, r) => s + r.memberHasMsg, 0) / stats.reduce((s, r) => s + r.memberTotal, 0);

    const rep = await reportCommand(
      { view: 'groups', by: 'branch', from: String(start - DAY), to: String(h.clock.now) },
      makeContext(base),
    );
    const json = rep.json as import('../../../server/reports/groups').GroupReport;
    expect(json.rows).toHaveLength(1);
    expect(json.rows[0]).toMatchObject({ key: 'HZ02', groups: 1, members: 3, joins: 4, quits: 1 });
    expect(json.total.churnRate).toBeCloseTo(1 / 4);
    expect(json.total.activity).toBeCloseTo(act);
    expect(rep.exitCode).toBe(1); // 25 % churn misses the 10 % target
    expect(rep.output).toContain('definition: activity = members who sent at least one message');
    expect(rep.output).toContain('MISSED: group churn 25.0%');
    const csv = await reportCommand(
      { view: 'groups', by: 'manager', format: 'csv', from: String(start - DAY), to: String(h.clock.now) },
      makeContext(base),
    );
    expect(String(csv.output).split('\n')[1]).toMatch(/^zhao_hz02,赵经理 \(zhao_hz02\),1,3,0,4,1,0.25,/);
  });
});
