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

/** The columns the worker needs of a claimed row. */
export type ClaimedRow = Pick<InboxEvent, 'id' | 'payload' | 'attempts' | 'receivedAt' | 'dedupKey'>;

const isMysql = (db: DataSource) => db.options.type !== 'better-sqlite3';

/**
 * Claims up to `limit` due pending rows for `token` until `until`, and returns them. `FOR UPDATE
 * SKIP LOCKED` on MySQL, one atomic UPDATE on SQLite, so concurrent workers never claim a row twice.
 */
export async function claimDue(
  db: DataSource,
  token: string,
  opts: { now: number; until: number; limit: number },
): Promise<ClaimedRow[]> {
  const { now, until, limit } = opts;
  if (isMysql(db)) {
    // READ COMMITTED: the claim locks only the rows it returns, never gaps, so concurrent inserts
    // on the ack path are not blocked behind a claim.
    const ids = await db.transaction('READ COMMITTED', async (m) => {
      const found = await m
        .getRepository(InboxEvent)
        .createQueryBuilder('i')
        .select('i.id', 'id')
        .where("i.status = 'pending' AND i.next_attempt_at <= :now", { now })
        .orderBy('i.next_attempt_at', 'ASC')
        .addOrderBy('i.id', 'ASC')
        .limit(limit)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getRawMany<{ id: number }>();
      if (found.length === 0) return [];
      const list = found.map((f) => Number(f.id));
      await m
        .createQueryBuilder()
        .update(InboxEvent)
        .set({ status: 'processing', lockedBy: token, lockedUntil: until, attempts: () => 'attempts + 1' })
        .where('id IN (:...list)', { list })
        .execute();
      return list;
    });
    if (ids.length === 0) return [];
  } else {
    // SQLite has one writer at a time: a single UPDATE … WHERE id IN (SELECT … LIMIT n) is the claim.
    await db.query(
      `UPDATE inbox SET status = 'processing', locked_by = ?, locked_until = ?, attempts = attempts + 1
       WHERE id IN (SELECT id FROM inbox WHERE status = 'pending' AND next_attempt_at <= ?
                    ORDER BY next_attempt_at, id LIMIT ?)`,
      [token, until, now, limit],
    );
  }
  return claimedBy(db, token);
}

/** Claims the one pending row with this dedup key (the fast lane); false when it is not pending. */
export async function claimByDedupKey(
  db: DataSource,
  dedupKey: string,
  token: string,
  until: number,
): Promise<boolean> {
  const res = await db
    .createQueryBuilder()
    .update(InboxEvent)
    .set({ status: 'processing', lockedBy: token, lockedUntil: until, attempts: () => 'attempts + 1' })
    .where("dedup_key = :k AND status = 'pending'", { k: dedupKey })
    .execute();
  return !!res.affected;
}

/** The rows `token` holds, oldest first. */
export async function claimedBy(db: DataSource, token: string): Promise<ClaimedRow[]> {
  return db
    .getRepository(InboxEvent)
    .createQueryBuilder('i')
    .select(['i.id', 'i.payload', 'i.attempts', 'i.receivedAt', 'i.dedupKey'])
    .where("i.locked_by = :token AND i.status = 'processing'", { token })
    .orderBy('i.id', 'ASC')
    .getMany();
}

/**
 * Expired leases (a crashed or killed process) go back to pending, except rows held under one of
 * `keep` (the caller's own, alive whatever the clock says); done rows received before
 * `doneCutoff` are deleted (kept until then for the dedup window).
 */
export async function sweepInbox(
  db: DataSource,
  opts: { now: number; keep: string[]; doneCutoff: number },
): Promise<void> {
  const expired = db
    .createQueryBuilder()
    .update(InboxEvent)
    .set({ status: 'pending', lockedBy: null, lockedUntil: null, nextAttemptAt: opts.now })
    .where("status = 'processing' AND locked_until < :now", { now: opts.now });
  if (opts.keep.length) expired.andWhere('locked_by NOT IN (:...mine)', { mine: opts.keep });
  await expired.execute();
  await db
    .createQueryBuilder()
    .delete()
    .from(InboxEvent)
    .where("status = 'done' AND received_at < :cutoff", { cutoff: opts.doneCutoff })
    .execute();
}

/**
 * Writes a row's outcome and releases its lease, only if `token` still holds it (a process whose
 * lease expired and was taken over does not own the row). Returns whether it was written.
 */
export async function finishClaimed(
  db: DataSource,
  id: number,
  token: string,
  status: InboxStatus,
  patch: Partial<InboxEvent>,
): Promise<boolean> {
  const res = await db
    .createQueryBuilder()
    .update(InboxEvent)
    .set({ ...patch, status, lockedBy: null, lockedUntil: null })
    .where('id = :id AND locked_by = :token', { id, token })
    .execute();
  return res.affected !== 0;
}

/** Extends the leases of `ids` still held under one of `tokens`; returns how many rows were extended. */
export async function renewLeases(db: DataSource, ids: number[], tokens: string[], until: number): Promise<number> {
  const res = await db
    .createQueryBuilder()
    .update(InboxEvent)
    .set({ lockedUntil: until })
    .where("id IN (:...ids) AND locked_by IN (:...tokens) AND status = 'processing'", { ids, tokens })
    .execute();
  return res.affected ?? 0;
}

/** Who holds each of `ids` that is still processing. */
export async function leaseHolders(db: DataSource, ids: number[]): Promise<Pick<InboxEvent, 'id' | 'lockedBy'>[]> {
  return db
    .getRepository(InboxEvent)
    .createQueryBuilder('i')
    .select(['i.id', 'i.lockedBy'])
    .where("i.id IN (:...ids) AND i.status = 'processing'", { ids })
    .getMany();
}
