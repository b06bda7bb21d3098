import { MigrationInterface, QueryRunner } from 'typeorm';
import { table } from './lib/table';

/** Customer groups (客户群) mirrored from groupchat/*, their membership spells and daily statistics. */
const tables = [
  table(
    'customer_groups',
    {
      chat_id: 'varchar(64) pk',
      name: "varchar(128) default('')",
      owner_userid: 'varchar(64)',
      branch_code: 'varchar(32) null',
      purpose: 'varchar(32) null',
      owner_status: 'int default(0)',
      member_version: 'varchar(64) null',
      member_count: 'int default(0)',
      customer_count: 'int default(0)',
      created_at: 'bigint null',
      dismissed_at: 'bigint null',
      synced_at: 'bigint null',
      updated_at: 'bigint',
    },
    [
      { name: 'idx_groups_owner', columns: ['owner_userid'] },
      { name: 'idx_groups_branch', columns: ['branch_code'] },
    ],
  ),
  table(
    'customer_group_members',
    {
      id: 'int pk increment',
      chat_id: 'varchar(64)',
      member_id: 'varchar(64)',
      member_type: 'int',
      unionid: 'varchar(64) null',
      joined_at: 'bigint',
      join_scene: 'varchar(16) null',
      invitor: 'varchar(64) null',
      quit_at: 'bigint null',
      quit_scene: 'varchar(16) null',
    },
    [
      { name: 'uq_group_members_spell', columns: ['chat_id', 'member_id', 'joined_at'], unique: true },
      { name: 'idx_group_members_active', columns: ['chat_id', 'quit_at'] },
      { name: 'idx_group_members_member', columns: ['member_id'] },
    ],
  ),
  table('customer_group_stats', {
    owner_userid: 'varchar(64) pk',
    day: 'varchar(10) pk',
    stat_time: 'bigint',
    new_chat_cnt: 'int default(0)',
    chat_total: 'int default(0)',
    chat_has_msg: 'int default(0)',
    new_member_cnt: 'int default(0)',
    member_total: 'int default(0)',
    member_has_msg: 'int default(0)',
    msg_total: 'int default(0)',
    fetched_at: 'bigint',
  }),
];

export class CustomerGroups1796318437000 implements MigrationInterface {
  name = 'CustomerGroups1796318437000';

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
