/**
 * Suite fixtures that register their own setup and teardown — the jest counterpart of
 * fastify/demo's `build(t)`. Call one at describe level; its fields are filled in its beforeAll
 * (so they are ready in the suite's own hooks and tests) and everything it opened is closed and
 * dropped in its afterAll.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import { type BuildOptions, build } from '../../server/app';
import type { Config } from '../../server/config';
import { type DbTarget, type FreshDb, openFreshDb, testConfig } from './db';

export interface SuiteDb extends FreshDb {
  ds: DataSource;
  /** A private temp directory for the suite's files (only with `tmp`). */
  tmp: string;
}

/** A fresh, migrated database for the suite (and a temp dir when `tmp` names its prefix). */
export function useFreshDb(target: DbTarget, opts: { tmp?: string } = {}): SuiteDb {
  const db = { target } as SuiteDb;
  beforeAll(async () => {
    Object.assign(db, await openFreshDb(target));
    if (opts.tmp) db.tmp = mkdtempSync(join(tmpdir(), opts.tmp));
  });
  afterAll(async () => {
    await db.ds?.destroy();
    await db.drop?.();
    if (db.tmp) rmSync(db.tmp, { recursive: true, force: true });
  });
  return db;
}

export interface SuiteApp {
  app: FastifyInstance;
  config: Config;
  fresh: FreshDb & { ds: DataSource };
}

/**
 * The whole app (sandbox mode, silent, worker and jobs off unless the env says so) on a fresh
 * database, ready; closed, with its database, after the suite.
 */
export function useApp(
  target: DbTarget,
  opts: { env?: Record<string, string>; build?: Omit<BuildOptions, 'db'> } = {},
): SuiteApp {
  const s = {} as SuiteApp;
  beforeAll(async () => {
    s.fresh = await openFreshDb(target);
    s.config = testConfig(s.fresh.url, opts.env);
    s.app = await build(s.config, { worker: false, ...opts.build, db: s.fresh.ds });
    await s.app.ready();
  });
  afterAll(async () => {
    await s.app?.close();
    await s.fresh?.ds.destroy();
    await s.fresh?.drop();
  });
  return s;
}
