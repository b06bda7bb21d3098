import type { DataSource } from 'typeorm';
import { isTransientLockError } from '../db/data-source';
import { sqliteGateOf } from '../db/sqlite-gate';

export interface InboxInsert {
  dedupKey: string;
  payload: string;
  /** The callback's signed timestamp, in ms. */
  sentAt: number;
  receivedAt: number;
}

export interface InsertResult {
  inserted: boolean;
}

interface Pending extends InboxInsert {
  waiters: { resolve: (r: InsertResult) => void; reject: (e: unknown) => void }[];
}

const COLUMNS = '(dedup_key, received_at, sent_at, payload, status, attempts, next_attempt_at)';

/**
 * Group commit for the callback ack path: requests parsed in the same event-loop turn (or while
 * the previous write is in flight) share one transaction (one fsync / one round trip), and each request is answered only after its row is
 * committed. Identical plaintexts in one batch collapse to one row. A flush that fails rejects
 * every waiter, so the route answers 503 and WeCom redelivers: never 200 for an unstored event.
 */
export class InboxWriter {
  private queue = new Map<string, Pending>();
  private timer: NodeJS.Immediate | null = null;
  private inFlight = 0;
  private readonly kind: 'sqlite' | 'mysql';
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly db: DataSource,
    private readonly opts: {
      maxRows: number;
      maxInFlight?: number;
      timeoutMs?: number;
      /** Called with the row count of every committed batch (metrics). */
      onBatch?: (rows: number) => void;
    },
  ) {
    this.kind = db.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
  }

  insert(row: InboxInsert): Promise<InsertResult> {
    if (this.closed) return Promise.reject(new Error('inbox writer is closed'));
    return new Promise((resolve, reject) => {
      const existing = this.queue.get(row.dedupKey);
      if (existing) existing.waiters.push({ resolve, reject });
      else this.queue.set(row.dedupKey, { ...row, waiters: [{ resolve, reject }] });
      this.flushSoon(this.queue.size >= this.opts.maxRows);
    });
  }

  private flushSoon(now: boolean) {
    if (now) {
      if (this.timer) clearImmediate(this.timer);
      this.timer = null;
      this.flush();
      return;
    }
    if (this.timer) return;
    // Next turn of the event loop: every request parsed in this I/O phase joins the batch, and no
    // request idles on a timer. While a flush is in flight, new rows queue up behind it (group commit).
    this.timer = setImmediate(() => {
      this.timer = null;
      this.flush();
    });
  }

  private flush() {
    if (this.queue.size === 0) return;
    if (this.inFlight >= (this.opts.maxInFlight ?? 2)) return; // the running flush re-triggers us
    const batch = [...this.queue.values()];
    this.queue = new Map();
    this.inFlight++;
    this.write(batch)
      .then((inserted) => {
        this.opts.onBatch?.(batch.length);
        batch.forEach((p, i) => {
          // Requests that collapsed onto one row: only the first one inserted it.
          p.waiters.forEach((w, j) => {
            w.resolve({ inserted: inserted[i] && j === 0 });
          });
        });
      })
      .catch((err) => {
        for (const p of batch) for (const w of p.waiters) w.reject(err);
      })
      .finally(() => {
        this.inFlight--;
        if (this.queue.size) this.flush();
        else if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
      });
  }

  /** Returns, per row, whether it was newly inserted (false = duplicate). */
  private async write(batch: Pending[]): Promise<boolean[]> {
    // SQLite writes synchronously in this thread: nothing to time out.
    if (this.kind === 'sqlite') return this.writeSqlite(batch);
    const timeoutMs = this.opts.timeoutMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`inbox insert timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.writeMysql(batch), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private sqliteTx?: (rows: Pending[]) => boolean[];

  private async writeSqlite(batch: Pending[]): Promise<boolean[]> {
    if (!this.db.isInitialized) throw new Error('database is not open');
    if (!this.sqliteTx) {
      // The native handle: one prepared statement, one transaction per batch, per-row `changes`.
      const native = (this.db.driver as unknown as { databaseConnection: BetterSqlite }).databaseConnection;
      const stmt = native.prepare(
        `INSERT INTO inbox ${COLUMNS} VALUES (?, ?, ?, ?, 'pending', 0, ?) ON CONFLICT(dedup_key) DO NOTHING`,
      );
      this.sqliteTx = native.transaction((rows: Pending[]) =>
        rows.map((r) => stmt.run(r.dedupKey, r.receivedAt, r.sentAt, r.payload, r.receivedAt).changes === 1),
      );
    }
    // Never inside another context's open transaction on the shared connection (it could roll back
    // after this batch was acknowledged): wait for it, then write synchronously.
    await sqliteGateOf(this.db)?.free();
    return this.sqliteTx(batch);
  }

  private async writeMysql(batch: Pending[]): Promise<boolean[]> {
    // Deadlocks between concurrent batches are transient (InnoDB rolled one back): try again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writeMysqlOnce(batch);
      } catch (err) {
        if (attempt >= 3 || !isTransientLockError(err)) throw err;
      }
    }
  }

  private async writeMysqlOnce(unsorted: Pending[]): Promise<boolean[]> {
    // Same key order in every batch, so two batches never wait on each other's rows in a cycle.
    const order = unsorted.map((_, i) => i).sort((a, b) => (unsorted[a].dedupKey < unsorted[b].dedupKey ? -1 : 1));
    const batch = order.map((i) => unsorted[i]);
    const sorted = await this.insertMysql(batch);
    const out = new Array<boolean>(unsorted.length);
    order.forEach((orig, pos) => {
      out[orig] = sorted[pos];
    });
    return out;
  }

  private async insertMysql(batch: Pending[]): Promise<boolean[]> {
    const placeholders = batch.map(() => "(?, ?, ?, ?, 'pending', 0, ?)").join(', ');
    const params = batch.flatMap((r) => [r.dedupKey, r.receivedAt, r.sentAt, r.payload, r.receivedAt]);
    // ON DUPLICATE KEY (not INSERT IGNORE): a duplicate counts 0 affected rows and no other error is swallowed.
    const res = (await this.db.query(
      `INSERT INTO inbox ${COLUMNS} VALUES ${placeholders} ON DUPLICATE KEY UPDATE id = id`,
      params,
    )) as { affectedRows?: number };
    const affected = Number(res?.affectedRows ?? batch.length);
    if (affected === batch.length) return batch.map(() => true);
    // Some were duplicates: find which rows are ours by the receive time we just wrote.
    const keys = batch.map((r) => r.dedupKey);
    const rows: { dedup_key: string; received_at: string | number }[] = await this.db.query(
      `SELECT dedup_key, received_at FROM inbox WHERE dedup_key IN (${keys.map(() => '?').join(', ')})`,
      keys,
    );
    const fresh = new Map(rows.map((r) => [r.dedup_key, Number(r.received_at)]));
    return batch.map((r) => fresh.get(r.dedupKey) === r.receivedAt && affected > 0);
  }

  /** Flushes what is queued and waits for in-flight writes (graceful shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearImmediate(this.timer);
    this.timer = null;
    this.flush();
    if (this.inFlight === 0 && this.queue.size === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }
}

interface BetterSqlite {
  prepare(sql: string): { run(...a: unknown[]): { changes: number } };
  transaction<T extends (...a: never[]) => unknown>(fn: T): T;
}
