import { openFreshDb } from '../../helpers/db';
import {
  CallbackSender,
  get,
  type ServerProcess,
  sendAll,
  startServer,
  stopAllServers,
  waitFor,
} from '../../helpers/server-process';
import { inboxRows, openCount, probeEvents, unhandledProbes } from './inbox-probe';

jest.setTimeout(120_000);

const EVENTS = 1000;

describe('two server processes on one MariaDB schema', () => {
  afterAll(stopAllServers);

  it('each of 1,000 events posted round-robin is stored once and processed exactly once', async () => {
    const fresh = await openFreshDb('mariadb'); // migrated here, so the two processes do not race on it
    const sender = new CallbackSender();
    const servers: ServerProcess[] = [];
    try {
      const env = { WORKER_CONCURRENCY: '4' };
      servers.push(...(await Promise.all([0, 1].map(() => startServer({ databaseUrl: fresh.url, env })))));
      const { texts, keys } = probeEvents(EVENTS);
      const statuses = await sendAll(sender, texts, { concurrency: 20, target: (i) => servers[i % 2].url });
      expect(statuses.filter((s) => s !== 200)).toEqual([]);

      expect(await waitFor(async () => (await openCount(fresh.ds)) === 0, 45_000, 200)).toBe(true);
      const rows = await inboxRows(fresh.ds);
      expect(rows.size).toBe(EVENTS);
      for (const k of keys) expect(rows.get(k)).toMatchObject({ status: 'unhandled', attempts: 1, lockedBy: null });

      // Each process counts the events its worker finished: together exactly 1,000, both took part.
      const counts = await Promise.all(
        servers.map(async (s) => unhandledProbes((await get(`${s.metricsUrl}/metrics`)).body)),
      );
      expect(counts[0] + counts[1]).toBe(EVENTS);
      expect(counts[0]).toBeGreaterThan(0);
      expect(counts[1]).toBeGreaterThan(0);

      const exits = await Promise.all(servers.splice(0).map((s) => s.stop('SIGTERM')));
      expect(exits).toEqual([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
      process.stdout.write(`[multiprocess] processed per process: ${counts.join(' + ')}\n`);
    } finally {
      sender.close();
      await Promise.all(servers.map((s) => s.stop('SIGKILL')));
      await fresh.ds.destroy();
      await fresh.drop();
    }
  });
});
