import { MigrationInterface, QueryRunner } from 'typeorm';
import { table } from './lib/table';

/** Referrals (MGM): customers' referral codes (state → referrer) and the adds made through them. */
const tables = [
  table(
    'referral_codes',
    {
      state: 'varchar(32) pk',
      referrer_external_userid: 'varchar(64) null',
      referrer_customer_id: 'varchar(64) null',
      userid: 'varchar(64)',
      branch_code: 'varchar(32) null',
      config_id: 'varchar(64)',
      qr_code: 'varchar(512) null',
      created_by: 'varchar(64)',
      created_at: 'bigint',
    },
    [{ name: 'idx_referral_codes_referrer', columns: ['referrer_external_userid', 'userid'] }],
  ),
  table(
    'referrals',
    {
      id: 'int pk increment',
      state: 'varchar(32)',
      referrer_external_userid: 'varchar(64) null',
      referrer_customer_id: 'varchar(64) null',
      referred_external_userid: 'varchar(64)',
      userid: 'varchar(64)',
      branch_code: 'varchar(32) null',
      reason: 'varchar(32)',
      added_at: 'bigint',
      deleted_at: 'bigint null',
      reward_key: 'varchar(128) null',
      rewarded_at: 'bigint null',
    },
    [
      { name: 'uq_referrals_referred', columns: ['referred_external_userid'], unique: true },
      { name: 'idx_referrals_due', columns: ['reward_key', 'added_at'] },
    ],
  ),
];

export class Referrals1796331000001 implements MigrationInterface {
  name = 'Referrals1796331000001';

  async up(q: QueryRunner): Promise<void> {
    for (const t of tables) {
      await q.createTable(t.table, true);
      for (const i of t.indices) await q.createIndex(t.table.name, i);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [...tables].reverse()) await q.dropTable(t.table.name, true);
  }
}
