import { DB_TARGETS, openFreshDb } from '../../helpers/db';
import {
  CallbackSender,
  type ServerProcess,
  sendAll,
  startServer,
  stopAllServers,
  waitFor,
} from '../../helpers/server-process';
import { freezeWhileHolding, inboxRows, openCount, probeEvents } from './inbox-probe';

jest.setTimeout(120_000);

const EVENTS = 1500;
const IN_FLIGHT = 20;
const TERM_AFTER = 400;

describe.each(DB_TARGETS)('SIGTERM with requests in flight on %s', (target) => {
  afterAll(stopAllServers);

  it('answers 200 only for stored events, exits 0 after draining, and leaves no claimed row', async () => {
    const fresh = await openFreshDb(target);
    const sender = new CallbackSender();
    let b: ServerProcess | undefined;
    try {
      const { texts, keys } = probeEvents(EVENTS);
      const a = await startServer({ databaseUrl: fresh.url, env: { WORKER_CONCURRENCY: '4' } });
      let termed: Promise<number> | undefined;
      let heldKeys: string[] = [];
      const statuses = await sendAll(sender, texts, {
        concurrency: IN_FLIGHT,
        target: () => a.url,
        onAnswer: (done) => {
          if (done !== TERM_AFTER) return;
          // SIGTERM lands while the worker holds a batch: the batch must finish before the exit.
          termed = freezeWhileHolding(a, fresh.ds).then(async (held) => {
            const claimed = [...(await inboxRows(fresh.ds)).values()].filter((r) => r.status === 'processing');
            a.child.kill('SIGTERM');
            a.child.kill('SIGCONT');
            heldKeys = claimed.map((r) => r.dedupKey);
            return held;
          });
        },
      });
      expect(termed).toBeDefined();
      expect(await termed!).toBeGreaterThan(0);
      const exit = await a.exited;
      expect(exit).toEqual({ code: 0, signal: null });

      // Every answer is 200 (stored), 503 (closing) or a connection error; never anything else.
      expect(statuses.every((s) => s === 200 || s === 503 || s === 0)).toBe(true);
      const acked = statuses.flatMap((s, i) => (s === 200 ? [i] : []));
      expect(acked.length).toBeGreaterThanOrEqual(TERM_AFTER);
      expect(acked.length).toBeLessThan(EVENTS);

      const afterExit = await inboxRows(fresh.ds);
      for (const i of acked) expect(afterExit.has(keys[i])).toBe(true);
      // The batch in progress at SIGTERM finished; nothing is left claimed by the stopped process.
      expect([...afterExit.values()].filter((r) => r.status === 'processing')).toEqual([]);
      for (const k of heldKeys) expect(afterExit.get(k)).toMatchObject({ status: 'unhandled', attempts: 1 });

      // WeCom redelivers the rest to the next process; everything ends processed exactly once.
      b = await startServer({ databaseUrl: fresh.url, env: { WORKER_CONCURRENCY: '4' } });
      let missing = statuses.flatMap((s, i) => (s === 200 ? [] : [i]));
      for (let round = 0; round < 5 && missing.length; round++) {
        const again = await sendAll(
          sender,
          missing.map((i) => texts[i]),
          { concurrency: IN_FLIGHT, target: () => b!.url },
        );
        missing = missing.filter((_, j) => again[j] !== 200);
      }
      expect(missing).toEqual([]);
      expect(await waitFor(async () => (await openCount(fresh.ds)) === 0, 45_000, 200)).toBe(true);
      const final = await inboxRows(fresh.ds);
      expect(final.size).toBe(EVENTS);
      for (const r of final.values()) expect(r).toMatchObject({ status: 'unhandled', attempts: 1, lockedBy: null });
      expect(await b.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      b = undefined;
      process.stdout.write(
        `[graceful ${target}] acked before exit ${acked.length}/${EVENTS}, batch held at SIGTERM ${heldKeys.length}\n`,
      );
    } finally {
      sender.close();
      if (b) await b.stop('SIGKILL');
      await fresh.ds.destroy();
      await fresh.drop();
    }
  });
});
