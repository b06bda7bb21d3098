import { activateRuleSet, saveRuleSet } from '../../../server/allocation/ruleset-store';
import { listUnmatchedContacts } from '../../../server/contacts/repo';
import {
  Allocation,
  AuditEntry,
  ContactTag,
  CorpTag,
  ExternalContact,
  Follow,
  InboxEvent,
  Transfer,
  WelcomeMessage,
} from '../../../server/db/entities';
import { eventXml } from '../../../server/sandbox/event-xml';
import {
  deliverCallback,
  simulateAddContact,
  simulateCustomerDeletesManager,
  simulateManagerDeletesCustomer,
  simulateTransferRefused,
} from '../../../server/sandbox/simulator';
import { DB_TARGETS } from '../../helpers/db';
import { HZ_WEST } from '../allocation/seed';
import { type Harness, harness } from './harness';

describe.each(DB_TARGETS)('contact lifecycle on %s', (target) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(target);
  });
  afterAll(async () => h.close());

  test('entry → add with that state: allocation confirmed, tags marked, welcome sent once over 3 deliveries', async () => {
    const entry = (
      await h.allocate({ customerId: 'C002', lat: HZ_WEST.lat, lng: HZ_WEST.lng, campaign: '春季理财节' })
    ).json();
    expect(entry.userid).toBe('wang_hz01');

    const add = await simulateAddContact(h.app, { userid: 'wang_hz01', state: entry.state, name: '刘先生' });
    expect(add.status).toBe(200);
    const ext = add.externalUserId!;
    // WeCom redelivers the very same callback (no ack in 5 s) twice more.
    for (let i = 0; i < 2; i++) expect((await deliverCallback(h.app, add.plaintext)).status).toBe(200);
    // And once more with a different envelope byte (new inbox row): the handler itself must hold.
    const variant = add.plaintext.replace('<xml>', '<xml>\n');
    expect((await deliverCallback(h.app, variant)).status).toBe(200);
    await h.settle();

    const welcomes = h.fake.welcomes.filter((w) => w.external_userid === ext);
    expect(welcomes).toHaveLength(1);
    expect(welcomes[0].userid).toBe('wang_hz01');
    expect(welcomes[0].content).toContain('王经理');
    expect(welcomes[0].content).toContain('杭州西湖支行');
    expect(welcomes[0].content).not.toContain('{{');
    expect(h.fake.count('externalcontact/send_welcome_msg')).toBe(1);
    const wm = await h.app.db.manager.findBy(WelcomeMessage, { externalUserid: ext });
    expect(wm).toHaveLength(1);
    expect(wm[0].status).toBe('sent');
    expect(wm[0].codeHash).not.toBe(add.welcomeCode);

    const allocation = await h.app.db.manager.findOneByOrFail(Allocation, { id: entry.allocationId });
    expect(allocation).toMatchObject({ status: 'confirmed', externalUserid: ext });
    const contact = await h.app.db.manager.findOneByOrFail(ExternalContact, { externalUserid: ext });
    expect(contact).toMatchObject({ customerId: 'C002', matchedBy: 'state' });
    const follow = await h.app.db.manager.findOneByOrFail(Follow, { externalUserid: ext, userid: 'wang_hz01' });
    expect(follow).toMatchObject({ state: entry.state, deletedAt: null, half: false });

    // Only the segment tag, in the one segment group (客户分层/代发客户); the campaign code is not a tag,
    // it stays on the allocation.
    const fakeFollow = h.fake.follows.get(`${ext}|wang_hz01`)!;
    const names = h.fake.tagGroups.flatMap((g) =>
      g.tag.filter((t) => fakeFollow.tag_ids.includes(t.id)).map((t) => `${g.group_name}/${t.name}`),
    );
    expect(names.sort()).toEqual(['客户分层/代发客户']);
    expect(h.fake.tagGroups.map((g) => g.group_name)).not.toContain('客群');
    expect(h.fake.tagGroups.flatMap((g) => g.tag.map((t) => t.name))).not.toContain('春季理财节');
    expect(allocation.campaign).toBe('春季理财节');
    const local = await h.app.db.manager.findBy(ContactTag, { externalUserid: ext, userid: 'wang_hz01' });
    expect(local.map((t) => t.tagId).sort()).toEqual([...fakeFollow.tag_ids].sort());
    expect(h.fake.count('externalcontact/mark_tag')).toBe(1);
    expect(await h.app.db.manager.countBy(CorpTag, { deleted: false })).toBeGreaterThanOrEqual(1);

    // The welcome latency was recorded.
    const metric = await h.app.metrics.registry.getSingleMetric('wecom_welcome_latency_seconds')?.get();
    expect(metric?.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value).toBe(1);

    // The same customer asking again gets a new allocation: the confirmed one is no longer open.
    const again = (await h.allocate({ customerId: 'C002', lat: HZ_WEST.lat, lng: HZ_WEST.lng })).json();
    expect(again.allocationId).not.toBe(entry.allocationId);

    // Customer deletes the manager: churn.
    await simulateCustomerDeletesManager(h.app, { userid: 'wang_hz01', externalUserId: ext });
    await h.settle();
    const gone = await h.app.db.manager.findOneByOrFail(Follow, { externalUserid: ext, userid: 'wang_hz01' });
    expect(gone.deletedBy).toBe('customer');
    expect(gone.deletedAt).not.toBeNull();
    expect(await h.app.db.manager.countBy(AuditEntry, { action: 'contact.churn', subject: `contact:${ext}` })).toBe(1);
  });

  test('manager deletes customer vs. transfer completion are told apart', async () => {
    const add = await simulateAddContact(h.app, { userid: 'li_hz01', welcomeCode: false });
    await h.settle();
    await simulateManagerDeletesCustomer(h.app, { userid: 'li_hz01', externalUserId: add.externalUserId! });
    await h.settle();
    const f = await h.app.db.manager.findOneByOrFail(Follow, {
      externalUserid: add.externalUserId!,
      userid: 'li_hz01',
    });
    expect(f.deletedBy).toBe('manager');
  });

  test('contacts nobody can match are kept and listed for operators', async () => {
    const add = await simulateAddContact(h.app, { userid: 'zhao_hz02', name: '路人甲' });
    await h.settle();
    const contact = await h.app.db.manager.findOneByOrFail(ExternalContact, { externalUserid: add.externalUserId! });
    expect(contact.customerId).toBeNull();
    const list = await listUnmatchedContacts(h.app.db);
    const row = list.find((c) => c.externalUserid === add.externalUserId);
    expect(row?.followers).toEqual(['zhao_hz02']);
    expect(JSON.stringify(list)).not.toContain('路人甲');
    // Welcome still went out (corp template, neutral salutation).
    expect(h.fake.welcomes.some((w) => w.external_userid === add.externalUserId)).toBe(true);
  });

  test('mismatch with the default keep policy: the customer stays, the allocation is marked superseded', async () => {
    const db = h.app.db;
    await db.manager.insert(ExternalContact, {
      externalUserid: 'wm_c001_seen',
      customerId: 'C001',
      unionid: 'union-c001-keep',
      name: '',
      type: 1,
      gender: 0,
      avatar: null,
      matchedBy: 'manual',
      createdAt: h.clock.now,
      updatedAt: h.clock.now,
    });
    const ext = 'wm_c001_keep';
    h.fake.contacts.set(ext, { external_userid: ext, name: '张先生', type: 1, gender: 1, unionid: 'union-c001-keep' });
    await simulateAddContact(h.app, { userid: 'li_hz01', externalUserId: ext, state: 'cmp_poster' });
    await h.settle();
    const allocation = await db.manager.findOneByOrFail(Allocation, { externalUserid: ext });
    // The engine would have chosen the owner; the customer chose li; policy keep records it.
    expect(allocation).toMatchObject({
      source: 'callback',
      userid: 'zhao_hz02',
      reason: 'owner',
      status: 'superseded',
    });
    expect(await db.manager.countBy(Transfer, { externalUserid: ext })).toBe(0);
    const audit = await db.manager.findOneByOrFail(AuditEntry, {
      action: 'allocation.mismatch',
      subject: `allocation:${allocation.id}`,
    });
    expect(audit.detail).toMatchObject({ added: 'li_hz01', chosen: 'zhao_hz02', policy: 'keep', action: 'keep' });
    expect((await db.manager.findOneByOrFail(Follow, { externalUserid: ext, userid: 'li_hz01' })).deletedAt).toBeNull();
  });

  test('welcome edge cases: already sent elsewhere (41051), expired code, half add, edit refreshes tags', async () => {
    const db = h.app.db;
    // Another app won the race for this code.
    h.fake.failNext('externalcontact/send_welcome_msg', 41051);
    const raced = await simulateAddContact(h.app, { userid: 'chen_sh01' });
    await h.settle();
    expect((await db.manager.findOneByOrFail(WelcomeMessage, { externalUserid: raced.externalUserId! })).status).toBe(
      'already_sent',
    );

    // The worker only got to the event after the code's 20 s: no call at all.
    await h.app.worker.stop(); // no fast lane: the event waits in the inbox
    const calls = h.fake.count('externalcontact/send_welcome_msg');
    const late = await simulateAddContact(h.app, { userid: 'chen_sh01' });
    h.clock.now += 21_000;
    await h.settle();
    expect((await db.manager.findOneByOrFail(WelcomeMessage, { externalUserid: late.externalUserId! })).status).toBe(
      'expired',
    );
    expect(h.fake.count('externalcontact/send_welcome_msg')).toBe(calls);

    const half = await simulateAddContact(h.app, { userid: 'chen_sh01', half: true, welcomeCode: false });
    await h.settle();
    expect(
      (await db.manager.findOneByOrFail(Follow, { externalUserid: half.externalUserId!, userid: 'chen_sh01' })).half,
    ).toBe(true);

    // The manager removed a tag in the client: edit_external_contact makes the local tags follow.
    const ours = new Set((await db.manager.find(ContactTag)).map((t) => `${t.externalUserid}|${t.userid}`));
    const tagged = [...h.fake.follows.values()].find(
      (f) => f.tag_ids.length === 1 && ours.has(`${f.external_userid}|${f.userid}`),
    )!;
    expect((await db.manager.findBy(ContactTag, { externalUserid: tagged.external_userid })).length).toBe(1);
    tagged.tag_ids = [];
    await deliverCallback(
      h.app,
      eventXml(h.fake.corpId, Math.floor(h.clock.now / 1000), 'change_external_contact', 'edit_external_contact', [
        ['UserID', tagged.userid],
        ['ExternalUserID', tagged.external_userid],
      ]),
    );
    await h.settle();
    const local = await db.manager.findBy(ContactTag, {
      externalUserid: tagged.external_userid,
      userid: tagged.userid,
    });
    expect(local.map((t) => t.tagId)).toEqual(tagged.tag_ids);
  });

  test('a tagging data error does not dead-letter the add', async () => {
    const entry = (await h.allocate({ customerId: 'C002', lat: HZ_WEST.lat, lng: HZ_WEST.lng })).json();
    h.fake.failNext('externalcontact/mark_tag', 84061);
    const add = await simulateAddContact(h.app, { userid: entry.userid, state: entry.state, welcomeCode: false });
    await h.settle();
    const ext = add.externalUserId!;
    expect((await h.app.db.manager.findOneByOrFail(Allocation, { id: entry.allocationId })).status).toBe('confirmed');
    expect(
      await h.app.db.manager.countBy(AuditEntry, { action: 'contact.tag_failed', subject: `contact:${ext}` }),
    ).toBe(1);
    expect(await h.app.db.manager.countBy(InboxEvent, { status: 'dead' })).toBe(0);
  });

  test('mismatch with transfer_to_owner: refused transfers are recorded and not retried past the limit', async () => {
    const db = h.app.db;
    await saveRuleSet(db, { version: 'owner-transfer', mismatchPolicy: 'transfer_to_owner' }, 'ops');
    await activateRuleSet(db, 'owner-transfer', 'ops');
    // C001's WeChat identity is known from an earlier contact (same unionid), so the new one matches.
    await db.manager.insert(ExternalContact, {
      externalUserid: 'wm_c001_old',
      customerId: 'C001',
      unionid: 'union-c001',
      name: '',
      type: 1,
      gender: 1,
      avatar: null,
      matchedBy: 'manual',
      createdAt: h.clock.now,
      updatedAt: h.clock.now,
    });
    const ext = 'wm_c001_new';
    h.fake.contacts.set(ext, { external_userid: ext, name: '张先生', type: 1, gender: 1, unionid: 'union-c001' });

    const transferCalls = () => h.fake.count('externalcontact/transfer_customer');
    const before = transferCalls();
    // Three times the customer adds wang (a campaign QR) instead of the owner zhao; each time the
    // transfer to zhao is refused.
    for (let round = 1; round <= 3; round++) {
      h.clock.now += 60_000;
      await simulateAddContact(h.app, { userid: 'wang_hz01', externalUserId: ext, state: 'cmp_spring' });
      await h.settle();
      if (round <= 2) {
        expect(transferCalls()).toBe(before + round);
        await simulateTransferRefused(h.app, { takeoverUserid: 'zhao_hz02', externalUserId: ext });
        await h.settle();
      }
      h.clock.now += 60_000;
      await simulateManagerDeletesCustomer(h.app, { userid: 'wang_hz01', externalUserId: ext });
      await h.settle();
    }
    expect(transferCalls()).toBe(before + 2);
    const transfers = await db.manager.find(Transfer, { where: { externalUserid: ext }, order: { id: 'ASC' } });
    expect(transfers.map((t) => t.status)).toEqual(['refused', 'refused', 'limit']);
    expect(transfers.every((t) => t.handoverUserid === 'wang_hz01' && t.takeoverUserid === 'zhao_hz02')).toBe(true);

    const contact = await db.manager.findOneByOrFail(ExternalContact, { externalUserid: ext });
    expect(contact).toMatchObject({ customerId: 'C001', matchedBy: 'unionid' });
    const allocation = await db.manager.findOneByOrFail(Allocation, { externalUserid: ext });
    const mismatch = await db.manager.countBy(AuditEntry, {
      action: 'allocation.mismatch',
      subject: `allocation:${allocation.id}`,
    });
    expect(mismatch).toBe(3);
  });
});
