import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { column, table } from './lib/table';

/**
 * Issue 14, delivery at province scale:
 * - sop_moment_jobs: one add_moment_task carries many senders (visible_range.sender_list, up to
 *   100,000 users), so 10,000 managers take one WeCom job instead of 10,000 (17 h at 10 a minute).
 *   Each sender keeps its sop_tasks row (status, report per branch and sender) and points at its job.
 * - sop_tasks.create_started_at / sop_moment_jobs.started_at: written just before the WeCom create
 *   call. A row that has it but no msgid/jobid was left by a process that died mid-call; the next
 *   run looks the task up in WeCom (get_groupmsg_list_v2 / get_moment_list) before creating again.
 */
const jobs = table(
  'sop_moment_jobs',
  {
    id: 'int pk increment',
    occurrence_id: 'int',
    plan_id: 'varchar(64)',
    status: 'varchar(16)',
    senders: 'int default(0)',
    text: 'text',
    jobid: 'varchar(128) null',
    moment_id: 'varchar(128) null',
    published: 'int default(0)',
    attempts: 'int default(0)',
    locked_by: 'varchar(64) null',
    locked_until: 'bigint null',
    next_poll_at: 'bigint null',
    last_error: 'varchar(255) null',
    started_at: 'bigint null',
    created_at: 'bigint',
    dispatched_at: 'bigint null',
    completed_at: 'bigint null',
    updated_at: 'bigint',
  },
  [
    { name: 'idx_sop_moment_jobs_due', columns: ['status', 'next_poll_at'] },
    { name: 'idx_sop_moment_jobs_occurrence', columns: ['occurrence_id', 'status'] },
  ],
);

export class SopMomentJobs1796334000000 implements MigrationInterface {
  name = 'SopMomentJobs1796334000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(jobs.table, true);
    for (const i of jobs.indices) await q.createIndex(jobs.table.name, i);
    await q.addColumn('sop_tasks', new TableColumn(column('moment_job_id', 'int null')));
    await q.addColumn('sop_tasks', new TableColumn(column('create_started_at', 'bigint null')));
    await q.createIndex(
      'sop_tasks',
      new TableIndex({ name: 'idx_sop_tasks_moment_job', columnNames: ['moment_job_id'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('sop_tasks', 'idx_sop_tasks_moment_job');
    await q.dropColumn('sop_tasks', 'create_started_at');
    await q.dropColumn('sop_tasks', 'moment_job_id');
    await q.dropTable('sop_moment_jobs', true);
  }
}
