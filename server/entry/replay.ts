import type { DataSource } from 'typeorm';
import { isUniqueViolation } from '../db/data-source';
import { EntryRequestRow } from '../db/entities';
import { MAX_SKEW_SECONDS } from './signature';

/**
 * Each signed entry request is accepted once. The first request with a (client, signature) claims
 * a row in `entry_requests`, which every instance sees; a replay within the ±300 s window gets the
 * first request's answer, or 409 while the first is still running. A request that failed gives
 * its claim back, so an identical retry may still succeed once. Rows outlive the window by a
 * margin for clock differences between instances and are purged after it.
 */

/** Kept this long after the signed timestamp: the window plus a margin for skewed instance clocks. */
const KEEP_AFTER_TIMESTAMP_MS = (MAX_SKEW_SECONDS + 120) * 1000;
/** Expired rows are purged at most this often per process. */
const PURGE_EVERY_MS = 60_000;

export type Claim = { kind: 'first' } | { kind: 'pending' } | { kind: 'done'; answer: unknown };

const lastPurge = new WeakMap<DataSource, number>();

export async function claimRequest(
  db: DataSource,
  client: string,
  signature: string,
  timestampSeconds: number,
  now: number,
): Promise<Claim> {
  await maybePurge(db, now);
  const key = { client, signature: signature.toLowerCase() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await db
        .createQueryBuilder()
        .insert()
        .into(EntryRequestRow)
        .values({
          ...key,
          status: 'pending',
          answer: null,
          createdAt: now,
          expiresAt: Math.max(timestampSeconds * 1000, now) + KEEP_AFTER_TIMESTAMP_MS,
        })
        .updateEntity(false)
        .execute();
      return { kind: 'first' };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    const row = await db.manager.findOne(EntryRequestRow, { where: key });
    if (row?.status === 'done') return { kind: 'done', answer: row.answer === null ? null : JSON.parse(row.answer) };
    if (row) return { kind: 'pending' };
    // The first request failed and gave its claim back between our insert and read: try again.
  }
  return { kind: 'pending' };
}

/** Stores the answer a replay of this request gets. */
export async function finishRequest(db: DataSource, client: string, signature: string, answer: unknown): Promise<void> {
  await db.manager.update(
    EntryRequestRow,
    { client, signature: signature.toLowerCase() },
    { status: 'done', answer: JSON.stringify(answer) },
  );
}

/** The request failed without allocating: an identical retry may run. */
export async function releaseRequest(db: DataSource, client: string, signature: string): Promise<void> {
  await db.manager.delete(EntryRequestRow, { client, signature: signature.toLowerCase(), status: 'pending' });
}

/** Deletes rows past their window; returns how many. */
export async function purgeExpiredRequests(db: DataSource, now: number): Promise<number> {
  const res = await db
    .createQueryBuilder()
    .delete()
    .from(EntryRequestRow)
    .where('expires_at < :now', { now })
    .execute();
  return res.affected ?? 0;
}

async function maybePurge(db: DataSource, now: number): Promise<void> {
  const last = lastPurge.get(db);
  if (last !== undefined && now - last < PURGE_EVERY_MS && now >= last) return;
  lastPurge.set(db, now);
  await purgeExpiredRequests(db, now);
}
