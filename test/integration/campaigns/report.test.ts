import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { campaignsApplyCommand, campaignsQrCommand, campaignsReportCommand } from '../../../scripts/commands/campaigns';
import { makeContext } from '../../../scripts/commands/context';
import { CampaignEnrollment, RewardOutbox } from '../../../server/db/entities';
import type { CampaignReport } from '../../../server/reports/campaigns';
import { simulateAddContact, simulateCustomerDeletesManager } from '../../../server/sandbox/simulator';
import { DB_TARGETS } from '../../helpers/db';
import { type Harness, harness } from '../contacts/harness';

const DAY = 86_400_000;
/** 2026-03-15 12:00 in China: day boundaries are far from every seeded time. */
const AS_OF = Date.parse('2026-03-15T12:00:00+08:00');

describe.each(DB_TARGETS)('campaign report on %s', (target) => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'campaign-report-'));
  const ctx = (apply = false) =>
    makeContext({ db: h.app.db, config: h.app.config, now: () => h.clock.now, apply, wecom: async () => h.app.wecom });
  const apply = async (spec: object) => {
    const p = join(dir, `${(spec as { code: string }).code}.json`);
    writeFileSync(p, JSON.stringify(spec));
    await campaignsApplyCommand({ file: p }, ctx(true));
  };

  beforeAll(async () => {
    h = await harness(target);
    h.clock.now = AS_OF;
    await apply({
      code: 'rpt',
      name: '报表活动',
      startsAt: AS_OF - 40 * DAY,
      endsAt: AS_OF + 10 * DAY,
      reward: { kind: 'voucher', amount: 10 },
      churnFlagDays: 7,
    });
    // [contact, manager, branch, channel, eligible/reason, added days ago, parted after days, by, reward]
    const seed: [string, string, string, string, string, number, number | null, string | null, string | null][] = [
      ['e1', 'li_hz01', 'HZ01', 'entry', 'eligible', 35, null, null, 'sent'],
      ['e2', 'li_hz01', 'HZ01', 'entry', 'eligible', 35, 3, 'customer', 'sent'],
      ['e3', 'wang_hz01', 'HZ01', 'qr', 'eligible', 35, 10, 'customer', 'dead'],
      ['e4', 'zhao_hz02', 'HZ02', 'qr', 'eligible', 20, 2, 'manager', 'sent'],
      ['e5', 'zhao_hz02', 'HZ02', 'qr', 'eligible', 2, null, null, 'pending'],
      ['e6', 'chen_sh01', 'SH01', 'qr', 'existing_customer', 20, 1, 'customer', null],
      ['e7', 'li_hz01', 'HZ01', 'entry', 'corp_member', 35, null, null, null],
    ];
    for (const [ext, userid, branch, channel, reason, ago, parted, by, reward] of seed) {
      const addedAt = AS_OF - ago * DAY;
      await h.app.db.manager.insert(CampaignEnrollment, {
        campaignCode: 'rpt',
        externalUserid: ext,
        unionid: null,
        userid,
        branchCode: branch,
        customerId: null,
        channel: channel as 'entry' | 'qr',
        eligible: reason === 'eligible',
        reason,
        addedAt,
        decidedAt: addedAt,
        deletedAt: parted === null ? null : addedAt + parted * DAY,
        deletedBy: by as 'customer' | 'manager' | null,
      });
      if (reward)
        await h.app.db.manager.insert(RewardOutbox, {
          idempotencyKey: `campaign:rpt:${ext}`,
          campaignCode: 'rpt',
          externalUserid: ext,
          body: '{}',
          status: reward as 'sent',
          attempts: 1,
          nextAttemptAt: addedAt,
          lockedBy: null,
          lockedUntil: null,
          httpStatus: null,
          lastError: null,
          createdAt: addedAt,
          sentAt: null,
          updatedAt: addedAt,
        });
    }
  });
  afterAll(async () => h.close());

  test('adds by day, branch and channel; rewards; 7/30-day retention; flagged customers (exact)', async () => {
    const res = await campaignsReportCommand({ code: 'rpt', format: 'json' }, ctx());
    const r = res.json as CampaignReport;
    expect(r.total).toEqual({
      adds: 7,
      eligible: 5,
      rewardsSent: 3,
      rewardsFailed: 1,
      rewardsPending: 1,
      // e1..e4 are ≥ 7 days old; e1 and e3 (parted after 10 days) kept the manager 7 days.
      cohort7: 4,
      retained7: 2,
      retention7: 0.5,
      // e1..e3 are ≥ 30 days old; only e1 never parted.
      cohort30: 3,
      retained30: 1,
      retention30: 1 / 3,
      // e2 deleted the manager after 3 days; e3 after 10 (> 7); e4 was deleted by the manager; e6 is not eligible.
      flagged: 1,
    });
    expect(r.ineligible).toEqual({ corp_member: 1, existing_customer: 1 });
    expect(r.byDay.map((d) => [d.key, d.adds, d.eligible])).toEqual([
      ['2026-02-08', 4, 3],
      ['2026-02-23', 2, 1],
      ['2026-03-13', 1, 1],
    ]);
    expect(
      r.byBranch.map((b) => [b.key, b.adds, b.eligible, b.rewardsSent, b.rewardsFailed, b.rewardsPending]),
    ).toEqual([
      ['HZ01', 4, 3, 2, 1, 0],
      ['HZ02', 2, 2, 1, 0, 1],
      ['SH01', 1, 0, 0, 0, 0],
    ]);
    const hz01 = r.byBranch[0];
    expect([hz01.cohort7, hz01.retained7, hz01.cohort30, hz01.retained30, hz01.flagged]).toEqual([3, 2, 3, 1, 1]);
    const hz02 = r.byBranch[1];
    expect([hz02.cohort7, hz02.retained7, hz02.retention7, hz02.cohort30, hz02.retention30]).toEqual([
      1,
      0,
      0,
      0,
      null,
    ]);
    expect(r.byChannel.map((c) => [c.key, c.adds, c.eligible, c.rewardsSent])).toEqual([
      ['entry', 3, 2, 2],
      ['qr', 4, 3, 1],
    ]);
    expect(r.flaggedCustomers).toEqual([
      {
        externalUserid: 'e2',
        customerId: null,
        userid: 'li_hz01',
        branch: 'HZ01',
        addedAt: AS_OF - 35 * DAY,
        deletedAt: AS_OF - 32 * DAY,
        afterDays: 3,
      },
    ]);

    const table = (await campaignsReportCommand({ code: 'rpt' }, ctx())).output as string;
    expect(table).toContain('50.0% (2/4)');
    expect(table).toContain('33.3% (1/3)');
    expect(table).toMatch(/not eligible: corp_member 1, existing_customer 1/);
    expect(table).toMatch(/flagged: deleted the manager within 7 days \(1\)/);
  });

  test('CSV through the shared writer: a row per day, branch, channel, the total and each flagged customer', async () => {
    const out = join(dir, 'rpt.csv');
    await campaignsReportCommand({ code: 'rpt', format: 'csv', out }, ctx());
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith('\ufeff')).toBe(true);
    const rows = parse(text.slice(1)) as string[][];
    const header = rows[0];
    const get = (section: string, key: string) => {
      const row = rows.find((x) => x[0] === section && x[1] === key);
      if (!row) throw new Error(`no ${section} ${key}`);
      return Object.fromEntries(header.map((k, i) => [k, row[i]]));
    };
    expect(rows).toHaveLength(1 + 1 + 3 + 3 + 2 + 1);
    expect(get('total', 'rpt')).toMatchObject({
      adds: '7',
      eligible: '5',
      rewards_sent: '3',
      rewards_failed: '1',
      rewards_pending: '1',
      retention_7d: '0.5',
      retention_30d: '0.3333',
      flagged: '1',
    });
    expect(get('branch', 'HZ02')).toMatchObject({ adds: '2', retention_7d: '0', retention_30d: '' });
    expect(get('flagged', 'e2')).toMatchObject({ manager: 'li_hz01', branch: 'HZ01', flagged: '1' });
  });

  test('the delete handlers record the first parting on the enrollment; a re-add keeps the flag', async () => {
    // Events flow at the wall clock (the inbox worker's leases); minutes apart, not days.
    h.clock.now = Date.now();
    await apply({
      code: 'live',
      name: '进行中',
      startsAt: h.clock.now - DAY,
      endsAt: h.clock.now + 30 * DAY,
      reward: { kind: 'voucher', amount: 5 },
      churnFlagDays: 3,
    });
    const qr = await campaignsQrCommand({ code: 'live', manager: 'li_hz01' }, ctx(true));
    const state = (qr.json as { codes: { state: string }[] }).codes[0].state;
    const a = await simulateAddContact(h.app, { userid: 'li_hz01', state });
    await h.settle();
    const b = await simulateAddContact(h.app, { userid: 'li_hz01', state });
    await h.settle();
    h.clock.now += 120_000;
    for (const ext of [a.externalUserId!, b.externalUserId!]) {
      await simulateCustomerDeletesManager(h.app, { userid: 'li_hz01', externalUserId: ext });
      await h.settle();
    }
    // a comes back; b never does.
    h.clock.now += 60_000;
    await simulateAddContact(h.app, { userid: 'li_hz01', externalUserId: a.externalUserId!, state });
    await h.settle();
    const ea = await h.app.db.manager.findOneByOrFail(CampaignEnrollment, {
      campaignCode: 'live',
      externalUserid: a.externalUserId!,
    });
    expect(ea.deletedBy).toBe('customer');
    expect(Number(ea.deletedAt) - Number(ea.addedAt)).toBeGreaterThanOrEqual(60_000);
    expect(Number(ea.deletedAt) - Number(ea.addedAt)).toBeLessThanOrEqual(180_000);
    const r = (await campaignsReportCommand({ code: 'live', format: 'json' }, ctx())).json as CampaignReport;
    expect(r.total).toMatchObject({ adds: 2, eligible: 2, rewardsPending: 2, flagged: 2, cohort7: 0 });
    expect(r.flaggedCustomers.map((f) => f.externalUserid).sort()).toEqual(
      [a.externalUserId!, b.externalUserId!].sort(),
    );
    expect(r.byChannel.map((c) => c.key)).toEqual(['qr']);
  });

  test('an unknown campaign is a usage error', async () => {
    await expect(campaignsReportCommand({ code: 'nope' }, ctx())).rejects.toThrow(/no campaign nope/);
  });
});
