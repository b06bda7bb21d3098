import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, QueryRunner } from 'typeorm';

/**
 * One connection at a time for the embedded SQLite database.
 *
 * better-sqlite3 gives TypeORM a single connection and a single query runner for the whole process.
 * Two transactions that overlap in time (a sidebar request and a job, say) would share it: the
 * second becomes a SAVEPOINT inside the first, a rollback of either takes the other's writes with
 * it, or the second fails with "cannot start a transaction within a transaction". A plain query from
 * elsewhere, or the inbox writer's batch, would run inside whatever transaction is open and vanish
 * with its rollback, after the callback had been acknowledged.
 *
 * The gate hands the connection to one transaction at a time. A transaction waits for the gate and
 * runs in an async context that owns it; while it is open, a query from any other context waits until
 * it ends. Nested transactions and queries made from inside the owning transaction pass straight
 * through. Plain queries hold the gate only for their own statement (better-sqlite3 runs it
 * synchronously), so they cost one promise hop when nothing is open.
 *
 * Not covered: a query runner driven by hand (`createQueryRunner()` + `startTransaction()`), whose
 * BEGIN holds nothing between statements; the app uses `DataSource.transaction` for that reason.
 */
export class SqliteGate {
  private readonly owner = new AsyncLocalStorage<symbol>();
  private held: symbol | null = null;
  private waiters: Array<() => void> = [];

  /** A wait longer than this is a bug (a transaction awaiting work that needs the connection): fail loudly. */
  constructor(private readonly maxWaitMs = 30_000) {}

  private wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(new Error(`sqlite connection busy: waited ${this.maxWaitMs} ms for another transaction to end`));
      }, this.maxWaitMs);
      timer.unref();
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(wake);
    });
  }

  /** True when the caller's context may use the connection now. */
  private mine(): boolean {
    return this.held === null || this.owner.getStore() === this.held;
  }

  /** Resolves when no other context holds the connection (run synchronous work right after). */
  async free(): Promise<void> {
    while (!this.mine()) await this.wait();
  }

  /** Runs `fn` holding the connection; re-entrant from inside the holder's context. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.held !== null && this.owner.getStore() === this.held) return fn();
    while (this.held !== null) await this.wait();
    const token = Symbol('sqlite-connection');
    this.held = token;
    try {
      return await this.owner.run(token, fn);
    } finally {
      this.held = null;
      const waiting = this.waiters;
      this.waiters = [];
      for (const wake of waiting) wake();
    }
  }
}

const gates = new WeakMap<DataSource, SqliteGate>();

/** The gate of a SQLite data source (undefined for MySQL/MariaDB, whose pool gives each transaction its own connection). */
export const sqliteGateOf = (ds: DataSource): SqliteGate | undefined => gates.get(ds);

/** Puts every transaction and query of this (better-sqlite3) data source behind one gate. */
export function installSqliteGate(ds: DataSource): SqliteGate {
  const gate = new SqliteGate();
  gates.set(ds, gate);
  const manager = ds.manager;
  const transaction = manager.transaction.bind(manager) as (...args: unknown[]) => Promise<unknown>;
  // DataSource.transaction delegates to its manager's transaction.
  (manager as unknown as { transaction: (...args: unknown[]) => Promise<unknown> }).transaction = (...args) =>
    gate.exclusive(() => transaction(...args));
  const driver = ds.driver as unknown as { createQueryRunner(mode?: string): QueryRunner };
  const createQueryRunner = driver.createQueryRunner.bind(driver);
  const patched = new WeakSet<QueryRunner>();
  driver.createQueryRunner = (mode?: string) => {
    const runner = createQueryRunner(mode);
    if (!patched.has(runner)) {
      patched.add(runner);
      const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
      (runner as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args) =>
        gate.exclusive(() => query(...args));
    }
    return runner;
  };
  return gate;
}
