import type { DataSource } from 'typeorm';
import { DB_TARGETS, openFreshDb } from '../../helpers/db';
import {
  CallbackSender,
  type ExitInfo,
  type ServerProcess,
  sendAll,
  startServer,
  stopAllServers,
  waitFor,
} from '../../helpers/server-process';
import { freezeWhileHolding, type InboxRowView, inboxRows, openCount, probeEvents } from './inbox-probe';

jest.setTimeout(120_000);

const EVENTS = 2000;
const IN_FLIGHT = 20;
/** After this many answers, look for a moment when the server holds claimed rows, and kill it then. */
const HUNT_AFTER = 500;
/** Short worker lease so rows claimed by the killed process are taken over quickly. */
const SERVER_ENV = { WORKER_LEASE_MS: '1500', WORKER_CONCURRENCY: '8' };

/** Kills the server at a moment when its worker holds claimed rows (see freezeWhileHolding). */
async function killWhileHolding(
  server: ServerProcess,
  ds: DataSource,
): Promise<{ exit: ExitInfo; heldAtKill: number }> {
  const heldAtKill = await freezeWhileHolding(server, ds);
  return { exit: await server.stop('SIGKILL'), heldAtKill };
}

describe.each(DB_TARGETS)('SIGKILL mid-stream on %s', (target) => {
  afterAll(stopAllServers);

  it('loses no acknowledged event, stores each once, and finishes each once after a restart', async () => {
    const fresh = await openFreshDb(target);
    const sender = new CallbackSender();
    let b: ServerProcess | undefined;
    try {
      const { texts, keys } = probeEvents(EVENTS);
      const a = await startServer({ databaseUrl: fresh.url, env: SERVER_ENV });
      let killed: Promise<{ exit: ExitInfo; heldAtKill: number }> | undefined;
      const first = await sendAll(sender, texts, {
        concurrency: IN_FLIGHT,
        target: () => a.url,
        onAnswer: (done) => {
          if (done === HUNT_AFTER) killed = killWhileHolding(a, fresh.ds);
        },
      });
      expect(killed).toBeDefined();
      const { exit, heldAtKill } = await killed!;
      expect(exit.signal).toBe('SIGKILL');
      // The kill happened while the worker held claimed rows, so the takeover path really runs.
      expect(heldAtKill).toBeGreaterThan(0);

      const acked = first.flatMap((s, i) => (s === 200 ? [i] : []));
      expect(first.every((s) => s === 200 || s === 0)).toBe(true);
      expect(acked.length).toBeGreaterThanOrEqual(HUNT_AFTER);
      expect(acked.length).toBeLessThan(EVENTS);

      // The process is dead: what is on disk now is what survived the crash.
      const afterCrash = await inboxRows(fresh.ds);
      for (const i of acked) expect(afterCrash.has(keys[i])).toBe(true);
      const heldByDead = [...afterCrash.values()].filter((r) => r.status === 'processing');
      expect(heldByDead.length).toBe(heldAtKill);
      const finishedByDead = [...afterCrash.values()].filter((r) => r.status === 'unhandled');

      // Restart on the same database and redeliver everything not acknowledged, as WeCom does.
      b = await startServer({ databaseUrl: fresh.url, env: SERVER_ENV });
      let missing = first.flatMap((s, i) => (s === 200 ? [] : [i]));
      for (let round = 0; round < 5 && missing.length; round++) {
        const again = await sendAll(
          sender,
          missing.map((i) => texts[i]),
          { concurrency: IN_FLIGHT, target: () => b!.url },
        );
        missing = missing.filter((_, j) => again[j] !== 200);
      }
      expect(missing).toEqual([]);

      const drained = await waitFor(async () => (await openCount(fresh.ds)) === 0, 45_000, 200);
      expect(drained).toBe(true);

      const final = await inboxRows(fresh.ds);
      expect(final.size).toBe(EVENTS);
      for (const k of keys) expect(final.has(k)).toBe(true);
      const byKey = (k: string) => final.get(k) as InboxRowView;
      for (const r of final.values()) {
        expect(r.status).toBe('unhandled');
        expect(r.lockedBy).toBeNull();
        expect(r.lastError).toBeNull();
      }
      // Rows the dead process finished were never run again.
      for (const r of finishedByDead) expect(byKey(r.dedupKey).attempts).toBe(1);
      // Rows it had claimed were taken over after the lease expired: claimed once by each process.
      for (const r of heldByDead) expect(byKey(r.dedupKey).attempts).toBe(2);
      const held = new Set(heldByDead.map((r) => r.dedupKey));
      for (const r of final.values()) if (!held.has(r.dedupKey)) expect(r.attempts).toBe(1);

      const exitB = await b.stop('SIGTERM');
      b = undefined;
      expect(exitB).toEqual({ code: 0, signal: null });
      // Visible in the test output: how much of the crash scenario this run exercised.
      process.stdout.write(
        `[kill9 ${target}] acked before kill ${acked.length}/${EVENTS}, finished by the killed process ${finishedByDead.length}, taken over ${heldByDead.length}\n`,
      );
    } finally {
      sender.close();
      if (b) await b.stop('SIGKILL');
      await fresh.ds.destroy();
      await fresh.drop();
    }
  });
});
