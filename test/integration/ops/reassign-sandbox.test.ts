import { EXIT, UsageError } from '../../../scripts/commands/context';
import { recordingProgress } from '../../../scripts/commands/progress';
import { reassignCommand } from '../../../scripts/commands/reassign';
import { sandboxCommand } from '../../../scripts/commands/sandbox';
import { AuditEntry, Follow, Transfer } from '../../../server/db/entities';
import { DB_TARGETS, testConfig } from '../../helpers/db';
import { type Harness, harness } from '../contacts/harness';
import { ctxFor, dbChecksum } from './helpers';

const N = 130;
const ext = (i: number) => `wm_ops_${String(i).padStart(4, '0')}`;

describe.each(DB_TARGETS)('ops reassign and sandbox on %s', (target) => {
  let h: Harness;
  const ctx = (apply = false, extra = {}) =>
    ctxFor(h.app.db, h.app.config, { apply, now: () => h.clock.now, wecom: async () => h.app.wecom, ...extra });

  beforeAll(async () => {
    h = await harness(target);
    // zhao carries N customers, on both sides (the fake WeCom and our follows).
    for (let i = 0; i < N; i++)
      h.fake.addFollow({ external_userid: ext(i), name: `客户${i}`, type: 1, gender: 0 }, 'zhao_hz02');
    await h.app.db.manager.insert(
      Follow,
      Array.from({ length: N }, (_, i) => ({
        externalUserid: ext(i),
        userid: 'zhao_hz02',
        state: null,
        remark: null,
        addedAt: h.clock.now,
        deletedAt: null,
        deletedBy: null,
        half: false,
      })),
    );
    // Customer 0 already used both on-job transfers of the last 90 days.
    await h.app.db.manager.insert(
      Transfer,
      [1, 2].map((d) => ({
        externalUserid: ext(0),
        handoverUserid: 'chen_sh01',
        takeoverUserid: 'zhao_hz02',
        kind: 'onjob' as const,
        status: 'success' as const,
        errcode: null,
        reason: 'earlier',
        requestedAt: h.clock.now - d * 86_400_000,
        updatedAt: h.clock.now,
        takeoverTime: null,
      })),
    );
  });
  afterAll(async () => h.close());

  it('needs --from and exactly one of --to / --auto', async () => {
    await expect(reassignCommand({ to: 'wang_hz01' }, ctx())).rejects.toThrow(UsageError);
    await expect(reassignCommand({ from: 'zhao_hz02' }, ctx())).rejects.toThrow(/exactly one of/);
    await expect(reassignCommand({ from: 'zhao_hz02', to: 'x', auto: true }, ctx())).rejects.toThrow(/exactly one of/);
  });

  it('dry run plans an on-job transfer, reports the customer over the limit, and writes nothing', async () => {
    const before = await dbChecksum(h.app.db);
    const res = await reassignCommand({ from: 'zhao_hz02', to: 'wang_hz01' }, ctx());
    expect(await dbChecksum(h.app.db)).toBe(before);
    expect(res.exitCode).toBe(EXIT.findings);
    expect(res.json).toMatchObject({
      kind: 'onjob',
      applied: false,
      total: N,
      byTakeover: { wang_hz01: N - 1 },
      counts: { limit: 1 },
    });
    expect(res.output).toContain("over WeCom's limit of 2 on-job transfers");
    expect(h.fake.count('externalcontact/transfer_customer')).toBe(0);
  });

  it('--apply sends batches of ≤ 100 with progress, records transfers and an audit row; a rerun asks nothing twice', async () => {
    const progress = recordingProgress();
    const res = await reassignCommand({ from: 'zhao_hz02', to: 'wang_hz01' }, ctx(true, { progress }));
    expect(res.exitCode).toBe(EXIT.findings); // the one customer over the limit
    expect(res.json).toMatchObject({ applied: true, counts: { waiting: N - 1, limit: 1 } });
    expect(h.fake.count('externalcontact/transfer_customer')).toBe(2);
    expect(progress.events.map((e) => e.value)).toEqual([100, N - 1]);
    expect(await h.app.db.manager.countBy(Transfer, { status: 'waiting', takeoverUserid: 'wang_hz01' })).toBe(N - 1);
    const audit = await h.app.db.manager.findOneByOrFail(AuditEntry, { action: 'reassign.apply' });
    expect(audit).toMatchObject({ actor: 'op-test', subject: 'manager:zhao_hz02' });

    const again = await reassignCommand({ from: 'zhao_hz02', to: 'wang_hz01' }, ctx(true));
    expect(again.json).toMatchObject({ counts: { skipped: N - 1, limit: 1 } });
    expect(h.fake.count('externalcontact/transfer_customer')).toBe(2);
  });

  it('--poll records the answers of waiting transfers (dry run first)', async () => {
    const dry = await reassignCommand({ poll: true }, ctx());
    expect(dry.json).toMatchObject({ applied: false, waiting: N - 1 });
    h.fake.completeTransfers(true);
    const res = await reassignCommand({ poll: true }, ctx(true));
    expect(res.exitCode).toBe(EXIT.ok);
    expect(res.json).toMatchObject({ applied: true, changed: N - 1, byStatus: { success: N - 1 } });
  });

  it('--auto lets the engine choose takeovers, never the leaving manager', async () => {
    // After the poll wang carries the N - 1 customers; plan handing them on.
    const res = await reassignCommand({ from: 'wang_hz01', auto: true }, ctx());
    const r = res.json as { total: number; items: { takeover: string | null; rule: string }[]; applied: boolean };
    expect(r).toMatchObject({ applied: false });
    expect(r.total).toBeGreaterThanOrEqual(N - 1);
    expect(r.items.every((i) => i.takeover !== 'wang_hz01')).toBe(true);
    expect(r.items.some((i) => i.takeover !== null)).toBe(true);
    expect(r.items.every((i) => i.rule !== 'explicit')).toBe(true);
  });

  it('sandbox add-contact and delete-contact deliver signed callbacks the server processes', async () => {
    const added = await sandboxCommand(
      { action: 'add-contact', target: h.app, userid: 'wang_hz01', name: '访客甲' },
      ctx(),
    );
    expect(added.exitCode).toBe(EXIT.ok);
    const externalUserId = (added.json as { externalUserId: string }).externalUserId;
    await h.settle();
    expect(
      await h.app.db.manager.findOneBy(Follow, { externalUserid: externalUserId, userid: 'wang_hz01' }),
    ).toMatchObject({
      deletedAt: null,
    });
    const deleted = await sandboxCommand(
      { action: 'delete-contact', target: h.app, userid: 'wang_hz01', externalUserid: externalUserId },
      ctx(),
    );
    expect(deleted.exitCode).toBe(EXIT.ok);
    await h.settle();
    expect(
      await h.app.db.manager.findOneBy(Follow, { externalUserid: externalUserId, userid: 'wang_hz01' }),
    ).toMatchObject({
      deletedBy: 'customer',
    });
  });

  it('sandbox: missing options and non-sandbox configs are usage errors', async () => {
    await expect(
      sandboxCommand({ action: 'delete-contact', target: h.app, userid: 'wang_hz01' }, ctx()),
    ).rejects.toThrow(/--external-userid is required/);
    await expect(sandboxCommand({ action: 'add-contact', target: h.app, userid: 'nobody' }, ctx())).rejects.toThrow(
      /no sandbox member nobody/,
    );
    const real = testConfig(h.app.config.database.url, {
      WECOM_CORP_ID: 'ww1234567890',
      WECOM_CALLBACK_TOKEN: 'tok',
      WECOM_CALLBACK_AES_KEY: 'a'.repeat(43),
      WECOM_AGENT_ID: '1000002',
      WECOM_AGENT_SECRET: 'agent-secret-123',
      SESSION_SECRET: 's'.repeat(32),
      ENTRY_SECRET: 'e'.repeat(32),
      PHONE_HASH_SALT: 'p'.repeat(32),
      SECRETS_KEY: 'b'.repeat(64),
      PUBLIC_BASE_URL: 'https://wecom.example.com',
    });
    await expect(sandboxCommand({ action: 'add-contact', userid: 'x' }, { ...ctx(), config: real })).rejects.toThrow(
      /need the sandbox/,
    );
  });
});
