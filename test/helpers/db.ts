import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import { Config, loadConfig } from '../../server/config';
import { openDatabase } from '../../server/db/data-source';

export type DbTarget = 'sqlite' | 'mariadb';
/** Every integration suite runs on both real databases. */
export const DB_TARGETS: DbTarget[] = ['sqlite', 'mariadb'];

const MARIADB = { host: '127.0.0.1', port: 3306, user: 'root' };

export interface FreshDb {
  target: DbTarget;
  url: string;
  /** Drops the schema / deletes the file. Call after every DataSource on it is destroyed. */
  drop(): Promise<void>;
}

/** A brand-new empty database: a temp SQLite file, or a new MariaDB schema `t_<random>`. */
export async function freshDb(target: DbTarget): Promise<FreshDb> {
  if (target === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'wecom-test-'));
    return {
      target,
      url: `sqlite:${join(dir, 'db.sqlite')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `t_${randomBytes(6).toString('hex')}`;
  const c = await mysql.createConnection(MARIADB);
  await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await c.end();
  return {
    target,
    url: `mariadb://root@127.0.0.1:3306/${name}`,
    drop: async () => {
      const d = await mysql.createConnection(MARIADB);
      await d.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await d.end();
    },
  };
}

/** Fresh database, migrated and open. */
export async function openFreshDb(target: DbTarget): Promise<FreshDb & { ds: DataSource }> {
  const fresh = await freshDb(target);
  const ds = await openDatabase({ url: fresh.url });
  return { ...fresh, ds };
}

/** Sandbox-mode config for tests: silent logs, worker and cron jobs off unless asked, demo data off. */
export function testConfig(url: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: url,
    LOG_LEVEL: 'silent',
    WORKER_ENABLED: 'false',
    JOBS_ENABLED: 'false',
    DEMO_DATA: 'false',
    PORT: '0',
    ...env,
  });
}
