import type { DataSource } from 'typeorm';
import { InboxEvent } from '../../server/db/entities';
import { DB_TARGETS, openFreshDb } from '../helpers/db';
import { CallbackSender, type ServerProcess, startServer, stopAllServers, waitFor } from '../helpers/server-process';
import { freezeWhileHolding, inboxRows, openCount, probeEvents } from '../integration/crash/inbox-probe';

/**
 * Crash recovery with the default lease (WORKER_LEASE_MS 10 s, renewed by a heartbeat): two
 * `kill -9` under load, each at a moment when the victim's worker holds claimed rows, with
 * WeCom-style redelivery of every callback that was not answered `success`. On MariaDB two
 * processes serve the load (the survivor takes the victim's rows over); on SQLite one process is
 * killed and restarted. Every acknowledged event must be processed within 30 s of the last
 * delivery, and none twice: only rows a killed process held are claimed again, once per kill.
 */

const EVENTS = 1500;
const LANES = 10;
const KILL_AFTER = [400, 900];
const PROCESSED_WITHIN_MS = 30_000;

interface KillSnapshot {
  pid: number;
  /** dedup key → attempts, for rows the victim held (processing, locked by it) at the kill. */
  held: Map<string, number>;
  /** dedup key → attempts, for rows already finished at the kill. */
  finished: Map<string, number>;
  all: Map<string, string>;
}

async function snapshot(ds: DataSource, pid: number): Promise<KillSnapshot> {
  const rows = await ds
    .getRepository(InboxEvent)
    .createQueryBuilder('i')
    .select(['i.dedupKey', 'i.status', 'i.attempts', 'i.lockedBy'])
    .getMany();
  const held = new Map<string, number>();
  const finished = new Map<string, number>();
  const all = new Map<string, string>();
  for (const r of rows) {
    all.set(r.dedupKey, `${r.status}/${r.lockedBy}/${r.attempts}`);
    // Worker ids are `${hostname}:${pid}:…`: the victim's claims carry its pid.
    if (r.status === 'processing' && r.lockedBy?.split(':')[1] === String(pid)) held.set(r.dedupKey, r.attempts);
    if (r.status === 'unhandled') finished.set(r.dedupKey, r.attempts);
  }
  return { pid, held, finished, all };
}

describe.each(DB_TARGETS)('kill -9 twice under load on %s', (target) => {
  afterAll(stopAllServers);

  it('every acknowledged event is processed within 30 s of the last delivery, none twice', async () => {
    const fresh = await openFreshDb(target);
    const sender = new CallbackSender();
    const env = { WORKER_CONCURRENCY: '8' }; // the default lease: nothing shortened for the test
    const live: ServerProcess[] = [];
    const all: ServerProcess[] = [];
    const start = async () => {
      // Generous readiness bound: the machine may be busy, and a start compiles TypeScript (tsx).
      const s = await startServer({ databaseUrl: fresh.url, env, readyTimeoutMs: 90_000 });
      all.push(s);
      live.push(s);
      return s;
    };
    try {
      await start();
      if (target === 'mariadb') await start();
      const { texts, keys } = probeEvents(EVENTS);
      const acked = new Set<number>();
      const kills: KillSnapshot[] = [];
      const restarts: Promise<unknown>[] = [];
      let rr = 0;
      let killing = false;
      /** A real wait (a timer), never a bare microtask loop that would starve the event loop. */
      const waitForRestart = () => new Promise((r) => setTimeout(r, 50));

      const kill = async () => {
        // On SQLite the restarted process must be up before it can be killed again.
        while (live.length === 0) await waitForRestart();
        // The victim: the oldest live process (on SQLite the only one).
        const victim = live[0];
        const held = await freezeWhileHolding(victim, fresh.ds);
        live.splice(live.indexOf(victim), 1);
        const exit = await victim.stop('SIGKILL');
        expect(exit.signal).toBe('SIGKILL');
        expect(held).toBeGreaterThan(0);
        restarts.push(start());
        // A statement the victim sent just before it froze (a claim's COMMIT) may still land: look
        // once the database has dropped its connections. Leases last 10 s, so nobody took over yet.
        await new Promise((r) => setTimeout(r, 500));
        kills.push(await snapshot(fresh.ds, victim.pid));
      };

      /** One delivery to some live server; false when it was not answered `success`. */
      const deliver = async (i: number): Promise<boolean> => {
        const s = live[rr++ % Math.max(1, live.length)];
        const status = s ? await sender.post(s.url, texts[i]) : 0;
        if (status === 200) acked.add(i);
        return status === 200;
      };

      let next = 0;
      const lane = async () => {
        while (next < EVENTS) {
          // No live server (SQLite, between kill and restart): the load waits for the restart, and
          // what failed at the kill is redelivered below.
          while (live.length === 0) await waitForRestart();
          const i = next++;
          await deliver(i);
          if (!killing && kills.length < KILL_AFTER.length && acked.size >= KILL_AFTER[kills.length]) {
            killing = true;
            await kill();
            killing = false;
          }
        }
      };
      await Promise.all(Array.from({ length: LANES }, lane));
      await Promise.all(restarts);
      expect(kills).toHaveLength(2);

      // WeCom redelivers what was not acknowledged (a few rounds, seconds apart).
      let missing = texts.map((_, i) => i).filter((i) => !acked.has(i));
      const redelivered = missing.length;
      for (let round = 0; round < 10 && missing.length; round++) {
        const ok = await Promise.all(missing.map((i) => deliver(i)));
        missing = missing.filter((_, j) => !ok[j]);
        if (missing.length) await new Promise((r) => setTimeout(r, 1_000));
      }
      expect(missing).toEqual([]);
      const lastDelivery = Date.now();

      expect(await waitFor(async () => (await openCount(fresh.ds)) === 0, PROCESSED_WITHIN_MS, 100)).toBe(true);
      const processedAfterMs = Date.now() - lastDelivery;

      const final = await inboxRows(fresh.ds);
      expect(final.size).toBe(EVENTS);
      for (const k of keys)
        expect(final.get(k)).toMatchObject({ status: 'unhandled', lockedBy: null, lastError: null });
      // Claimed again only because its holder was killed: once more per kill that caught it.
      for (const k of keys) {
        const extra = kills.filter((s) => s.held.has(k)).length;
        if (final.get(k)!.attempts !== 1 + extra) {
          process.stdout.write(
            `[kill9-twice] unexpected attempts for ${k}; victims ${kills.map((s) => s.pid)}: states at the kills ${kills.map((s) => s.all.get(k)).join(' | ')}\n${all
              .map(
                (s) =>
                  `--- ${s.pid}\n${s
                    .output()
                    .split('\n')
                    .filter((l) => /lease|outcome/.test(l))
                    .slice(-10)
                    .join('\n')}`,
              )
              .join('\n')}\n`,
          );
        }
        expect({ k, attempts: final.get(k)!.attempts }).toEqual({ k, attempts: 1 + extra });
      }
      // What a killed process had finished was never run again.
      for (const s of kills) for (const [k, attempts] of s.finished) expect(final.get(k)!.attempts).toBe(attempts);

      const exits = await Promise.all(live.splice(0).map((s) => s.stop('SIGTERM')));
      for (const e of exits) expect(e).toEqual({ code: 0, signal: null });
      process.stdout.write(
        `[kill9-twice ${target}] held at the kills: ${kills.map((s) => s.held.size).join(' + ')}, ` +
          `${redelivered} redelivered, all processed ${processedAfterMs} ms after the last delivery\n`,
      );
    } finally {
      sender.close();
      await Promise.all(all.map((s) => s.stop('SIGKILL')));
      await fresh.ds.destroy();
      await fresh.drop();
    }
  });
});
