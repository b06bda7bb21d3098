import type { MigrationInterface, QueryRunner } from 'typeorm';
import { table } from './lib/table';

/**
 * Bank outcomes (开户, 绑卡, 签约手机银行, 购买理财, 资产提升 …) imported daily with `ops import
 * outcomes`, each credited to the send it is attributed to (issue 12, suggestions that learn).
 * `dedup_key` (sha1 of customer, event, product, time) makes a re-import of the same file a no-op.
 * The amount is kept only as a band. Frozen: nothing here imports application code.
 */
export class TemplateOutcomes1796316500000 implements MigrationInterface {
  name = 'TemplateOutcomes1796316500000';

  async up(q: QueryRunner): Promise<void> {
    const outcomes = table(
      'outcomes',
      {
        id: 'int pk increment',
        dedup_key: 'varchar(40)',
        customer_id: 'varchar(64)',
        event: 'varchar(32)',
        product: 'varchar(64) null',
        amount_band: 'varchar(16) null',
        occurred_at: 'bigint',
        touch_id: 'int null',
        template_id: 'int null',
        userid: 'varchar(64) null',
        imported_at: 'bigint',
      },
      [
        { name: 'uq_outcomes_dedup', columns: ['dedup_key'], unique: true },
        { name: 'idx_outcomes_customer', columns: ['customer_id', 'occurred_at'] },
        { name: 'idx_outcomes_template', columns: ['template_id'] },
        { name: 'idx_outcomes_touch', columns: ['touch_id'] },
      ],
    );
    await q.createTable(outcomes.table, true);
    for (const i of outcomes.indices) await q.createIndex('outcomes', i);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('outcomes', true);
  }
}
