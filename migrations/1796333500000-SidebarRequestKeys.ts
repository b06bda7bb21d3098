import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { column } from './lib/table';

/**
 * Issue 13, no lost work: a touch or a follow-up note may carry the client's request key. The
 * sidebar replays a write that met an expired session once the manager is signed in again; the
 * unique (userid, request_key) makes that replay, or any repeat of it, record exactly once.
 * NULL keys (older clients, jobs) are not constrained: both databases allow many NULLs in a unique index.
 */
const targets = [
  { table: 'touches', index: 'uq_touches_request' },
  { table: 'follow_notes', index: 'uq_follow_notes_request' },
];

export class SidebarRequestKeys1796333500000 implements MigrationInterface {
  name = 'SidebarRequestKeys1796333500000';

  async up(q: QueryRunner): Promise<void> {
    for (const t of targets) {
      await q.addColumn(t.table, new TableColumn(column('request_key', 'varchar(64) null')));
      await q.createIndex(
        t.table,
        new TableIndex({ name: t.index, columnNames: ['userid', 'request_key'], isUnique: true }),
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [...targets].reverse()) {
      await q.dropIndex(t.table, t.index);
      await q.dropColumn(t.table, 'request_key');
    }
  }
}
