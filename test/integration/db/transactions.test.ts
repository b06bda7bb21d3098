import type { DataSource } from 'typeorm';
import { InboxWriter } from '../../../server/callback/inbox-writer';
import { DB_TARGETS, openFreshDb } from '../../helpers/db';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Overlapping work on one database: on SQLite the process has a single connection, and without the
 * gate (server/db/sqlite-gate.ts) a second transaction became a savepoint of the first, so one
 * rollback took the other's writes (or failed it with "cannot start a transaction within a
 * transaction"), and a plain write or an inbox batch made meanwhile vanished with that rollback.
 */
describe.each(DB_TARGETS)('overlapping transactions and writes (%s)', (target) => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const fresh = await openFreshDb(target);
    ds = fresh.ds;
    drop = fresh.drop;
    await ds.query('CREATE TABLE gate_probe (v INT NOT NULL)');
  });
  afterAll(async () => {
    await ds.destroy();
    await drop();
  });
  beforeEach(() => ds.query('DELETE FROM gate_probe'));

  /**
   * Opens a transaction that writes 1 and rolls back 40 ms later; resolves once it is open, with
   * its end (wrapped: an async function would otherwise wait for the inner promise too).
   */
  const openThenRollBack = async (): Promise<{ ended: Promise<unknown> }> => {
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const failing = ds
      .transaction(async (tx) => {
        await tx.query('INSERT INTO gate_probe (v) VALUES (1)');
        opened();
        await sleep(40);
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    await isOpen;
    return { ended: failing };
  };

  const values = async () =>
    ((await ds.query('SELECT v FROM gate_probe ORDER BY v')) as { v: number }[]).map((r) => Number(r.v));

  it('a failing transaction rolls back only its own writes; the overlapping one commits', async () => {
    const failing = ds
      .transaction(async (tx) => {
        await tx.query('INSERT INTO gate_probe (v) VALUES (1)');
        await sleep(40);
        throw new Error('first fails');
      })
      .then(
        () => 'committed',
        (err: Error) => err.message,
      );
    const committing = ds.transaction(async (tx) => {
      await sleep(5);
      await tx.query('INSERT INTO gate_probe (v) VALUES (2)');
      await sleep(20);
      return 'committed';
    });
    expect(await failing).toBe('first fails');
    expect(await committing).toBe('committed');
    expect(await values()).toEqual([2]);
  });

  it('a plain write made while another transaction is open survives that rollback', async () => {
    const { ended: failing } = await openThenRollBack();
    await ds.query('INSERT INTO gate_probe (v) VALUES (3)');
    await failing;
    expect(await values()).toEqual([3]);
  });

  it('an acknowledged inbox batch survives the rollback of a transaction open at the time', async () => {
    const writer = new InboxWriter(ds, { maxRows: 10 });
    const { ended: failing } = await openThenRollBack();
    const key = `gate-${target}-${Date.now()}`;
    const now = Date.now();
    expect(await writer.insert({ dedupKey: key, payload: '<xml/>', sentAt: now, receivedAt: now })).toEqual({
      inserted: true,
    });
    await failing;
    const rows = (await ds.query('SELECT COUNT(*) AS n FROM inbox WHERE dedup_key = ?', [key])) as { n: number }[];
    expect(Number(rows[0].n)).toBe(1);
    expect(await values()).toEqual([]);
  });

  it('nested transactions and queries from inside the open transaction do not wait for themselves', async () => {
    const result = await ds.transaction(async (tx) => {
      await tx.query('INSERT INTO gate_probe (v) VALUES (4)');
      // A query through the data source (not the transaction's manager) from inside it.
      await ds.query('SELECT COUNT(*) AS n FROM gate_probe');
      return tx.transaction(async (inner) => {
        await inner.query('INSERT INTO gate_probe (v) VALUES (5)');
        return 'nested ok';
      });
    });
    expect(result).toBe('nested ok');
    expect(await values()).toEqual([4, 5]);
  });
});
