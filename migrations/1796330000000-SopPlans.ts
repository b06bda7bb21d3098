import { MigrationInterface, QueryRunner } from 'typeorm';
import { table } from './lib/table';

/** SOP plans (head office → group owners and managers): versions, occurrences, WeCom tasks, targets. */
const tables = [
  table('sop_plans', {
    id: 'varchar(64) pk',
    name: 'varchar(128)',
    channel: 'varchar(16)',
    status: 'varchar(16)',
    version: 'int',
    created_by: 'varchar(64)',
    created_at: 'bigint',
    updated_at: 'bigint',
  }),
  table('sop_plan_versions', {
    plan_id: 'varchar(64) pk',
    version: 'int pk',
    body: 'text',
    created_by: 'varchar(64)',
    created_at: 'bigint',
  }),
  table(
    'sop_occurrences',
    {
      id: 'int pk increment',
      plan_id: 'varchar(64)',
      version: 'int',
      occurrence_key: 'varchar(64)',
      template_id: 'int',
      scheduled_at: 'bigint',
      status: 'varchar(16)',
      planned_by: 'varchar(64) null',
      lease_until: 'bigint null',
      scanned: 'int default(0)',
      targets: 'int default(0)',
      skipped_cap: 'int default(0)',
      skipped_deleted: 'int default(0)',
      tasks: 'int default(0)',
      error: 'varchar(255) null',
      created_at: 'bigint',
      planned_at: 'bigint null',
      updated_at: 'bigint',
    },
    [
      { name: 'uq_sop_occurrence', columns: ['plan_id', 'version', 'occurrence_key'], unique: true },
      { name: 'idx_sop_occurrences_status', columns: ['status', 'lease_until'] },
    ],
  ),
  table(
    'sop_tasks',
    {
      id: 'int pk increment',
      occurrence_id: 'int',
      plan_id: 'varchar(64)',
      sender_userid: 'varchar(64)',
      chunk: 'int',
      kind: 'varchar(16)',
      branch_code: 'varchar(32) null',
      targets: 'int',
      status: 'varchar(16)',
      msgid: 'varchar(128) null',
      moment_id: 'varchar(128) null',
      sender_sent: 'boolean default(false)',
      sent: 'int default(0)',
      not_friend: 'int default(0)',
      capped: 'int default(0)',
      notified_at: 'bigint null',
      remind_times: 'text null',
      next_poll_at: 'bigint null',
      attempts: 'int default(0)',
      locked_by: 'varchar(64) null',
      locked_until: 'bigint null',
      last_error: 'varchar(255) null',
      created_at: 'bigint',
      dispatched_at: 'bigint null',
      completed_at: 'bigint null',
      updated_at: 'bigint',
    },
    [
      { name: 'uq_sop_task', columns: ['occurrence_id', 'sender_userid', 'chunk'], unique: true },
      { name: 'idx_sop_tasks_due', columns: ['status', 'next_poll_at'] },
      { name: 'idx_sop_tasks_plan', columns: ['plan_id', 'status'] },
    ],
  ),
  table(
    'sop_targets',
    {
      occurrence_id: 'int pk',
      target_id: 'varchar(64) pk',
      sender_userid: 'varchar(64)',
      chunk: 'int',
      day: 'int',
      status: 'int default(0)',
    },
    [
      { name: 'idx_sop_targets_cap', columns: ['target_id', 'day'] },
      { name: 'idx_sop_targets_task', columns: ['occurrence_id', 'sender_userid', 'chunk'] },
    ],
  ),
];

export class SopPlans1796330000000 implements MigrationInterface {
  name = 'SopPlans1796330000000';

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
