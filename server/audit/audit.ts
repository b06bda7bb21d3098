import type { DataSource, EntityManager } from 'typeorm';
import { AuditEntry } from '../db/entities';

export interface AuditRecord {
  actor: string;
  action: string;
  subject: string;
  detail?: unknown;
}

/** Audit rows are written in the caller's transaction when one is given, so they commit with the change. */
export async function audit(db: DataSource | EntityManager, rec: AuditRecord | AuditRecord[]): Promise<void> {
  const rows = (Array.isArray(rec) ? rec : [rec]).map((r) => ({
    at: Date.now(),
    actor: r.actor.slice(0, 64),
    action: r.action.slice(0, 64),
    subject: r.subject.slice(0, 128),
    detail: (r.detail ?? null) as never,
  }));
  if (rows.length === 0) return;
  const manager = 'manager' in db ? db.manager : db;
  await manager.createQueryBuilder().insert().into(AuditEntry).values(rows).updateEntity(false).execute();
}
