import type { FastifyInstance } from 'fastify';
import cron from 'node-cron';
import { build } from '../../../server/app';
import {
  Allocation,
  AuditEntry,
  CorpTag,
  Follow,
  JobLease,
  Transfer,
  WelcomeMessage,
} from '../../../server/db/entities';
import { yesterdayCst } from '../../../server/jobs/daily-metrics';
import { productJobs, runJobNow } from '../../../server/jobs/plugin';
import { JOBS_TIMEZONE, type JobDefinition, JobRunner, type JobScheduler } from '../../../server/jobs/runner';
import { metricValue } from '../../helpers/callback';
import { DB_TARGETS, freshDb, openFreshDb, testConfig } from '../../helpers/db';

const MIN = 60_000;

/** A job that records which tick it ran for and does a little DB work, so two claimers really race. */
function probeJob(ran: (number | null)[], periodMs = 10 * MIN): JobDefinition {
  return {
    name: 'probe',
    schedule: '*/10 * * * *',
    periodMs,
    description: 'test probe',
    run: async (ctx) => {
      await ctx.db.query('SELECT 1');
      ran.push(ctx.tick);
      return { tick: ctx.tick };
    },
  };
}

describe.each(DB_TARGETS)('job lease on %s', (target) => {
  it('two apps on one database: exactly one runs each tick, the other skips on the lease', async () => {
    const fresh = await freshDb(target);
    let clock = Date.UTC(2026, 10, 23, 2, 0, 0);
    const now = () => clock;
    const a = await build(testConfig(fresh.url, { JOBS_ENABLED: 'false' }), { now });
    const b = await build(testConfig(fresh.url, { JOBS_ENABLED: 'false' }), { now });
    try {
      await a.ready();
      await b.ready();
      const ran: (number | null)[] = [];
      const ra = new JobRunner(a, [probeJob(ran)]);
      const rb = new JobRunner(b, [probeJob(ran)]);
      for (let i = 0; i < 25; i++) {
        const tick = Date.UTC(2026, 10, 23, 2, 0, 0) + i * 10 * MIN;
        clock = tick + 3; // both processes' cron fires at the same slot
        const results = await Promise.all([ra.runTick('probe', tick), rb.runTick('probe', tick)]);
        expect(results.map((r) => r.outcome).sort()).toEqual(['ok', 'skipped_lease']);
        // A process whose cron fires late for the same tick (after the winner finished) is still refused.
        clock = tick + 2 * MIN;
        expect((await rb.runTick('probe', tick)).outcome).toBe('skipped_lease');
        expect((await ra.runTick('probe', tick)).outcome).toBe('skipped_lease');
      }
      expect(ran).toHaveLength(25);
      expect(new Set(ran).size).toBe(25);
      expect(await metricValue(a, 'jobs_runs_total', { job: 'probe', outcome: 'ok' })).toBeGreaterThan(0);
      expect(
        (await metricValue(a, 'jobs_runs_total', { job: 'probe', outcome: 'ok' })) +
          (await metricValue(b, 'jobs_runs_total', { job: 'probe', outcome: 'ok' })),
      ).toBe(25);
      const lease = await a.db.getRepository(JobLease).findOneByOrFail({ name: 'probe' });
      expect(lease.holder.startsWith('done:')).toBe(true);
    } finally {
      await a.close();
      await b.close();
      await fresh.drop();
    }
  });

  it('scheduled slots on two apps: both fire for every slot, each slot runs once', async () => {
    const fresh = await freshDb(target);
    const a = await build(testConfig(fresh.url, { JOBS_ENABLED: 'false' }));
    const b = await build(testConfig(fresh.url, { JOBS_ENABLED: 'false' }));
    // Both processes' schedulers fire the same slot, as node-cron does on two machines: by hand,
    // so the test waits for no real clock.
    const fired: { expression: string; timezone: string; fire: (slot: Date) => Promise<void> }[] = [];
    let destroyed = 0;
    const scheduler: JobScheduler = {
      schedule: (expression, opts, fire) => {
        fired.push({ expression, timezone: opts.timezone, fire });
        return { destroy: () => void destroyed++ };
      },
    };
    const ran: (number | null)[] = [];
    const every = (): JobDefinition => ({ ...probeJob(ran, 1000), schedule: '* * * * * *' });
    const ra = new JobRunner(a, [every()], { leaseMs: 5000, scheduler });
    const rb = new JobRunner(b, [every()], { leaseMs: 5000, scheduler });
    try {
      await a.ready();
      await b.ready();
      ra.start();
      rb.start();
      expect(fired.map((f) => [f.expression, f.timezone])).toEqual([
        ['* * * * * *', JOBS_TIMEZONE],
        ['* * * * * *', JOBS_TIMEZONE],
      ]);
      const slots = [0, 1, 2].map((i) => new Date(Date.UTC(2026, 10, 23, 2, 0, i)));
      for (const slot of slots) await Promise.all(fired.map((f) => f.fire(slot)));
      expect(ran).toEqual(slots.map((s) => s.getTime()));
      const skipped =
        (await metricValue(a, 'jobs_runs_total', { job: 'probe', outcome: 'skipped_lease' })) +
        (await metricValue(b, 'jobs_runs_total', { job: 'probe', outcome: 'skipped_lease' }));
      expect(skipped).toBe(3);
    } finally {
      await ra.stop();
      await rb.stop();
      await a.close();
      await b.close();
      await fresh.drop();
    }
    expect(destroyed).toBe(2);
  });

  it("a crashed holder's lease blocks until it expires, then the job runs; a job never overlaps itself", async () => {
    const fresh = await openFreshDb(target);
    let clock = Date.UTC(2026, 10, 23, 3, 0, 0);
    const app = await build(testConfig(fresh.url, { JOBS_ENABLED: 'false' }), { db: fresh.ds, now: () => clock });
    try {
      await app.ready();
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let runs = 0;
      const runner = new JobRunner(app, [
        {
          name: 'slow',
          schedule: '0 * * * *',
          periodMs: 60 * MIN,
          description: 'blocks until released',
          run: async () => {
            runs++;
            await gate;
            return undefined;
          },
        },
      ]);
      // A process died mid-run: its lease row says "running" until clock + 2 min.
      await fresh.ds
        .getRepository(JobLease)
        .insert({ name: 'slow', holder: 'run:deadhost:4242:abc', until: clock + 2 * MIN });
      expect((await runner.runNow('slow')).outcome).toBe('skipped_lease');
      expect((await runner.runTick('slow', clock)).outcome).toBe('skipped_lease');
      expect(runs).toBe(0);

      clock += 2 * MIN + 1;
      const first = runner.runNow('slow');
      const second = await runner.runNow('slow');
      expect(second.outcome).toBe('skipped_overlap');
      release();
      expect((await first).outcome).toBe('ok');
      expect(runs).toBe(1);
      expect(await metricValue(app, 'jobs_runs_total', { job: 'slow', outcome: 'skipped_overlap' })).toBe(1);

      const failing = new JobRunner(app, [
        {
          name: 'broken',
          schedule: '0 * * * *',
          periodMs: 60 * MIN,
          description: 'always fails',
          run: async () => {
            throw new Error('boom');
          },
        },
      ]);
      const res = await failing.runNow('broken');
      expect(res).toMatchObject({ outcome: 'failed', error: 'boom' });
      // A failed run still releases its lease: the next run is not blocked.
      expect((await failing.runNow('broken')).outcome).toBe('failed');
      expect(await metricValue(app, 'jobs_runs_total', { job: 'broken', outcome: 'failed' })).toBe(2);
      await expect(runJobNow(app, 'no-such-job')).rejects.toThrow(/unknown job/);
    } finally {
      await app.close();
      await fresh.ds.destroy();
      await fresh.drop();
    }
  });
});

describe.each(DB_TARGETS)('product jobs on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let app: FastifyInstance;
  const clock = Date.UTC(2026, 10, 23, 4, 0, 0);

  beforeAll(async () => {
    fresh = await openFreshDb(target);
    app = await build(testConfig(fresh.url, { JOBS_ENABLED: 'false' }), { db: fresh.ds, now: () => clock });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await fresh.ds.destroy();
    await fresh.drop();
  });

  it('registers the product jobs', () => {
    expect(app.jobs.names().sort()).toEqual([
      'allocation-expiry',
      'corp-tag-sync',
      'daily-metrics',
      'group-stats',
      'groups-sync',
      'inbox-retention',
      'referral-rewards',
      'reward-delivery',
      'sop-delivery',
      'todo-reminder',
      'transfer-results',
      'transfer-retry',
    ]);
  });

  it('transfer-retry: resends a transfer WeCom answered busy, once', async () => {
    const fake = app.sandbox!.fake;
    await fresh.ds.getRepository(Transfer).insert({
      externalUserid: 'wmJobRetry1',
      handoverUserid: 'hz_wangqiang',
      takeoverUserid: 'hz_liuyang',
      kind: 'onjob',
      status: 'queued',
      errcode: -1,
      reason: 'busy',
      requestedAt: clock - MIN,
      updatedAt: clock - MIN,
      takeoverTime: null,
    });
    const calls = fake.count('externalcontact/transfer_customer');
    const res = await runJobNow(app, 'transfer-retry');
    expect(res).toMatchObject({ outcome: 'ok', result: { retried: 1 } });
    expect(fake.count('externalcontact/transfer_customer')).toBe(calls + 1);
    const row = await fresh.ds.getRepository(Transfer).findOneByOrFail({ externalUserid: 'wmJobRetry1' });
    expect(row.status).not.toBe('queued');
    const again = await runJobNow(app, 'transfer-retry');
    expect(again.result).toMatchObject({ retried: 0 });
    expect(fake.count('externalcontact/transfer_customer')).toBe(calls + 1);
    await fresh.ds.getRepository(Transfer).delete({ externalUserid: 'wmJobRetry1' });
  });

  it('allocation-expiry: open allocations past expires_at become expired, others untouched, audited', async () => {
    const base = {
      customerId: null,
      externalUserid: null,
      userid: 'hz_wangqiang',
      branchCode: 'HZ001',
      ruleVersion: 'v1',
      source: 'entry' as const,
      reason: 'nearest',
      distanceMeters: null,
      explanation: {},
      campaign: null,
      state: null,
      configId: null,
      qrCode: null,
      createdAt: clock - 60 * MIN,
      confirmedAt: null,
    };
    await fresh.ds.getRepository(Allocation).insert([
      { ...base, id: 'a-old-open', status: 'open', expiresAt: clock - 1 },
      { ...base, id: 'a-old-open2', status: 'open', expiresAt: clock - 30 * MIN },
      { ...base, id: 'a-new-open', status: 'open', expiresAt: clock + MIN },
      { ...base, id: 'a-old-confirmed', status: 'confirmed', expiresAt: clock - MIN },
      { ...base, id: 'a-no-ttl', status: 'open', expiresAt: null },
    ]);
    const res = await runJobNow(app, 'allocation-expiry');
    expect(res).toMatchObject({ outcome: 'ok', result: { expired: 2 } });
    const rows = await fresh.ds.getRepository(Allocation).find({ order: { id: 'ASC' } });
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({
      'a-new-open': 'open',
      'a-no-ttl': 'open',
      'a-old-confirmed': 'confirmed',
      'a-old-open': 'expired',
      'a-old-open2': 'expired',
    });
    const auditRows = await fresh.ds.getRepository(AuditEntry).findBy({ action: 'allocation.expire' });
    expect(auditRows).toHaveLength(1);
    expect(auditRows[0].actor).toBe('job:allocation-expiry');
    // Idempotent: nothing left to expire.
    expect(await runJobNow(app, 'allocation-expiry')).toMatchObject({ outcome: 'ok', result: { expired: 0 } });
  });

  it('corp-tag-sync: mirrors the sandbox corp tag library and marks tags gone upstream as deleted', async () => {
    const fake = app.sandbox!.fake;
    const upstream = fake.tagGroups.flatMap((g) => g.tag.map((t) => t.id));
    expect(upstream.length).toBeGreaterThan(0);
    await fresh.ds.getRepository(CorpTag).insert({
      id: 'etGoneUpstream',
      groupId: 'etGroupGone',
      groupName: '旧分组',
      name: '旧标签',
      sortOrder: 0,
      deleted: false,
      updatedAt: clock - MIN,
    });
    const res = await runJobNow(app, 'corp-tag-sync');
    expect(res).toMatchObject({ outcome: 'ok', result: { tags: upstream.length, deleted: 1 } });
    const live = await fresh.ds.getRepository(CorpTag).findBy({ deleted: false });
    expect(live.map((t) => t.id).sort()).toEqual([...upstream].sort());
    expect((await fresh.ds.getRepository(CorpTag).findOneByOrFail({ id: 'etGoneUpstream' })).deleted).toBe(true);

    // A rename upstream is picked up by the next sync (upsert, not insert-only).
    const g = fake.tagGroups[0];
    g.tag[0].name = '改名后';
    await runJobNow(app, 'corp-tag-sync');
    expect((await fresh.ds.getRepository(CorpTag).findOneByOrFail({ id: g.tag[0].id })).name).toBe('改名后');
    expect(await fresh.ds.getRepository(AuditEntry).countBy({ action: 'tags.sync' })).toBe(1);
  });

  it('transfer-results: maps WeCom results 1/2/3/4 to success/waiting/refused/failed and audits changes', async () => {
    const fake = app.sandbox!.fake;
    const handover = 'hz_wangqiang';
    const takeover = 'hz_liuyang';
    const ids = ['wmJobTr1', 'wmJobTr2', 'wmJobTr3', 'wmJobTr4'];
    const fakeStatus = [1, 2, 3, 4];
    ids.forEach((ext, i) => {
      fake.transfers.push({
        kind: 'onjob',
        handover_userid: handover,
        takeover_userid: takeover,
        external_userid: ext,
        at: clock, // recent: the fake does not auto-complete it
        status: fakeStatus[i],
        ...(fakeStatus[i] === 1 ? { takeover_time: Math.floor(clock / 1000) } : {}),
      });
    });
    await fresh.ds.getRepository(Transfer).insert(
      ids.map((ext) => ({
        externalUserid: ext,
        handoverUserid: handover,
        takeoverUserid: takeover,
        kind: 'onjob' as const,
        status: 'waiting' as const,
        errcode: null,
        reason: 'test',
        requestedAt: clock - MIN,
        updatedAt: clock - MIN,
        takeoverTime: null,
      })),
    );
    const res = await runJobNow(app, 'transfer-results');
    expect(res.outcome).toBe('ok');
    expect(res.result).toMatchObject({ checked: 4, changed: 3 });
    const rows = await fresh.ds.getRepository(Transfer).find();
    expect(Object.fromEntries(rows.map((r) => [r.externalUserid, r.status]))).toEqual({
      wmJobTr1: 'success',
      wmJobTr2: 'waiting',
      wmJobTr3: 'refused',
      wmJobTr4: 'failed',
    });
    expect(rows.find((r) => r.externalUserid === 'wmJobTr1')!.takeoverTime).toBe(Math.floor(clock / 1000) * 1000);
    const audits = await fresh.ds.getRepository(AuditEntry).findBy({ actor: 'job:transfer-results' });
    expect(audits.map((a) => a.action).sort()).toEqual(['transfer.failed', 'transfer.refused', 'transfer.success']);
    // The completed transfer moved the relation to the takeover manager.
    const follow = await fresh.ds.getRepository(Follow).findOneBy({ externalUserid: 'wmJobTr1', userid: takeover });
    expect(follow?.deletedAt ?? null).toBeNull();

    // Second poll: only the waiting one is asked about again, nothing changes twice.
    const again = await runJobNow(app, 'transfer-results');
    expect(again.result).toMatchObject({ checked: 1, changed: 0 });
    expect(await fresh.ds.getRepository(AuditEntry).countBy({ actor: 'job:transfer-results' })).toBe(3);
  });

  it("daily-metrics: counts yesterday's adds, churn and welcome outcomes (China day)", async () => {
    const y = yesterdayCst(clock);
    expect(y.end - y.start).toBe(24 * 3600_000);
    // 2026-11-23 04:00 UTC is 12:00 in China: yesterday is 2026-11-22 CST.
    expect(y.day).toBe('2026-11-22');
    const follow = (
      externalUserid: string,
      addedAt: number,
      deletedAt: number | null,
      deletedBy: Follow['deletedBy'],
    ) => ({
      externalUserid,
      userid: 'hz_sunlei',
      state: null,
      remark: null,
      addedAt,
      deletedAt,
      deletedBy,
      half: false,
    });
    await fresh.ds.getRepository(Follow).insert([
      follow('wmDm1', y.start, null, null),
      follow('wmDm2', y.end - 1, null, null),
      follow('wmDm3', y.start + 1000, y.start + 5000, 'customer'),
      follow('wmDm4', y.start - 1, y.start + 10, 'manager'), // added the day before; removed by the manager
      follow('wmDm5', y.end, null, null), // today
    ]);
    const welcome = (codeHash: string, status: WelcomeMessage['status'], eventAt: number) => ({
      codeHash,
      externalUserid: 'wmDm1',
      userid: 'hz_sunlei',
      templateId: null,
      status,
      errcode: null,
      eventAt,
      sentAt: status === 'sent' ? eventAt + 100 : null,
    });
    await fresh.ds
      .getRepository(WelcomeMessage)
      .insert([
        welcome('h1', 'sent', y.start + 1),
        welcome('h2', 'sent', y.start + 2),
        welcome('h3', 'expired', y.start + 3),
        welcome('h4', 'sent', y.end + 1),
      ]);
    const res = await runJobNow(app, 'daily-metrics');
    expect(res).toMatchObject({
      outcome: 'ok',
      result: { day: '2026-11-22', adds: 3, churn: 1, welcome: { sent: 2, expired: 1 } },
    });
  });
});

describe('jobs plugin lifecycle', () => {
  it('schedules the product jobs when enabled and leaves no cron task behind after close', async () => {
    const fresh = await freshDb('sqlite');
    const before = cron.getTasks().size;
    const app = await build(testConfig(fresh.url, { JOBS_ENABLED: 'true' }));
    try {
      await app.ready();
      expect(cron.getTasks().size).toBe(before + productJobs(app.config).length);
    } finally {
      await app.close();
      await fresh.drop();
    }
    expect(cron.getTasks().size).toBe(before);
  });

  it('JOBS_ENABLED=false schedules nothing but runJobNow still works', async () => {
    const fresh = await freshDb('sqlite');
    const before = cron.getTasks().size;
    const app = await build(testConfig(fresh.url, { JOBS_ENABLED: 'false' }));
    try {
      await app.ready();
      expect(app.config.jobs.enabled).toBe(false);
      expect(cron.getTasks().size).toBe(before);
      expect((await runJobNow(app, 'allocation-expiry')).outcome).toBe('ok');
    } finally {
      await app.close();
      await fresh.drop();
    }
  });
});

describe.each(DB_TARGETS)('customer-group jobs on %s', (target) => {
  it('groups-sync brings the demo groups in under the lease; group-stats stores yesterday per owner', async () => {
    const { seedDemoData } = await import('../../../server/sandbox/seed');
    const { CustomerGroup, CustomerGroupStat } = await import('../../../server/db/entities');
    const { DEMO_BRANCHES } = await import('../../../server/sandbox/demo-data');
    const fresh = await openFreshDb(target);
    const clock = Date.UTC(2026, 10, 23, 4, 0, 0);
    const app = await build(testConfig(fresh.url, { JOBS_ENABLED: 'false' }), { db: fresh.ds, now: () => clock });
    try {
      await app.ready();
      await seedDemoData(fresh.ds, clock);
      expect(await fresh.ds.query('SELECT code FROM campaigns')).toEqual([{ code: 'demo-ljj' }]);
      const res = await runJobNow(app, 'groups-sync');
      expect(res).toMatchObject({ outcome: 'ok', result: { groups: DEMO_BRANCHES.length, newGroups: 7 } });
      const groups = await fresh.ds.getRepository(CustomerGroup).find();
      expect(new Set(groups.map((g) => g.branchCode))).toEqual(new Set(DEMO_BRANCHES.map((b) => b.code)));
      expect(groups.every((g) => g.customerCount > 0)).toBe(true);
      const stats = await runJobNow(app, 'group-stats');
      expect(stats).toMatchObject({ outcome: 'ok', result: { owners: 7, rows: 7, failed: 0 } });
      expect(await fresh.ds.getRepository(CustomerGroupStat).countBy({ day: '2026-11-22' })).toBe(7);
    } finally {
      await app.close();
      await fresh.ds.destroy();
      await fresh.drop();
    }
  });
});
