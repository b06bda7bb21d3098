import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations';
import { DbKind, databaseKind } from '../config';
import { SnakeNamingStrategy } from './columns';
import { entities } from './entities';
import { startCheckpointer } from './sqlite-checkpointer';
import { installSqliteGate } from './sqlite-gate';

export interface DbOptions {
  url: string;
  /** Extra pool size for MySQL (default 10). */
  poolSize?: number;
}

/** One DataSource from one URL: `sqlite:<file>` (better-sqlite3, WAL) or `mysql://` / `mariadb://`. */
export function createDataSource({ url, poolSize = 10 }: DbOptions): DataSource {
  const kind: DbKind = databaseKind(url);
  const common = {
    entities,
    migrations,
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    migrationsRun: false,
    logging: false,
  } as const;
  let options: DataSourceOptions;
  if (kind === 'sqlite') {
    const file = sqliteFile(url)!;
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    options = {
      ...common,
      type: 'better-sqlite3',
      database: file,
      // WAL: readers never block the single writer; NORMAL is durable across process crashes in WAL mode.
      prepareDatabase: (db: { pragma(s: string): unknown }) => {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma('busy_timeout = 5000');
        db.pragma('foreign_keys = ON');
      },
    };
  } else {
    const u = new URL(url);
    options = {
      ...common,
      type: kind,
      host: u.hostname,
      port: Number(u.port || 3306),
      username: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: u.pathname.replace(/^\//, ''),
      charset: 'utf8mb4_unicode_ci',
      timezone: 'Z',
      poolSize,
      bigNumberStrings: false,
      supportBigNumbers: true,
      extra: { connectTimeout: 5000, enableKeepAlive: true },
    } as DataSourceOptions;
  }
  const ds = new DataSource(options);
  if (kind === 'sqlite') installSqliteGate(ds);
  return ds;
}

/**
 * Initializes and applies pending migrations. `checkpointer` (the server's own SQLite connection)
 * moves WAL checkpoints to a background thread; it is stopped by `ds.destroy()`.
 */
export async function openDatabase(
  opts: DbOptions,
  {
    migrate = true,
    checkpointer = false,
    onCheckpointError,
  }: { migrate?: boolean; checkpointer?: boolean; onCheckpointError?: (message: string) => void } = {},
): Promise<DataSource> {
  const ds = createDataSource(opts);
  await ds.initialize();
  if (migrate) await ds.runMigrations({ transaction: 'each' });
  const file = sqliteFile(opts.url);
  if (checkpointer && file && file !== ':memory:') {
    const stop = await startCheckpointer(ds, file, { onError: onCheckpointError });
    const destroy = ds.destroy.bind(ds);
    ds.destroy = async () => {
      await stop();
      await destroy();
    };
  }
  return ds;
}

const sqliteFile = (url: string) => (databaseKind(url) === 'sqlite' ? url.replace(/^sqlite:(\/\/)?/, '') : null);

/** The driver's error code (better-sqlite3 / mysql2), whether TypeORM wrapped the error or not. */
export function driverErrorCode(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e.driverError?.code ?? e.code;
  return typeof code === 'string' ? code : undefined;
}

export function isUniqueViolation(err: unknown): boolean {
  const code = driverErrorCode(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'ER_DUP_ENTRY';
}

/** InnoDB rolled the transaction back to break a deadlock, or gave up waiting: safe to retry. */
export function isTransientLockError(err: unknown): boolean {
  const code = driverErrorCode(err);
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}
