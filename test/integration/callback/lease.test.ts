import type { FastifyInstance } from 'fastify';
import { UpdateQueryBuilder } from 'typeorm';
import { build } from '../../../server/app';
import { inboxStats } from '../../../server/callback/inbox-repo';
import { openDatabase } from '../../../server/db/data-source';
import { InboxEvent } from '../../../server/db/entities';
import { sha256Hex } from '../../../server/wecom/crypto';
import { metricValue, PROBE, postEvent } from '../../helpers/callback';
import { DB_TARGETS, openFreshDb, testConfig } from '../../helpers/db';

declare module '../../../server/wecom/events' {
  interface EventMap {
    'event/probe_takeover': { Seq: string };
    'event/probe_once': { Seq: string };
  }
}

/** Polls until `ok` holds (bounded): outcomes are asserted, never timings. */
async function waitUntil(ok: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`condition not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Real clocks on purpose: the heartbeat and the other process's sweep are timers.
describe.each(DB_TARGETS)('inbox lease heartbeat on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let a: FastifyInstance;

  beforeAll(async () => {
    fresh = await openFreshDb(target);
    // The shortest lease the configuration allows, so a handler can outlive it several times.
    a = await build(testConfig(fresh.url, { WORKER_LEASE_MS: '1000' }), { db: fresh.ds, worker: false });
  });
  afterAll(async () => {
    await a.close();
    await fresh.ds.destroy();
    await fresh.drop();
  });

  it('renews the lease while a handler runs longer than the lease, and no other worker takes the row', async () => {
    const ds2 = await openDatabase({ url: fresh.url });
    // Process B: its worker runs (sweeping expired leases every 200 ms) the whole time.
    const b = await build(testConfig(fresh.url, { WORKER_LEASE_MS: '1000', WORKER_ENABLED: 'true' }), { db: ds2 });
    const runs: string[] = [];
    const untils: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    a.events.on('event/probe_slow', async (e) => {
      runs.push(`a:${e.Seq}`);
      await gate;
    });
    b.events.on('event/probe_slow', async (e) => {
      runs.push(`b:${e.Seq}`);
    });
    await Promise.all([a.ready(), b.ready()]);
    try {
      await b.worker.stop(); // B must not claim the fresh row first; restarted below once A holds it
      const p = PROBE(a.config.wecom.corpId, 'slow-1', 'probe_slow');
      expect((await postEvent(a, p)).statusCode).toBe(200);
      const row = () => fresh.ds.getRepository(InboxEvent).findOneByOrFail({ dedupKey: sha256Hex(p) });
      const draining = a.worker.drain();
      await waitUntil(() => runs.length === 1);
      b.worker.start();
      const claimedUntil = (await row()).lockedUntil!;
      // Stay inside the handler for more than three leases, watching the lease move forward.
      const holdUntil = Date.now() + 3_500;
      while (Date.now() < holdUntil) {
        const r = await row();
        expect(r.status).toBe('processing');
        untils.push(r.lockedUntil!);
        await new Promise((res) => setTimeout(res, 100));
      }
      release();
      await draining;
      expect(Math.max(...untils)).toBeGreaterThan(claimedUntil + 2_000);
      expect(runs).toEqual(['a:slow-1']);
      const done = await row();
      expect(done.status).toBe('done');
      expect(done.attempts).toBe(1);
      expect(await metricValue(a, 'wecom_inbox_lease_lost_total', { at: 'taken_over' })).toBe(0);
    } finally {
      release();
      await b.close();
      await ds2.destroy();
    }
  });

  it('a heartbeat that finds the row taken over stops the handler and records nothing as owner', async () => {
    let sawAbort = false;
    let started = false;
    a.events.on('event/probe_takeover', async (_e, ctx) => {
      started = true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        ctx.signal?.addEventListener('abort', () => {
          sawAbort = true;
          clearTimeout(timer);
          resolve();
        });
      });
    });
    const p = PROBE(a.config.wecom.corpId, 'to-1', 'probe_takeover');
    expect((await postEvent(a, p)).statusCode).toBe(200);
    const key = sha256Hex(p);
    const draining = a.worker.drain();
    await waitUntil(() => started);
    // Another process took the row over (as if our lease had expired while we were stalled).
    const far = Date.now() + 3_600_000;
    await fresh.ds
      .getRepository(InboxEvent)
      .update({ dedupKey: key }, { lockedBy: 'other-host:1:abc:7', lockedUntil: far });
    await draining;
    expect(sawAbort).toBe(true);
    const r = await fresh.ds.getRepository(InboxEvent).findOneByOrFail({ dedupKey: key });
    // Untouched by the process that lost it: still the new owner's, not "done", lease not extended.
    expect(r).toMatchObject({ status: 'processing', lockedBy: 'other-host:1:abc:7', lockedUntil: far });
    expect(await metricValue(a, 'wecom_inbox_lease_lost_total', { at: 'taken_over' })).toBe(1);
    expect(await metricValue(a, 'wecom_inbox_lease_lost_total', { at: 'finish' })).toBe(1);
    expect((await inboxStats(fresh.ds)).processing).toBe(1);
  });

  it('retries a finish that failed transiently (a deadlock), so the event is not run again', async () => {
    let runs = 0;
    a.events.on('event/probe_once', async () => {
      runs++;
    });
    const orig = UpdateQueryBuilder.prototype.execute;
    let failed = 0;
    const spy = jest.spyOn(UpdateQueryBuilder.prototype, 'execute').mockImplementation(function (
      this: UpdateQueryBuilder<InboxEvent>,
    ) {
      const set = this.expressionMap.valuesSet as Record<string, unknown> | undefined;
      if (set?.status === 'done' && failed === 0) {
        failed++;
        return Promise.reject(new Error('Deadlock found when trying to get lock; try restarting transaction'));
      }
      return orig.call(this);
    });
    try {
      const p = PROBE(a.config.wecom.corpId, 'once-1', 'probe_once');
      expect((await postEvent(a, p)).statusCode).toBe(200);
      await a.worker.drain();
      expect(failed).toBe(1);
      expect(runs).toBe(1);
      expect(await fresh.ds.getRepository(InboxEvent).findOneByOrFail({ dedupKey: sha256Hex(p) })).toMatchObject({
        status: 'done',
        attempts: 1,
        lockedBy: null,
      });
    } finally {
      spy.mockRestore();
    }
  });
});
