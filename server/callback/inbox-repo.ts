import type { DataSource } from 'typeorm';
import { InboxEvent, InboxStatus } from '../db/entities';

/**
 * A row's payload is the decrypted callback XML (welcome codes, message text, names). It is
 * cleared once the event is processed (`done`), and for `dead`, `malformed` and `unhandled` rows
 * once they are older than INBOX_RETENTION_DAYS; the metadata and the dedup key stay.
 */
export const PURGED_PAYLOAD = '';
const REPLAYABLE: InboxStatus[] = ['dead', 'unhandled', 'malformed'];

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
  /** The decrypted payload was cleared (processed, or past the retention limit): it cannot be replayed. */
  payloadPurged: boolean;
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
    // Only whether the payload is still there: the payload itself never leaves the database here.
    .addSelect('LENGTH(i.payload)', 'payload_length')
    .orderBy('i.id', 'DESC')
    .limit(opts.limit ?? 50)
    .offset(opts.offset ?? 0);
  if (opts.status) qb.where('i.status = :status', { status: opts.status });
  const { entities, raw } = await qb.getRawAndEntities<{ payload_length: number | string | null }>();
  return entities.map((r, i) => ({
    id: r.id,
    status: r.status,
    type: eventType(r),
    attempts: r.attempts,
    receivedAt: r.receivedAt,
    lastError: r.lastError,
    payloadPurged: Number(raw[i]?.payload_length ?? 0) === 0,
  }));
}

/** Whether a row's decrypted payload is gone (see PURGED_PAYLOAD). */
export const isPurged = (r: Pick<InboxEvent, 'payload'>) => r.payload === PURGED_PAYLOAD;

export interface PurgeResult {
  /** Processed rows whose payload was cleared (normally already cleared by the worker). */
  done: number;
  /** Dead, malformed or unhandled rows past the retention limit whose payload was cleared. */
  expired: number;
}

/**
 * Clears payloads that are no longer needed: every `done` row (rows processed before the worker
 * cleared payloads itself), and `dead` / `malformed` / `unhandled` rows received more than
 * `retentionDays` ago. In batches of ids, so a large backlog never holds one long write lock.
 */
export async function purgeInboxPayloads(
  db: DataSource,
  opts: { now: number; retentionDays: number; batch?: number },
): Promise<PurgeResult> {
  const cutoff = opts.now - opts.retentionDays * 24 * 3_600_000;
  const batch = opts.batch ?? 500;
  const out: PurgeResult = { done: 0, expired: 0 };
  const pass = async (key: keyof PurgeResult, where: string, params: Record<string, unknown>) => {
    for (;;) {
      const ids = (
        await db
          .getRepository(InboxEvent)
          .createQueryBuilder('i')
          .select('i.id', 'id')
          .where(`i.payload <> :purged AND ${where}`, { purged: PURGED_PAYLOAD, ...params })
          .orderBy('i.id', 'ASC')
          .limit(batch)
          .getRawMany<{ id: number | string }>()
      ).map((r) => Number(r.id));
      if (ids.length === 0) return;
      const res = await db
        .createQueryBuilder()
        .update(InboxEvent)
        .set({ payload: PURGED_PAYLOAD })
        // The status condition again: a row replayed meanwhile (pending) keeps its payload.
        .where(`id IN (:...ids) AND ${where}`, { ids, ...params })
        .execute();
      out[key] += res.affected ?? 0;
      if (ids.length < batch) return;
    }
  };
  await pass('done', "status = 'done'", {});
  await pass('expired', 'status IN (:...kept) AND received_at < :cutoff', { kept: REPLAYABLE, cutoff });
  return out;
}

/**
 * Puts failed events back in the queue: `dead`, `unhandled` (after a handler was added) or
 * `malformed` rows become `pending` with a fresh attempt budget. Returns how many rows moved.
 * Rows whose payload was purged (past the retention limit) are never re-queued: there is nothing
 * left to run.
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
  if ('id' in target) qb.where('id = :id AND status IN (:...s)', { id: target.id, s: REPLAYABLE });
  else qb.where('status = :s', { s: 'dead' });
  qb.andWhere('payload <> :purged', { purged: PURGED_PAYLOAD });
  const res = await qb.execute();
  return res.affected ?? 0;
}

export async function getInboxEvent(db: DataSource, id: number): Promise<InboxEvent | null> {
  return db.getRepository(InboxEvent).findOneBy({ id });
}
