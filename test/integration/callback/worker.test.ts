import type { FastifyInstance } from 'fastify';
import { build } from '../../../server/app';
import { inboxStats, listInbox, replayInbox } from '../../../server/callback/inbox-repo';
import { openDatabase } from '../../../server/db/data-source';
import { InboxEvent } from '../../../server/db/entities';
import { sha256Hex } from '../../../server/wecom/crypto';
import type { EventOf } from '../../../server/wecom/events';
import { PROBE, postEvent } from '../../helpers/callback';
import { DB_TARGETS, openFreshDb, testConfig } from '../../helpers/db';

// The probe events these tests post join the typed event map the way a feature's events do.
declare module '../../../server/wecom/events' {
  interface EventMap {
    'event/probe_ok': { Seq: string };
    'event/probe_fail': { Seq: string };
    'event/probe_permanent': { Seq: string };
    'event/probe_slow': { Seq: string };
    'event/probe_welcome': { Seq: string };
  }
}

describe.each(DB_TARGETS)('inbox worker on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let app: FastifyInstance;
  let clock = Date.now();
  const seen: string[] = [];
  let failures = 0;

  beforeAll(async () => {
    fresh = await openFreshDb(target);
    app = await build(testConfig(fresh.url, { WORKER_MAX_ATTEMPTS: '3' }), {
      db: fresh.ds,
      worker: false,
      now: () => clock,
    });
    app.events.on('event/probe_ok', async (e) => {
      seen.push(String(e.Seq));
    });
    app.events.on('event/probe_fail', async () => {
      failures++;
      throw new Error('downstream unavailable');
    });
    app.events.on('event/probe_permanent', async () => {
      throw Object.assign(new Error('no such customer'), { permanent: true });
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await fresh.ds.destroy();
    await fresh.drop();
  });

  it('retries a failing handler with backoff, then moves it to dead with the last error', async () => {
    const p = PROBE(app.config.wecom.corpId, 'f1', 'probe_fail');
    expect((await postEvent(app, p)).statusCode).toBe(200);
    const row = () => fresh.ds.getRepository(InboxEvent).findOneByOrFail({ dedupKey: sha256Hex(p) });

    await app.worker.drain();
    expect(failures).toBe(1);
    let r = await row();
    expect(r.status).toBe('pending');
    expect(r.attempts).toBe(1);
    expect(r.nextAttemptAt).toBeGreaterThan(clock);
    expect(r.lastError).toBe('downstream unavailable');

    await app.worker.drain(); // not due yet: nothing happens
    expect(failures).toBe(1);

    clock += 60 * 60_000;
    await app.worker.drain();
    clock += 60 * 60_000;
    await app.worker.drain();
    r = await row();
    expect(failures).toBe(3);
    expect(r.status).toBe('dead');
    expect(r.attempts).toBe(3);

    const dead = await listInbox(fresh.ds, { status: 'dead' });
    expect(dead.map((d) => d.id)).toContain(r.id);
    expect(dead.find((d) => d.id === r.id)?.type).toBe('probe_fail');

    // Replay from the dead letter gives it a fresh budget.
    expect(await replayInbox(fresh.ds, { id: r.id }, clock)).toBe(1);
    await app.worker.drain();
    expect(failures).toBe(4);
    expect((await row()).attempts).toBe(1);
  });

  it('sends errors marked permanent straight to dead', async () => {
    const p = PROBE(app.config.wecom.corpId, 'perm', 'probe_permanent');
    await postEvent(app, p);
    await app.worker.drain();
    const r = await fresh.ds.getRepository(InboxEvent).findOneByOrFail({ dedupKey: sha256Hex(p) });
    expect(r.status).toBe('dead');
    expect(r.attempts).toBe(1);
  });

  it('backoff grows exponentially with jitter inside the upper half', () => {
    for (const n of [1, 2, 3, 6]) {
      const d = app.worker.backoff(n);
      const full = 1000 * 2 ** (n - 1);
      expect(d).toBeGreaterThanOrEqual(full / 2);
      expect(d).toBeLessThanOrEqual(full);
    }
    expect(app.worker.backoff(40)).toBeLessThanOrEqual(10 * 60_000);
  });

  it('takes over rows whose lease expired (a killed process) and finishes them once', async () => {
    const p = PROBE(app.config.wecom.corpId, 'lease-1', 'probe_ok');
    await postEvent(app, p);
    // Simulate a process that claimed the row and died.
    await fresh.ds
      .getRepository(InboxEvent)
      .update(
        { dedupKey: sha256Hex(p) },
        { status: 'processing', lockedBy: 'dead-host:1:x', lockedUntil: clock + 60_000, attempts: 1 },
      );
    await app.worker.drain();
    expect(seen).not.toContain('lease-1');
    clock += 120_000; // lease expired; the sweep runs at most every 5 s of clock time
    (app.worker as unknown as { lastSweep: number }).lastSweep = 0;
    await (app.worker as unknown as { sweep(): Promise<void> }).sweep();
    await app.worker.drain();
    expect(seen.filter((s) => s === 'lease-1')).toHaveLength(1);
    const r = await fresh.ds.getRepository(InboxEvent).findOneByOrFail({ dedupKey: sha256Hex(p) });
    expect(r.status).toBe('done');
    expect(r.attempts).toBe(2);
  });

  it('reports inbox depth by status', async () => {
    const stats = await inboxStats(fresh.ds);
    expect(stats.done).toBeGreaterThanOrEqual(1);
    expect(stats.dead).toBeGreaterThanOrEqual(1);
    const metrics = await app.metricsServer.inject('/metrics');
    expect(metrics.body).toMatch(/wecom_inbox_depth\{status="dead"\} [1-9]/);
  });
});

describe('two app instances on one MariaDB', () => {
  // 1,000 events through two instances take ~25 s alone; a loaded CI machine gets a larger budget
  // (a time limit, not a timing assertion).
  it('never double-process 1,000 events', async () => {
    const fresh = await openFreshDb('mariadb');
    const ds2 = await openDatabase({ url: fresh.url });
    const config = testConfig(fresh.url, { WORKER_CONCURRENCY: '8' });
    const processed = new Map<string, number>();
    const handler = async (e: EventOf<'event/probe_ok'>, inst: string) => {
      const k = String(e.Seq);
      processed.set(k, (processed.get(k) ?? 0) + 1);
      if (inst === 'b') await new Promise((r) => setImmediate(r));
    };
    const a = await build(config, { db: fresh.ds, worker: false });
    const b = await build({ ...config }, { db: ds2, worker: false });
    a.events.on('event/probe_ok', async (e) => handler(e, 'a'));
    b.events.on('event/probe_ok', async (e) => handler(e, 'b'));
    await Promise.all([a.ready(), b.ready()]);
    try {
      for (let i = 0; i < 1000; i += 100) {
        const batch = Array.from({ length: 100 }, (_, j) =>
          postEvent(i % 200 === 0 ? a : b, PROBE(config.wecom.corpId, i + j, 'probe_ok')),
        );
        for (const res of await Promise.all(batch)) expect(res.statusCode).toBe(200);
      }
      a.worker.start();
      b.worker.start();
      // Run both claim loops concurrently until the inbox is drained.
      await Promise.all([a.worker.drain(), b.worker.drain(), a.worker.drain(), b.worker.drain()]);
      const stats = await inboxStats(fresh.ds);
      expect(stats.done).toBe(1000);
      expect(stats.pending + stats.processing).toBe(0);
      expect(processed.size).toBe(1000);
      expect([...processed.values()].every((n) => n === 1)).toBe(true);
      const attempts: { n: number | string }[] = await fresh.ds.query('SELECT MAX(attempts) AS n FROM inbox');
      expect(Number(attempts[0].n)).toBe(1);
    } finally {
      await a.close();
      await b.close();
      await ds2.destroy();
      await fresh.ds.destroy();
      await fresh.drop();
    }
  }, 120_000);
});

describe.each(DB_TARGETS)('welcome fast lane on %s', (target) => {
  it('an event carrying a WelcomeCode is processed at once, not behind a blocked backlog', async () => {
    const fresh = await openFreshDb(target);
    const app = await build(testConfig(fresh.url, { WORKER_ENABLED: 'true', WORKER_CONCURRENCY: '2' }), {
      db: fresh.ds,
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let slowStarted = 0;
    const welcomed: string[] = [];
    app.events.on('event/probe_slow', async () => {
      slowStarted++;
      await gate;
    });
    app.events.on('event/probe_welcome', async (e) => {
      welcomed.push(String(e.Seq));
    });
    await app.ready();
    const waitUntil = async (ok: () => boolean | Promise<boolean>) => {
      const deadline = Date.now() + 10_000;
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error('condition not reached in 10 s');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      for (let i = 0; i < 4; i++) await postEvent(app, PROBE(app.config.wecom.corpId, `slow${i}`, 'probe_slow'));
      await waitUntil(() => slowStarted === 2); // both worker slots are now stuck
      const urgent = PROBE(app.config.wecom.corpId, 'w1', 'probe_welcome').replace(
        '</xml>',
        '<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>',
      );
      expect((await postEvent(app, urgent)).statusCode).toBe(200);
      await waitUntil(() => welcomed.length === 1);
      expect(welcomed).toEqual(['w1']);
      expect(slowStarted).toBe(2);
      expect((await inboxStats(fresh.ds)).pending).toBe(2); // the backlog is still waiting
      release();
      await waitUntil(async () => (await inboxStats(fresh.ds)).done === 5);
    } finally {
      release();
      await app.close();
      await fresh.ds.destroy();
      await fresh.drop();
    }
  });
});
