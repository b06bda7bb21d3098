import { DataSource } from 'typeorm';
import { openDatabase } from '../../server/db/data-source';
import { freshDb } from '../helpers/db';
import {
  CallbackSender,
  get,
  type ServerProcess,
  startServer,
  stopAllServers,
  waitFor,
} from '../helpers/server-process';
import { inboxRows, openCount, probeEvents, unhandledProbes } from '../integration/crash/inbox-probe';
import { TcpProxy } from './tcp-proxy';

/**
 * MariaDB "stopped" for 10 s in the middle of a load of signed callbacks. The real server runs as
 * a child process and reaches MariaDB through a TCP proxy the test cuts (every connection reset,
 * new ones refused) and restores: the shared MariaDB other suites use keeps running.
 */

const EVENTS = 1200;
const LANES = 5;
/** Each lane waits this long between requests: about 100 callbacks/s, so the load spans the outage. */
const PACE_MS = 50;
const CUT_AT_MS = 3_000;
/** The load goes on this long after the restore (or until every event was sent once). */
const AFTER_MS = 3_000;
const OUTAGE_MS = 10_000;

interface Sent {
  i: number;
  sentAt: number;
  answeredAt: number;
  status: number;
}

afterAll(stopAllServers);

it('answers 503 (never 200) while MariaDB is away, /readyz false, then recovers and processes every acknowledged event once', async () => {
  const fresh = await freshDb('mariadb');
  const proxy = new TcpProxy(3306);
  await proxy.listen();
  const sender = new CallbackSender();
  let server: ServerProcess | undefined;
  let ds: DataSource | undefined;
  try {
    server = await startServer({
      databaseUrl: fresh.url.replace('@127.0.0.1:3306/', `@127.0.0.1:${proxy.port}/`),
      env: { WORKER_CONCURRENCY: '4' },
    });
    const srv = server;
    let crashed = false;
    void srv.exited.then(() => {
      crashed = true;
    });
    ds = await openDatabase({ url: fresh.url }); // the test's own view, straight to MariaDB
    const { texts, keys } = probeEvents(EVENTS);

    const t0 = Date.now();
    let cutAt = Number.POSITIVE_INFINITY;
    let restoredAt = Number.POSITIVE_INFINITY;
    const readyDuring: number[] = [];
    const outage = (async () => {
      await new Promise((r) => setTimeout(r, CUT_AT_MS));
      proxy.cut();
      cutAt = Date.now();
      // /readyz is asked a few times while the database is away.
      for (let k = 0; k < 4; k++) {
        await new Promise((r) => setTimeout(r, OUTAGE_MS / 5));
        readyDuring.push((await get(`${srv.url}/readyz`).catch(() => ({ status: 0 }))).status);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, cutAt + OUTAGE_MS - Date.now())));
      restoredAt = Date.now();
      proxy.restore();
    })();

    const sent: Sent[] = [];
    let next = 0;
    const lane = async () => {
      while (next < EVENTS && Date.now() < restoredAt + AFTER_MS) {
        const i = next++;
        const sentAt = Date.now();
        const status = await sender.post(srv.url, texts[i]);
        sent.push({ i, sentAt, answeredAt: Date.now(), status });
        await new Promise((r) => setTimeout(r, PACE_MS));
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    await outage;
    const loadMs = Date.now() - t0;

    // While it was down: every callback sent after the cut and answered before the restore got 503.
    const whileDown = sent.filter((s) => s.sentAt >= cutAt && s.answeredAt < restoredAt);
    const phase = (what: string) => process.stdout.write(`[db-outage] ${what} at ${Date.now() - t0} ms\n`);
    phase(`load sent (${whileDown.length} answered while down)`);
    // The outage really met the load (how many depends on how busy the machine is).
    expect(whileDown.length).toBeGreaterThan(20);
    expect(whileDown.filter((s) => s.status !== 503)).toEqual([]);
    expect(sent.every((s) => s.status === 200 || s.status === 503)).toBe(true);
    expect(readyDuring).toEqual([503, 503, 503, 503]);
    expect(crashed).toBe(false);

    // Recovery: ready again, and WeCom's redelivery of everything not acknowledged succeeds.
    expect(await waitFor(async () => (await get(`${srv.url}/readyz`)).status === 200, 20_000, 200)).toBe(true);
    const acked = new Set(sent.filter((s) => s.status === 200).map((s) => s.i));
    let missing = texts.map((_, i) => i).filter((i) => !acked.has(i));
    const refusedFirst = missing.length;
    for (let round = 0; round < 10 && missing.length; round++) {
      const again = await Promise.all(missing.map((i) => sender.post(srv.url, texts[i])));
      missing = missing.filter((_, j) => again[j] !== 200);
      if (missing.length) await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(missing).toEqual([]);

    phase('redelivered');
    const lastDelivery = Date.now();
    const backlog = await openCount(ds);
    expect(await waitFor(async () => (await openCount(ds!)) === 0, 60_000, 200)).toBe(true);
    const drainedMs = Date.now() - lastDelivery;

    phase('drained');
    const rows = await inboxRows(ds);
    expect(rows.size).toBe(EVENTS);
    for (const k of keys) expect(rows.get(k)?.status).toBe('unhandled');
    // A row claimed when the database went away runs again after its lease: at most twice claimed.
    const attempts = [...rows.values()].map((r) => r.attempts);
    expect(Math.max(...attempts)).toBeLessThanOrEqual(2);
    // Processed once: the worker counts an outcome only when its finish was stored. A finish whose
    // commit reached MariaDB while the reset took its answer is stored but not counted (at most one
    // per worker slot at the cut), so the count may fall short by that, never exceed EVENTS.
    const processed = unhandledProbes((await get(`${srv.metricsUrl}/metrics`)).body);
    expect(processed).toBeLessThanOrEqual(EVENTS);
    expect(processed).toBeGreaterThanOrEqual(EVENTS - 4);
    expect(crashed).toBe(false);

    const exit = await srv.stop('SIGTERM');
    server = undefined;
    expect(exit).toEqual({ code: 0, signal: null });
    process.stdout.write(
      `[db-outage] load ${loadMs} ms, ${whileDown.length} callbacks answered 503 during the ${OUTAGE_MS} ms outage, ` +
        `${refusedFirst} redelivered, backlog ${backlog} drained ${drainedMs} ms after the last delivery, ` +
        `${attempts.filter((a) => a > 1).length} rows claimed twice, proxy refused ${proxy.refused} connections\n`,
    );
  } finally {
    sender.close();
    if (server) await server.stop('SIGKILL');
    await proxy.close();
    if (ds) await ds.destroy();
    await fresh.drop();
  }
});
