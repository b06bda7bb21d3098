import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { column, table } from './lib/table';

/** Campaigns (立减金 and the like), eligibility decisions on adds, and the reward outbox. */
const tables = [
  table('campaigns', {
    code: 'varchar(32) pk',
    name: 'varchar(128)',
    starts_at: 'bigint',
    ends_at: 'bigint',
    reward_kind: 'varchar(32)',
    reward_amount: 'double',
    new_customers_only: 'boolean default(false)',
    churn_flag_days: 'int default(7)',
    body: 'text',
    created_by: 'varchar(64)',
    created_at: 'bigint',
    updated_at: 'bigint',
  }),
  table(
    'campaign_enrollments',
    {
      id: 'int pk increment',
      campaign_code: 'varchar(32)',
      external_userid: 'varchar(64)',
      unionid: 'varchar(64) null',
      userid: 'varchar(64)',
      branch_code: 'varchar(32) null',
      customer_id: 'varchar(64) null',
      channel: 'varchar(16)',
      eligible: 'boolean',
      reason: 'varchar(32)',
      added_at: 'bigint',
      decided_at: 'bigint',
    },
    [
      { name: 'uq_enrollments_contact', columns: ['campaign_code', 'external_userid'], unique: true },
      { name: 'uq_enrollments_unionid', columns: ['campaign_code', 'unionid'], unique: true },
      { name: 'idx_enrollments_added', columns: ['campaign_code', 'added_at'] },
    ],
  ),
  table(
    'reward_outbox',
    {
      id: 'int pk increment',
      idempotency_key: 'varchar(128)',
      campaign_code: 'varchar(32)',
      external_userid: 'varchar(64)',
      body: 'text',
      status: 'varchar(16)',
      attempts: 'int default(0)',
      next_attempt_at: 'bigint',
      locked_by: 'varchar(64) null',
      locked_until: 'bigint null',
      http_status: 'int null',
      last_error: 'varchar(255) null',
      created_at: 'bigint',
      sent_at: 'bigint null',
      updated_at: 'bigint',
    },
    [
      { name: 'uq_reward_outbox_key', columns: ['idempotency_key'], unique: true },
      { name: 'idx_reward_outbox_due', columns: ['status', 'next_attempt_at'] },
    ],
  ),
];

export class Campaigns1796319911000 implements MigrationInterface {
  name = 'Campaigns1796319911000';

  async up(q: QueryRunner): Promise<void> {
    for (const t of tables) {
      await q.createTable(t.table, true);
      for (const i of t.indices) await q.createIndex(t.table.name, i);
    }
    // Attribution lives on the contact way (and the allocation), never on a customer tag.
    await q.addColumn('contact_ways', new TableColumn(column('campaign', 'varchar(32) null')));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('contact_ways', 'campaign');
    for (const t of [...tables].reverse()) await q.dropTable(t.table.name, true);
  }
}
