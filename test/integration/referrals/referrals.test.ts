import { makeContext } from '../../../scripts/commands/context';
import { referralsCreateCommand, referralsReportCommand } from '../../../scripts/commands/referrals';
import { ContactWay, Referral, ReferralCode, RewardOutbox } from '../../../server/db/entities';
import { runJobNow } from '../../../server/jobs/plugin';
import { createReferralCode, type ReferrerRank, rewardStayedReferrals } from '../../../server/referrals/service';
import { simulateAddContact, simulateCustomerDeletesManager } from '../../../server/sandbox/simulator';
import { DB_TARGETS } from '../../helpers/db';
import { type Harness, harness } from '../contacts/harness';
import { type SidebarTestApp, startSidebarApp } from '../sidebar/helpers';

const DAY = 86_400_000;

describe.each(DB_TARGETS)('referrals (MGM) on %s', (target) => {
  describe('CLI code → adds → stay → one reward → ranking', () => {
    let h: Harness;
    const ctx = (apply = false) =>
      makeContext({
        db: h.app.db,
        config: h.app.config,
        now: () => h.clock.now,
        apply,
        wecom: async () => h.app.wecom,
      });
    beforeAll(async () => {
      h = await harness(target, { REFERRAL_STAY_DAYS: '30', REFERRAL_REWARD_AMOUNT: '50' });
    });
    afterAll(async () => h.close());

    test('an unguessable state within 30 characters, one code per referrer and manager, attribution, exactly one reward', async () => {
      const t0 = h.clock.now;
      expect((await referralsCreateCommand({ customerId: 'C001' }, ctx())).output).toContain('dry run');
      expect(await h.app.db.manager.count(ReferralCode)).toBe(0);
      const made = (await referralsCreateCommand({ customerId: 'C001' }, ctx(true))).json as {
        state: string;
        qrCode: string;
        userid: string;
        created: boolean;
      };
      // C001's owner is zhao_hz02 (HZ02).
      expect(made).toMatchObject({ userid: 'zhao_hz02', created: true });
      expect(made.state).toMatch(/^rf[A-Za-z0-9_-]{22}$/);
      expect(made.state.length).toBeLessThanOrEqual(30);
      expect(made.state).not.toContain('C001');
      expect(made.qrCode).toBeTruthy();
      const again = (await referralsCreateCommand({ customerId: 'C001' }, ctx(true))).json as { state: string };
      expect(again).toMatchObject({ state: made.state, created: false });
      expect(await h.app.db.manager.findOneByOrFail(ContactWay, { state: made.state })).toMatchObject({
        purpose: 'referral',
        campaign: null,
        userid: 'zhao_hz02',
      });
      await expect(referralsCreateCommand({ customerId: 'NOPE' }, ctx(true))).rejects.toThrow(/no customer NOPE/);

      // A: a new customer through the code; the add is delivered twice.
      const a = await simulateAddContact(h.app, { userid: 'zhao_hz02', state: made.state });
      await h.settle();
      await simulateAddContact(h.app, { userid: 'zhao_hz02', externalUserId: a.externalUserId!, state: made.state });
      await h.settle();
      // B: a new customer who deletes the manager a minute later: attributed, never rewarded.
      const b = await simulateAddContact(h.app, { userid: 'zhao_hz02', state: made.state });
      await h.settle();
      h.clock.now += 60_000;
      await simulateCustomerDeletesManager(h.app, { userid: 'zhao_hz02', externalUserId: b.externalUserId! });
      await h.settle();
      // K: someone who already followed another manager: attributed, not a new customer.
      const k = await simulateAddContact(h.app, { userid: 'li_hz01' });
      await h.settle();
      h.clock.now += 60_000;
      await simulateAddContact(h.app, { userid: 'zhao_hz02', externalUserId: k.externalUserId!, state: made.state });
      await h.settle();
      // A customer scanning their own code (made in the sidebar for their contact S).
      const sAdd = await simulateAddContact(h.app, { userid: 'li_hz01' });
      await h.settle();
      const self = await createReferralCode(h.app.db, h.app.wecom, {
        referrer: { externalUserid: sAdd.externalUserId!, customerId: null },
        userid: 'li_hz01',
        actor: 'test',
        now: h.clock.now,
      });
      h.clock.now += 60_000;
      await simulateAddContact(h.app, { userid: 'li_hz01', externalUserId: sAdd.externalUserId!, state: self.state });
      await h.settle();

      // U: one WeChat user (one unionid) through C002's code, then back under a second external_userid.
      const c2 = (await referralsCreateCommand({ customerId: 'C002', manager: 'li_hz01' }, ctx(true))).json as {
        state: string;
      };
      for (const id of ['wmunionref00000000000000000A', 'wmunionref00000000000000000B']) {
        h.fake.contacts.set(id, { external_userid: id, name: '客户', type: 1, gender: 0, unionid: 'oUnion-ref' });
        await simulateAddContact(h.app, { userid: 'li_hz01', externalUserId: id, state: c2.state });
        await h.settle();
      }

      const referrals = await h.app.db.manager.find(Referral, { order: { id: 'ASC' } });
      expect(referrals.map((r) => [r.referredExternalUserid, r.reason, r.referrerCustomerId])).toEqual([
        [a.externalUserId, 'eligible', 'C001'],
        [b.externalUserId, 'eligible', 'C001'],
        [k.externalUserId, 'existing_contact', 'C001'],
        [sAdd.externalUserId, 'self', null],
        ['wmunionref00000000000000000A', 'eligible', 'C002'],
      ]);
      expect(referrals[1].deletedAt).not.toBeNull();
      expect(referrals.map((r) => r.branchCode)).toEqual(['HZ02', 'HZ02', 'HZ02', 'HZ01', 'HZ01']);

      // Before the stay: nothing. After it: A and U, once each, even with two runs side by side.
      h.clock.now = t0 + 29 * DAY;
      expect((await runJobNow(h.app, 'referral-rewards')).result).toEqual({ rewarded: 0, skipped: 0 });
      h.clock.now = t0 + 31 * DAY;
      const cfg = { now: h.clock.now, stayDays: 30, rewardKind: 'voucher', rewardAmount: 50 };
      // Two runs as two instances would: side by side on MariaDB; one after the other on SQLite
      // (one connection: a second transaction can't start inside the first, as with one process).
      const [r1, r2] =
        target === 'mariadb'
          ? await Promise.all([rewardStayedReferrals(h.app.db, cfg), rewardStayedReferrals(h.app.db, cfg)])
          : [await rewardStayedReferrals(h.app.db, cfg), await rewardStayedReferrals(h.app.db, cfg)];
      expect(r1.rewarded + r2.rewarded).toBe(2);
      expect((await runJobNow(h.app, 'referral-rewards')).result).toEqual({ rewarded: 0, skipped: 0 });
      const outbox = await h.app.db.manager.find(RewardOutbox, {
        where: { campaignCode: 'referral' },
        order: { id: 'ASC' },
      });
      expect(outbox.map((o) => o.idempotencyKey).sort()).toEqual(
        [`referral:${a.externalUserId}`, 'referral:wmunionref00000000000000000A'].sort(),
      );
      const aRow = outbox.find((o) => o.idempotencyKey === `referral:${a.externalUserId}`);
      expect(JSON.parse(aRow!.body)).toMatchObject({
        type: 'referral',
        reward: { kind: 'voucher', amount: 50 },
        referrer: { customerId: 'C001' },
        customer: { externalUserid: a.externalUserId },
        manager: { userid: 'zhao_hz02' },
        branch: { code: 'HZ02' },
      });

      // The same outbox delivers it, signed; the sandbox bank accepts it once.
      await runJobNow(h.app, 'reward-delivery');
      await runJobNow(h.app, 'reward-delivery');
      expect((await h.app.db.manager.findBy(RewardOutbox, { campaignCode: 'referral' })).map((o) => o.status)).toEqual([
        'sent',
        'sent',
      ]);
      const got = h.app.sandbox!.rewards.received.filter((x) => x.key === `referral:${a.externalUserId}`);
      expect(got.map((x) => x.outcome)).toEqual(['accepted']);

      // The ranking by branch.
      const ranks = (await referralsReportCommand({ format: 'json' }, ctx())).json as ReferrerRank[];
      expect(ranks).toEqual([
        { branch: 'HZ01', rank: 1, referrer: 'C002', referred: 1, eligible: 1, parted: 0, rewarded: 1 },
        { branch: 'HZ01', rank: 2, referrer: sAdd.externalUserId, referred: 1, eligible: 0, parted: 0, rewarded: 0 },
        { branch: 'HZ02', rank: 1, referrer: 'C001', referred: 3, eligible: 2, parted: 1, rewarded: 1 },
      ]);
      const csv = (await referralsReportCommand({ format: 'csv' }, ctx())).output as string;
      expect(csv.split('\n')[3]).toBe('HZ02,1,C001,3,2,1,1');
    }, 120_000);
  });

  describe('sidebar 生成推荐码', () => {
    let t: SidebarTestApp;
    const cookies: Record<string, string> = {};
    beforeAll(async () => {
      t = await startSidebarApp(target);
      for (const u of ['lilei', 'zhang', 'op1']) cookies[u] = await t.login(u);
    });
    afterAll(async () => t.close());

    test('a code for the customer on the card, adding the manager; the same code when asked again; others refused', async () => {
      const res = await t.post('/api/sidebar/customers/wmA/referral-code', {}, cookies.lilei);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { qrCode: string; created: boolean };
      expect(body.created).toBe(true);
      expect(body.qrCode).toBeTruthy();
      const code = await t.db.manager.findOneByOrFail(ReferralCode, { referrerExternalUserid: 'wmA' });
      expect(code).toMatchObject({
        userid: 'lilei',
        referrerCustomerId: 'C001',
        branchCode: 'B001',
        qrCode: body.qrCode,
      });
      const way = [...t.far.fake.contactWays.values()].find((w) => w.state === code.state);
      expect(way?.user).toEqual(['lilei']);

      const again = await t.post('/api/sidebar/customers/wmA/referral-code', {}, cookies.lilei);
      expect(again.json()).toEqual({ qrCode: body.qrCode, created: false });
      expect(await t.db.manager.countBy(ReferralCode, { referrerExternalUserid: 'wmA' })).toBe(1);

      // zhang (another branch) does not serve wmA; an operator sees no customers; no session at all.
      const other = await t.post('/api/sidebar/customers/wmA/referral-code', {}, cookies.zhang);
      expect(other.statusCode).toBe(403);
      expect(other.json().error.code).toBe('forbidden_customer');
      expect((await t.post('/api/sidebar/customers/wmA/referral-code', {}, cookies.op1)).statusCode).toBe(403);
      expect((await t.post('/api/sidebar/customers/wmA/referral-code', {})).statusCode).toBe(401);
      expect(await t.db.manager.countBy(ReferralCode, {})).toBe(1);
    });
  });
});
