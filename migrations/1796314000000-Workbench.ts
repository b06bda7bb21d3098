import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';
import { column, table } from './lib/table';

/**
 * The manager's workbench (issue 13): bank profile columns on customers (month-day birthday only),
 * products held (amount bands, never amounts), follow-up notes, one reminder row per member per
 * day, and WeCom's group order for the tag library.
 */
const customerColumns = {
  asset_tier: 'varchar(16) null',
  risk_rating: 'varchar(8) null',
  risk_rated_on: 'varchar(10) null',
  birthday_md: 'varchar(5) null',
  preferred_branch: 'varchar(32) null',
};

const tables = [
  table(
    'customer_holdings',
    {
      id: 'varchar(200) pk',
      customer_id: 'varchar(64)',
      product: 'varchar(64)',
      product_type: 'varchar(16)',
      amount_band: 'varchar(16)',
      opened_on: 'varchar(10)',
      matures_on: 'varchar(10) null',
      created_at: 'bigint',
      updated_at: 'bigint',
    },
    [
      { name: 'idx_holdings_customer', columns: ['customer_id'] },
      { name: 'idx_holdings_maturity', columns: ['matures_on'] },
    ],
  ),
  table(
    'follow_notes',
    {
      id: 'int pk increment',
      external_userid: 'varchar(64)',
      userid: 'varchar(64)',
      kind: 'varchar(8)',
      text: 'text',
      next_follow_up: 'varchar(10) null',
      created_at: 'bigint',
    },
    [
      { name: 'idx_follow_notes_contact', columns: ['external_userid', 'created_at'] },
      { name: 'idx_follow_notes_user', columns: ['userid', 'next_follow_up'] },
    ],
  ),
  table('todo_reminders', {
    userid: 'varchar(64) pk',
    day: 'varchar(10) pk',
    items: 'int',
    status: 'varchar(16)',
    error: 'varchar(255) null',
    created_at: 'bigint',
    sent_at: 'bigint null',
  }),
];

export class Workbench1796314000000 implements MigrationInterface {
  name = 'Workbench1796314000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [name, spec] of Object.entries(customerColumns)) {
      await q.addColumn('customers', new TableColumn(column(name, spec)));
    }
    await q.addColumn('tags', new TableColumn(column('group_order', 'int default(0)')));
    for (const t of tables) {
      await q.createTable(t.table, true);
      for (const i of t.indices) await q.createIndex(t.table.name, i);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [...tables].reverse()) await q.dropTable(t.table.name, true);
    await q.dropColumn('tags', 'group_order');
    for (const name of Object.keys(customerColumns).reverse()) await q.dropColumn('customers', name);
  }
}
