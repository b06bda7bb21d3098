import type { MigrationInterface, QueryRunner } from 'typeorm';
import { table } from './lib/table';

/**
 * `cache_versions`: one counter per in-memory cache that several instances keep of shared data.
 * Writers bump it in their transaction; readers compare it (a primary-key read) before using their
 * copy, so a change made on any instance is seen by every other at its next request. The first
 * row is the script library (approved bank scripts ranked by the sidebar, issue 12).
 * Frozen: nothing here imports application code.
 */
export class CacheVersions1796332000000 implements MigrationInterface {
  name = 'CacheVersions1796332000000';

  async up(q: QueryRunner): Promise<void> {
    const t = table('cache_versions', { name: 'varchar(64) pk', version: 'bigint', updated_at: 'bigint' });
    await q.createTable(t.table, true);
    await q.query('INSERT INTO cache_versions (name, version, updated_at) VALUES (?, ?, ?)', [
      'script_library',
      1,
      Date.now(),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('cache_versions', true);
  }
}
