import { type MigrationInterface, type QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { column, table } from './lib/table';

/**
 * The script library (话术库, issue 12): review workflow with versions, channels, risk classes,
 * sensitive words, and touches that say which version went out and whether it was really sent.
 *
 * `script_templates` keeps its first columns (`content` is the body, `owner_userid` NULL = the bank
 * library, `created_by` the author, `variant` the label of one wording inside `variant_group`);
 * `is_welcome` becomes `channel = 'welcome'`. Frozen: nothing here imports application code.
 */

const templateColumns: Record<string, string> = {
  category: 'varchar(32) null',
  bank_tags: "varchar(255) default('')",
  risk_class: "varchar(16) default('none')",
  channel: "varchar(16) default('chat')",
  variant_group: 'varchar(64) null',
  lineage_id: 'int null',
  version: 'int default(1)',
  superseded_by: 'int null',
  reviewer: 'varchar(64) null',
  submitted_at: 'bigint null',
  reviewed_at: 'bigint null',
  review_comment: 'text null',
  retired_at: 'bigint null',
};

const touchColumns: Record<string, string> = {
  template_version: 'int null',
  /** Bank-local calendar day (epoch day in UTC+8) of sent_at: the stage counts distinct days. */
  sent_day: 'int null',
  /** A copied text the manager confirmed as sent (已发送): it then counts like a send. */
  confirmed_at: 'bigint null',
};

/** The shipped default list, frozen as of this migration (server/playbook/compliance keeps the live one). */
const DEFAULT_WORDS: [string, string][] = [
  ['保本', '承诺保本，违反资管新规打破刚兑的要求'],
  ['保本保息', '承诺保本保息，属违规宣传'],
  ['稳赚', '承诺稳赚不赔，属误导性宣传'],
  ['稳赚不赔', '承诺稳赚不赔，属误导性宣传'],
  ['无风险', '宣称产品无风险，属误导性宣传'],
  ['零风险', '宣称产品零风险，属误导性宣传'],
  ['收益最高', '使用绝对化用语宣传收益'],
  ['最高收益', '使用绝对化用语宣传收益'],
  ['刚性兑付', '承诺刚性兑付，违反资管新规'],
  ['刚兑', '承诺刚性兑付，违反资管新规'],
  ['高收益无风险', '宣称高收益且无风险，属误导性宣传'],
  ['保证收益', '承诺保证收益，属违规宣传'],
  ['保收益', '承诺保证收益，属违规宣传'],
  ['包赚', '承诺盈利，属误导性宣传'],
  ['只赚不赔', '承诺盈利，属误导性宣传'],
  ['稳定收益', '暗示收益确定，属误导性宣传'],
  ['收益稳定', '暗示收益确定，属误导性宣传'],
  ['本金安全', '承诺本金安全，属违规宣传'],
  ['保值增值', '承诺保值增值，属违规宣传'],
  ['存款替代', '将理财产品与存款混淆'],
  ['等同存款', '将理财产品与存款混淆'],
  ['100%安全', '使用绝对化用语宣传安全性'],
];

const BUILTIN_WELCOME =
  '{{客户称呼}}好，我是{{网点}}的客户经理{{客户经理}}，很高兴为您服务。账户和业务上有任何问题，都可以随时联系我。';

export class ScriptLibrary1796312120000 implements MigrationInterface {
  name = 'ScriptLibrary1796312120000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns(
      'script_templates',
      Object.entries(templateColumns).map(([n, s]) => new TableColumn(column(n, s))),
    );
    await q.query("UPDATE script_templates SET channel = 'welcome' WHERE is_welcome = ?", [true]);
    await q.query('UPDATE script_templates SET lineage_id = id');
    // stage NULL = any stage (welcome, group and moments scripts have none).
    await q.changeColumn('script_templates', 'stage', new TableColumn(column('stage', 'int null')));
    await q.dropColumn('script_templates', 'is_welcome');
    await q.createIndex(
      'script_templates',
      new TableIndex({ name: 'idx_templates_lineage', columnNames: ['lineage_id', 'version'] }),
    );
    await q.createIndex(
      'script_templates',
      new TableIndex({ name: 'idx_templates_channel', columnNames: ['status', 'channel'] }),
    );

    await q.addColumns(
      'touches',
      Object.entries(touchColumns).map(([n, s]) => new TableColumn(column(n, s))),
    );
    const touches: { id: number; sent_at: number | string }[] = await q.query('SELECT id, sent_at FROM touches');
    for (const t of touches) {
      await q.query('UPDATE touches SET sent_day = ? WHERE id = ?', [epochDay(Number(t.sent_at)), t.id]);
    }

    const words = table(
      'sensitive_words',
      {
        id: 'int pk increment',
        word: 'varchar(64)',
        source: 'varchar(16)',
        note: 'varchar(255) null',
        added_by: 'varchar(64)',
        created_at: 'bigint',
      },
      [{ name: 'uq_sensitive_words_word', columns: ['word'], unique: true }],
    );
    await q.createTable(words.table, true);
    for (const i of words.indices) await q.createIndex('sensitive_words', i);
    const now = Date.now();
    for (const [word, note] of DEFAULT_WORDS) {
      await q.query('INSERT INTO sensitive_words (word, source, note, added_by, created_at) VALUES (?, ?, ?, ?, ?)', [
        word,
        'default',
        note,
        'system',
        now,
      ]);
    }

    // A fresh production install is never silent: one neutral, approved welcome from the start.
    await q.query(
      `INSERT INTO script_templates (title, content, stage, segments, product, variant, owner_userid, status,
         expires_at, disclaimer, attachments, created_by, created_at, updated_at, category, bank_tags, risk_class,
         channel, variant_group, lineage_id, version, reviewer, submitted_at, reviewed_at, review_comment)
       VALUES (?, ?, NULL, '', NULL, NULL, NULL, 'approved', NULL, NULL, NULL, 'system', ?, ?, ?, '', 'none',
         'welcome', NULL, NULL, 1, 'system', ?, ?, ?)`,
      ['默认欢迎语', BUILTIN_WELCOME, now, now, '欢迎语', now, now, '内置欢迎语，随首次迁移安装'],
    );
    await q.query("UPDATE script_templates SET lineage_id = id WHERE lineage_id IS NULL AND created_by = 'system'");
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('sensitive_words', true);
    await q.dropColumns('touches', Object.keys(touchColumns));
    await q.addColumn('script_templates', new TableColumn(column('is_welcome', 'boolean default(false)')));
    await q.query("UPDATE script_templates SET is_welcome = ? WHERE channel = 'welcome'", [true]);
    await q.query('UPDATE script_templates SET stage = 1 WHERE stage IS NULL');
    await q.changeColumn('script_templates', 'stage', new TableColumn(column('stage', 'int')));
    await q.dropIndex('script_templates', 'idx_templates_lineage');
    await q.dropIndex('script_templates', 'idx_templates_channel');
    await q.dropColumns('script_templates', Object.keys(templateColumns));
  }
}

function epochDay(ms: number): number {
  return Math.floor((ms + 8 * 3_600_000) / 86_400_000);
}
