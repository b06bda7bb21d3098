import { MigrationInterface, QueryRunner } from 'typeorm';
import { table } from './lib/table';

/**
 * Failed attempts to link a WeCom contact to a bank customer, per manager, in a fixed window that
 * starts with the first failure (server/sidebar/link-limits.ts). In the database so that every
 * instance counts the same attempts.
 */
const limits = table('sidebar_link_limits', {
  userid: 'varchar(64) pk',
  window_start: 'bigint',
  failures: 'int default(0)',
});

export class SidebarLinkLimits1796316067000 implements MigrationInterface {
  name = 'SidebarLinkLimits1796316067000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(limits.table, true);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable(limits.table.name, true);
  }
}
