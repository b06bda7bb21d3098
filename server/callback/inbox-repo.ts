import type { DataSource } from 'typeorm';
import { InboxEvent, InboxStatus } from '../db/entities';

/** Inbox queries shared by the worker, /metrics and the operator CLI. */

export async function inboxStats(db: DataSource): Promise<Record<InboxStatus, number>> {
  const rows: { status: InboxStatus; n: string | number }[] = await db
    .getRepository(InboxEvent)
    .createQueryBuilder('i')
    .select('i.status', 'status')
    .addSelect('COUNT(*)', 'n')
    .groupBy('i.status')
    .getRawMany();
  const out: Record<InboxStatus, number> = { pending: 0, processing: 0, done: 0, dead: 0, unhandled: 0, malformed: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

export interface InboxListItem {
  id: number;
  status: InboxStatus;
  type: string;
  attempts: number;
  receivedAt: number;
  lastError: string | null;
}

export const eventType = (r: Pick<InboxEvent, 'msgType' | 'event' | 'changeType'>) =>
  r.msgType === 'event' ? [r.event, r.changeType].filter(Boolean).join('/') : (r.msgType ?? '(unparsed)');

export async function listInbox(
  db: DataSource,
  opts: { status?: InboxStatus; limit?: number; offset?: number } = {},
): Promise<InboxListItem[]> {
  const qb = db
    .getRepository(InboxEvent)
    .createQueryBuilder('i')
    .select(['i.id', 'i.status', 'i.msgType', 'i.event', 'i.changeType', 'i.attempts', 'i.receivedAt', 'i.lastError'])
    .orderBy('i.id', 'DESC')
    .take(opts.limit ?? 50)
    .skip(opts.offset ?? 0);
  if (opts.status) qb.where('i.status = :status', { status: opts.status });
  const rows = await qb.getMany();
  return rows.map((r) => ({
    id: r.id,
    status: r.status,
    type: eventType(r),
    attempts: r.attempts,
    receivedAt: r.receivedAt,
    lastError: r.lastError,
  }));
}

/**
 * Puts failed events back in the queue: `dead`, `unhandled` (after a handler was added) or
 * `malformed` rows become `pending` with a fresh attempt budget. Returns how many rows moved.
 */
export async function replayInbox(
  db: DataSource,
  target: { id: number } | { allDead: true },
  now = Date.now(),
): Promise<number> {
  const qb = db
    .createQueryBuilder()
    .update(InboxEvent)
    .set({ status: 'pending', attempts: 0, nextAttemptAt: now, lockedBy: null, lockedUntil: null });
  if ('id' in target)
    qb.where('id = :id AND status IN (:...s)', { id: target.id, s: ['dead', 'unhandled', 'malformed'] });
  else qb.where('status = :s', { s: 'dead' });
  const res = await qb.execute();
  return res.affected ?? 0;
}

export async function getInboxEvent(db: DataSource, id: number): Promise<InboxEvent | null> {
  return db.getRepository(InboxEvent).findOneBy({ id });
}
