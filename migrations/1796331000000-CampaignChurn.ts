import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { column } from './lib/table';

/**
 * The first time a campaign customer and the campaign's manager part (the customer deleted the
 * manager, or the manager the customer), kept on the enrollment: the follow row is revived by a
 * re-add, so it can't tell the report (retention, churn flag) what happened in the first days.
 */
export class CampaignChurn1796331000000 implements MigrationInterface {
  name = 'CampaignChurn1796331000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('campaign_enrollments', new TableColumn(column('deleted_at', 'bigint null')));
    await q.addColumn('campaign_enrollments', new TableColumn(column('deleted_by', 'varchar(16) null')));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('campaign_enrollments', 'deleted_by');
    await q.dropColumn('campaign_enrollments', 'deleted_at');
  }
}
