import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { column, table } from './lib/table';

/**
 * Entry API hardening (issue 10):
 * - `entry_requests`: every accepted signature, once per client, for the ±300 s window plus a
 *   margin, with the answer given, so a replay on any instance gets that answer or 409.
 * - `manager_slots`: one row per manager, written first by every capacity-checked allocation so
 *   concurrent ones for that manager (on any instance) serialize on it.
 * - `allocations.open_key`: the customer id while an entry allocation is open, NULL otherwise;
 *   unique, so a customer has at most one open entry allocation across instances.
 */
const tables = [
  table(
    'entry_requests',
    {
      client: 'varchar(48) pk',
      signature: 'varchar(64) pk',
      status: 'varchar(16)',
      answer: 'text null',
      created_at: 'bigint',
      expires_at: 'bigint',
    },
    [{ name: 'idx_entry_requests_expires', columns: ['expires_at'] }],
  ),
  table('manager_slots', { userid: 'varchar(64) pk', reservations: 'int default(0)', updated_at: 'bigint' }),
];

export class EntryHardening1796320000000 implements MigrationInterface {
  name = 'EntryHardening1796320000000';

  async up(q: QueryRunner): Promise<void> {
    for (const t of tables) {
      await q.createTable(t.table, true);
      for (const i of t.indices) await q.createIndex(t.table.name, i);
    }
    await q.addColumn('allocations', new TableColumn(column('open_key', 'varchar(64) null')));
    await q.createIndex(
      'allocations',
      new TableIndex({ name: 'uq_allocations_open_key', columnNames: ['open_key'], isUnique: true }),
    );
    await q.createIndex(
      'allocations',
      new TableIndex({ name: 'idx_allocations_user_status', columnNames: ['userid', 'status'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('allocations', 'idx_allocations_user_status');
    await q.dropIndex('allocations', 'uq_allocations_open_key');
    await q.dropColumn('allocations', 'open_key');
    for (const t of [...tables].reverse()) await q.dropTable(t.table.name, true);
  }
}
