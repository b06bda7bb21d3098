import { pollTransferResults, reassignCustomers, retryQueuedTransfers } from '../../../server/contacts/reassign';
import { AuditEntry, CorpTag, Follow, Manager, Transfer } from '../../../server/db/entities';
import { eventXml } from '../../../server/sandbox/event-xml';
import { deliverCallback, simulateManagerDeletesCustomer, simulateTagChanged } from '../../../server/sandbox/simulator';
import { createWecomClient } from '../../../server/wecom/plugin';
import { DB_TARGETS } from '../../helpers/db';
import { type Harness, harness } from './harness';

const N = 150;

describe.each(DB_TARGETS)('manager leaves, member and tag events on %s', (target) => {
  let h: Harness;
  const ext = (i: number) => `wm_li_${String(i).padStart(4, '0')}`;

  beforeAll(async () => {
    h = await harness(target);
    const db = h.app.db;
    // li carries N customers (bulk-seeded on both sides; the add path is covered elsewhere).
    for (let i = 0; i < N; i++) {
      h.fake.addFollow({ external_userid: ext(i), name: `客户${i}`, type: 1, gender: 0 }, 'li_hz01');
    }
    await db.manager.insert(
      Follow,
      Array.from({ length: N }, (_, i) => ({
        externalUserid: ext(i),
        userid: 'li_hz01',
        state: null,
        remark: null,
        addedAt: h.clock.now,
        deletedAt: null,
        deletedBy: null,
        half: false,
      })),
    );
    // Room for everyone at li's own branch.
    await db.manager.update(Manager, { userid: 'wang_hz01' }, { capacity: 500 });
  });
  afterAll(async () => h.close());

  const send = (changeType: string, fields: [string, string][]) =>
    deliverCallback(
      h.app,
      eventXml(h.fake.corpId, Math.floor(h.clock.now / 1000), 'change_contact', changeType, fields),
    );

  test('change_contact keeps managers in sync; delete_user marks the manager resigned', async () => {
    await send('create_user', [
      ['UserID', 'sun_new'],
      ['Name', '孙经理'],
    ]);
    await send('update_user', [
      ['UserID', 'zhao_hz02'],
      ['Name', '赵大经理'],
    ]);
    await send('delete_user', [['UserID', 'li_hz01']]);
    await h.settle();
    const db = h.app.db;
    expect(await db.manager.findOneByOrFail(Manager, { userid: 'sun_new' })).toMatchObject({
      name: '孙经理',
      status: 'active',
      branchCode: null,
    });
    expect((await db.manager.findOneByOrFail(Manager, { userid: 'zhao_hz02' })).name).toBe('赵大经理');
    expect((await db.manager.findOneByOrFail(Manager, { userid: 'li_hz01' })).status).toBe('resigned');
    expect(await db.manager.countBy(AuditEntry, { action: 'manager.resigned', subject: 'manager:li_hz01' })).toBe(1);
    // Redelivered delete: no second state change.
    await send('delete_user', [['UserID', 'li_hz01']]);
    await h.settle();
    expect(await db.manager.countBy(AuditEntry, { action: 'manager.resigned', subject: 'manager:li_hz01' })).toBe(1);
  });

  test('reassign a resigned manager: dry run plans same branch first, apply batches ≤ 100, poll records success', async () => {
    const db = h.app.db;
    h.fake.users.get('li_hz01')!.status = 5; // WeCom has them as left

    const dry = await reassignCustomers(db, h.app.wecom, {
      from: 'li_hz01',
      actor: 'ops',
      apply: false,
      now: h.clock.now,
    });
    // N + the seed's older customer of li, which the fake WeCom does not know (84061 on apply).
    expect(dry).toMatchObject({ kind: 'resigned', applied: false, total: N + 1, byTakeover: { wang_hz01: N + 1 } });
    expect(dry.items.every((i) => i.rule === 'nearest_branch')).toBe(true);
    expect(await db.manager.count(Transfer)).toBe(0);
    expect(h.fake.count('externalcontact/resigned/transfer_customer')).toBe(0);

    const applied = await reassignCustomers(db, h.app.wecom, {
      from: 'li_hz01',
      actor: 'ops',
      apply: true,
      now: h.clock.now,
    });
    expect(applied.counts).toEqual({ waiting: N, failed: 1 });
    expect(applied.outcomes?.find((o) => o.externalUserid === 'wm_existing_1')).toMatchObject({ errcode: 84061 });
    expect(h.fake.count('externalcontact/resigned/transfer_customer')).toBe(2);
    expect(await db.manager.countBy(Transfer, { kind: 'resigned', status: 'waiting' })).toBe(N);

    // Applying again asks nothing twice.
    const again = await reassignCustomers(db, h.app.wecom, {
      from: 'li_hz01',
      actor: 'ops',
      apply: true,
      now: h.clock.now,
    });
    expect(again.counts).toEqual({ skipped: N, failed: 1 });
    expect(h.fake.count('externalcontact/resigned/transfer_customer')).toBe(3);

    // Resigned transfers complete after 24 h.
    h.clock.now += 25 * 3600 * 1000;
    const polled = await pollTransferResults(db, h.app.wecom, { actor: 'ops', now: h.clock.now });
    expect(polled.byStatus).toEqual({ success: N });
    expect(await db.manager.countBy(Transfer, { status: 'success' })).toBe(N);
    const moved = await db.manager.findOneByOrFail(Follow, { externalUserid: ext(7), userid: 'li_hz01' });
    expect(moved.deletedBy).toBe('transfer');
    expect(
      (await db.manager.findOneByOrFail(Follow, { externalUserid: ext(7), userid: 'wang_hz01' })).deletedAt,
    ).toBeNull();
    expect((await pollTransferResults(db, h.app.wecom, { actor: 'ops', now: h.clock.now })).changed).toBe(0);
  });

  test('on-job reassign to a named manager; completion by DELETE_BY_TRANSFER is not churn', async () => {
    const db = h.app.db;
    const report = await reassignCustomers(db, h.app.wecom, {
      from: 'wang_hz01',
      to: 'zhao_hz02',
      actor: 'ops',
      apply: true,
      now: h.clock.now,
    });
    expect(report.kind).toBe('onjob');
    expect(report.byTakeover).toEqual({ zhao_hz02: N });
    await expect(
      reassignCustomers(db, h.app.wecom, { from: 'wang_hz01', to: 'li_hz01', actor: 'ops', apply: false }),
    ).rejects.toMatchObject({ code: 'bad_takeover' });

    await simulateManagerDeletesCustomer(h.app, { userid: 'wang_hz01', externalUserId: ext(3), byTransfer: true });
    await h.settle();
    const f = await db.manager.findOneByOrFail(Follow, { externalUserid: ext(3), userid: 'wang_hz01' });
    expect(f.deletedBy).toBe('transfer');
    const t = await db.manager.findOneByOrFail(Transfer, { externalUserid: ext(3), kind: 'onjob' });
    expect(t.status).toBe('success');
  });

  test('transfers WeCom refuses as busy are queued and sent again later', async () => {
    const db = h.app.db;
    // The real client on the sandbox, without its backoff pauses (same code path, no waiting).
    const wecom = createWecomClient(h.app, { sleep: async () => undefined });
    const mine = ['wm_chen_1', 'wm_chen_2', 'wm_chen_3'];
    for (const id of mine) {
      h.fake.addFollow({ external_userid: id, name: '客户', type: 1, gender: 0 }, 'chen_sh01');
      await db.manager.insert(Follow, {
        externalUserid: id,
        userid: 'chen_sh01',
        state: null,
        remark: null,
        addedAt: h.clock.now,
        deletedAt: null,
        deletedBy: null,
        half: false,
      });
    }
    // The client tries 1 + 3 times; all four answer -1 (system busy).
    h.fake.failNext('externalcontact/transfer_customer', -1, 4);
    const report = await reassignCustomers(db, wecom, {
      from: 'chen_sh01',
      to: 'zhao_hz02',
      actor: 'ops',
      apply: true,
    });
    expect(report.counts).toEqual({ queued: 3 });
    expect(await db.manager.countBy(Transfer, { handoverUserid: 'chen_sh01', status: 'queued' })).toBe(3);

    h.fake.resetLog();
    const retried = await retryQueuedTransfers(db, wecom, 'ops', h.clock.now);
    expect(retried.map((r) => r.status)).toEqual(['waiting', 'waiting', 'waiting']);
    expect(h.fake.count('externalcontact/transfer_customer')).toBe(1);
    expect(await db.manager.countBy(Transfer, { handoverUserid: 'chen_sh01', status: 'waiting' })).toBe(3);
  });

  test('change_external_tag resyncs the tag library', async () => {
    const created = await simulateTagChanged(h.app, { changeType: 'create', name: '新春活动' });
    await h.settle();
    const tag = await h.app.db.manager.findOneByOrFail(CorpTag, { id: created.tagId! });
    expect(tag).toMatchObject({ name: '新春活动', deleted: false });
    await simulateTagChanged(h.app, { changeType: 'delete', tagId: created.tagId! });
    await h.settle();
    expect((await h.app.db.manager.findOneByOrFail(CorpTag, { id: created.tagId! })).deleted).toBe(true);
  });
});
