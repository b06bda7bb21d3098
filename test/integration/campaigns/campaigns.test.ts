import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  campaignsApplyCommand,
  campaignsQrCommand,
  campaignsReplayCommand,
  campaignsRewardsCommand,
} from '../../../scripts/commands/campaigns';
import { makeContext } from '../../../scripts/commands/context';
import { claimDueRewards } from '../../../server/campaigns/repo';
import { signReward, verifyRewardSignature } from '../../../server/campaigns/signature';
import { CampaignEnrollment, ContactWay, CorpTag, RewardOutbox } from '../../../server/db/entities';
import { runJobNow } from '../../../server/jobs/plugin';
import { deliverCallback, simulateAddContact, simulateCustomerDeletesManager } from '../../../server/sandbox/simulator';
import { DB_TARGETS } from '../../helpers/db';
import { HZ_WEST } from '../allocation/seed';
import { type Harness, harness } from '../contacts/harness';

const DAY = 86_400_000;

describe.each(DB_TARGETS)('campaigns on %s', (target) => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'campaign-'));
  const ctx = (apply = false) =>
    makeContext({ db: h.app.db, config: h.app.config, now: () => h.clock.now, apply, wecom: async () => h.app.wecom });
  const file = (name: string, body: object) => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(body));
    return p;
  };
  const enrollment = (ext: string, code = 'spring-ljj') =>
    h.app.db.manager.findOneBy(CampaignEnrollment, { campaignCode: code, externalUserid: ext });
  const deliver = () => runJobNow(h.app, 'reward-delivery');

  beforeAll(async () => {
    h = await harness(target, { CAMPAIGN_STAFF_CORPS: '示范银行总行,示范银行股份有限公司' });
    const now = h.clock.now;
    const spring = {
      code: 'spring-ljj',
      name: '添加客户经理领立减金',
      startsAt: now - DAY,
      endsAt: now + 30 * DAY,
      reward: { kind: 'voucher', amount: 10 },
      newCustomersOnly: true,
      churnFlagDays: 7,
    };
    expect((await campaignsApplyCommand({ file: file('spring.json', spring) }, ctx())).output).toContain('dry run');
    await campaignsApplyCommand({ file: file('spring.json', spring) }, ctx(true));
    await campaignsApplyCommand(
      { file: file('old.json', { ...spring, code: 'old-ljj', startsAt: now - 60 * DAY, endsAt: now - 30 * DAY }) },
      ctx(true),
    );
  });
  afterAll(async () => h.close());

  test('a campaign file with errors names each path and writes nothing', async () => {
    const bad = file('bad.json', {
      code: 'X!',
      name: '',
      startsAt: 'soon',
      endsAt: 1,
      reward: { kind: 'voucher', amount: -1 },
      extra: 1,
    });
    await expect(campaignsApplyCommand({ file: bad }, ctx(true))).rejects.toThrow(
      /code: must be[\s\S]*name: must be[\s\S]*startsAt: must be[\s\S]*reward.amount: must be a positive number/,
    );
    await expect(campaignsApplyCommand({ file: bad }, ctx(true))).rejects.toThrow(/extra: is not a campaign field/);
  });

  test('entry API campaign → add: eligible once, outbox row written with the decision; no campaign tag', async () => {
    const entry = (
      await h.allocate({ customerId: 'C002', lat: HZ_WEST.lat, lng: HZ_WEST.lng, campaign: 'spring-ljj' })
    ).json();
    const way = await h.app.db.manager.findOneByOrFail(ContactWay, { state: entry.state });
    expect(way.campaign).toBe('spring-ljj');
    const add = await simulateAddContact(h.app, { userid: entry.userid, state: entry.state });
    // Redelivered twice (once with another envelope byte: a new inbox row).
    await deliverCallback(h.app, add.plaintext);
    await deliverCallback(h.app, add.plaintext.replace('<xml>', '<xml>\n'));
    await h.settle();
    const ext = add.externalUserId!;
    expect(await enrollment(ext)).toMatchObject({
      eligible: true,
      reason: 'eligible',
      channel: 'entry',
      customerId: 'C002',
    });
    const rows = await h.app.db.manager.findBy(RewardOutbox, { externalUserid: ext });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ idempotencyKey: `campaign:spring-ljj:${ext}`, status: 'pending' });
    const body = JSON.parse(rows[0].body);
    expect(body).toMatchObject({
      campaign: { code: 'spring-ljj' },
      reward: { kind: 'voucher', amount: 10 },
      customer: { externalUserid: ext },
      manager: { userid: entry.userid },
      branch: { code: 'HZ01' },
      idempotencyKey: rows[0].idempotencyKey,
    });
    const campaignTags = new Set((await h.app.db.manager.findBy(CorpTag, { groupName: '活动' })).map((t) => t.id));
    expect(h.fake.follows.get(`${ext}|${entry.userid}`)!.tag_ids.filter((id) => campaignTags.has(id))).toEqual([]);
    expect(h.fake.tagGroups.flatMap((g) => g.tag).some((t) => t.name === 'spring-ljj')).toBe(false);

    // The customer deletes the manager and adds them again: no second reward.
    h.clock.now += 60_000;
    await simulateCustomerDeletesManager(h.app, { userid: entry.userid, externalUserId: ext });
    await h.settle();
    await simulateAddContact(h.app, { userid: entry.userid, externalUserId: ext, state: entry.state });
    await h.settle();
    expect(await h.app.db.manager.countBy(RewardOutbox, { externalUserid: ext })).toBe(1);
    expect(await h.app.db.manager.countBy(CampaignEnrollment, { externalUserid: ext })).toBe(1);
  });

  test('eligibility: QR channel, existing customers, WeCom users, outside the period, same unionid', async () => {
    const qr = await campaignsQrCommand({ code: 'spring-ljj', manager: 'li_hz01' }, ctx(true));
    const state = (qr.json as { codes: { state: string }[] }).codes[0].state;
    expect(state.length).toBeLessThanOrEqual(30);
    const a = await simulateAddContact(h.app, { userid: 'li_hz01', state });
    await h.settle();
    expect(await enrollment(a.externalUserId!)).toMatchObject({ eligible: true, channel: 'qr', branchCode: 'HZ01' });

    // C001 is already a bank customer with an owner: not new.
    const owned = (await h.allocate({ customerId: 'C001', campaign: 'spring-ljj' })).json();
    const b = await simulateAddContact(h.app, { userid: owned.userid, state: owned.state });
    await h.settle();
    expect(await enrollment(b.externalUserId!)).toMatchObject({ eligible: false, reason: 'existing_customer' });

    // WeCom users (type 2). One of a company customer's corp is a customer like any other: our own
    // members are internal contacts and never arrive as external contacts, so type 2 alone is not staff.
    const company = 'wmcompany00000000000000000001';
    h.fake.contacts.set(company, {
      external_userid: company,
      name: '客户',
      type: 2,
      gender: 0,
      corp_name: '某科技',
      corp_full_name: '某科技有限公司',
    });
    await simulateAddContact(h.app, { userid: 'li_hz01', externalUserId: company, state });
    await h.settle();
    expect(await enrollment(company)).toMatchObject({ eligible: true, reason: 'eligible' });
    // A user of the bank's head-office corp (CAMPAIGN_STAFF_CORPS), by short or full corp name: staff.
    for (const [id, names] of [
      ['wmstaff0000000000000000000001', { corp_name: '示范银行总行' }],
      ['wmstaff0000000000000000000002', { corp_name: '总行', corp_full_name: '示范银行股份有限公司' }],
    ] as const) {
      h.fake.contacts.set(id, { external_userid: id, name: '同事', type: 2, gender: 0, ...names });
      await simulateAddContact(h.app, { userid: 'li_hz01', externalUserId: id, state });
      await h.settle();
      expect(await enrollment(id)).toMatchObject({ eligible: false, reason: 'corp_member' });
    }

    // A campaign that ended a month ago.
    const old = await campaignsQrCommand({ code: 'old-ljj', manager: 'wang_hz01' }, ctx(true));
    const c = await simulateAddContact(h.app, {
      userid: 'wang_hz01',
      state: (old.json as { codes: { state: string }[] }).codes[0].state,
    });
    await h.settle();
    expect(await enrollment(c.externalUserId!, 'old-ljj')).toMatchObject({ eligible: false, reason: 'outside_period' });

    // The same WeChat user (one unionid) under a second external_userid, e.g. after deleting the
    // manager and coming back once the corp moved to new-style ids: one decision only.
    h.fake.contacts.set('wmunion000000000000000000000A', {
      external_userid: 'wmunion000000000000000000000A',
      name: '客户',
      type: 1,
      gender: 0,
      unionid: 'oUnion-1',
    });
    await simulateAddContact(h.app, { userid: 'li_hz01', externalUserId: 'wmunion000000000000000000000A', state });
    await h.settle();
    await simulateCustomerDeletesManager(h.app, { userid: 'li_hz01', externalUserId: 'wmunion000000000000000000000A' });
    await h.settle();
    h.fake.contacts.set('wmunion000000000000000000000B', {
      external_userid: 'wmunion000000000000000000000B',
      name: '客户',
      type: 1,
      gender: 0,
      unionid: 'oUnion-1',
    });
    await simulateAddContact(h.app, { userid: 'li_hz01', externalUserId: 'wmunion000000000000000000000B', state });
    await h.settle();
    expect(await enrollment('wmunion000000000000000000000A')).toMatchObject({ eligible: true });
    expect(await enrollment('wmunion000000000000000000000B')).toBeNull();
    const keys = (await h.app.db.manager.find(RewardOutbox)).map((r) => r.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    // C002 (entry), the QR add, the company customer, the unionid customer once.
    expect(keys).toHaveLength(4);
  });

  test('delivery: the receiver fails some requests → retries with backoff → each reward accepted exactly once', async () => {
    const receiver = h.app.sandbox!.rewards;
    // A crashed delivery: claimed, POSTed (the receiver accepts it), never recorded.
    const [claimed] = await claimDueRewards(h.app.db, 'crashed-instance', {
      now: h.clock.now,
      until: h.clock.now + 60_000,
      limit: 1,
    });
    const ts = String(Math.floor(h.clock.now / 1000));
    await h.app.inject({
      method: 'POST',
      url: '/sandbox/rewards',
      headers: {
        'content-type': 'application/json',
        'x-reward-timestamp': ts,
        'x-reward-signature': signReward(h.app.config.rewards.secret, ts, claimed.body),
      },
      payload: claimed.body,
    });
    receiver.failNext = 2;

    let runs = 0;
    for (; runs < 10; runs++) {
      await deliver();
      if ((await h.app.db.manager.countBy(RewardOutbox, { status: 'pending' })) === 0) break;
      h.clock.now += 7 * 3_600_000; // past the backoff and the crashed claim's lease
    }
    const rows = await h.app.db.manager.find(RewardOutbox);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    expect(rows.some((r) => r.attempts > 1)).toBe(true);
    const accepted = receiver.received.filter((r) => r.outcome === 'accepted').map((r) => r.key);
    expect(accepted.sort()).toEqual(rows.map((r) => r.idempotencyKey).sort());
    expect(receiver.received.filter((r) => r.outcome === 'failed')).toHaveLength(2);
    // The crashed claim's row was POSTed again with its key: the bank saw a duplicate, paid once.
    expect(receiver.received.filter((r) => r.key === claimed.idempotencyKey && r.outcome === 'duplicate')).toHaveLength(
      1,
    );
    // Another run sends nothing.
    const before = receiver.received.length;
    await deliver();
    expect(receiver.received.length).toBe(before);
  });

  test('dead letter with the reason, listed as failed, replayed with the same key', async () => {
    const receiver = h.app.sandbox!.rewards;
    const d = await simulateAddContact(h.app, {
      userid: 'li_hz01',
      state: (await h.app.db.manager.findOneByOrFail(ContactWay, { purpose: 'campaign', userid: 'li_hz01' })).state,
    });
    await h.settle();
    const key = `campaign:spring-ljj:${d.externalUserId}`;
    receiver.failNext = 100;
    for (let i = 0; i < h.app.config.rewards.maxAttempts; i++) {
      await deliver();
      h.clock.now += 7 * 3_600_000;
    }
    const dead = await h.app.db.manager.findOneByOrFail(RewardOutbox, { idempotencyKey: key });
    expect(dead).toMatchObject({ status: 'dead', attempts: h.app.config.rewards.maxAttempts, httpStatus: 503 });
    expect(dead.lastError).toMatch(/HTTP 503 after \d+ attempts/);
    const failed = await campaignsRewardsCommand({ failed: true }, ctx());
    expect(failed.exitCode).toBe(1);
    expect((failed.json as { key: string }[]).map((r) => r.key)).toEqual([key]);
    await campaignsReplayCommand({}, ctx());
    expect((await h.app.db.manager.findOneByOrFail(RewardOutbox, { idempotencyKey: key })).status).toBe('dead');
    await campaignsReplayCommand({}, ctx(true));
    receiver.failNext = 0;
    await deliver();
    expect(await h.app.db.manager.findOneByOrFail(RewardOutbox, { idempotencyKey: key })).toMatchObject({
      status: 'sent',
    });
    expect(receiver.received.filter((r) => r.key === key && r.outcome === 'accepted')).toHaveLength(1);
  });
});

describe('reward signature', () => {
  test('the bank verifies hex HMAC-SHA256(secret, ts + "." + rawBody) over the raw body; tampering fails', () => {
    const secret = 'bank-shared-secret-0123456789';
    const body = '{"idempotencyKey":"campaign:x:wm1","reward":{"amount":10}}';
    const ts = '1796300000';
    const sig = signReward(secret, ts, body);
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    // Independent computation, as the bank would write it.
    const { createHmac } = require('node:crypto') as typeof import('node:crypto');
    expect(sig).toBe(createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex'));
    const now = Number(ts) * 1000;
    expect(verifyRewardSignature(secret, ts, sig, body, now)).toBeNull();
    expect(verifyRewardSignature(secret, ts, sig, body.replace('10', '100'), now)).toBe('bad_signature');
    expect(verifyRewardSignature('another-secret-0123456789', ts, sig, body, now)).toBe('bad_signature');
    expect(verifyRewardSignature(secret, ts, sig, body, now + 301_000)).toBe('stale_timestamp');
    expect(verifyRewardSignature(secret, undefined, sig, body, now)).toBe('missing_signature');
  });
});
