import type { DataSource, EntityManager } from 'typeorm';
import { CacheVersion } from './entities';

/**
 * Counters in `cache_versions`, one per in-memory cache of shared data. A writer bumps the counter
 * in the transaction that changes the data; a reader reads it (one primary-key lookup) and rebuilds
 * its copy when it moved, so every instance sees a change made on any other at its next request.
 */
export type CacheName = 'script_library';

/** The current version, or null when the row is missing (a reader then falls back to its TTL). */
export async function readCacheVersion(db: DataSource | EntityManager, name: CacheName): Promise<string | null> {
  const rows: { version: number | string }[] = await db.query('SELECT version FROM cache_versions WHERE name = ?', [
    name,
  ]);
  return rows.length ? String(rows[0]!.version) : null;
}

/** Bumps the counter (creating the row if missing); call inside the writing transaction. */
export async function bumpCacheVersion(db: DataSource | EntityManager, name: CacheName, now: number): Promise<void> {
  const m = 'manager' in db ? db.manager : db;
  await m
    .createQueryBuilder()
    .insert()
    .into(CacheVersion)
    .values({ name, version: '0', updatedAt: now })
    .orIgnore()
    .updateEntity(false)
    .execute();
  await m
    .createQueryBuilder()
    .update(CacheVersion)
    .set({ version: () => 'version + 1', updatedAt: now })
    .where('name = :name', { name })
    .execute();
}
