import { type DataSource, type EntityManager, In } from 'typeorm';
import { Campaign, CampaignEnrollment, ContactWay, Follow, Manager, RewardOutbox } from '../db/entities';

/** SQL of the campaign feature: campaigns, enrollments (decisions) and the reward outbox. */

type Db = DataSource | EntityManager;
const mgr = (db: Db): EntityManager => ('manager' in db ? db.manager : db);

export const findCampaign = (db: Db, code: string) => mgr(db).findOne(Campaign, { where: { code } });
export const listCampaigns = (db: Db) => mgr(db).find(Campaign, { order: { startsAt: 'DESC' } });

export async function saveCampaign(tx: EntityManager, row: Campaign): Promise<void> {
  const existing = await tx.findOne(Campaign, { where: { code: row.code } });
  if (existing) {
    const { code, createdAt: _c, createdBy: _b, ...rest } = row;
    await tx.update(Campaign, { code }, rest);
  } else await tx.insert(Campaign, row);
}

/** The campaign a contact-way state names (campaign QR codes and entry contact ways). */
export async function campaignOfState(db: Db, state: string): Promise<string | null> {
  const way = await mgr(db).findOne(ContactWay, { where: { state }, select: { configId: true, campaign: true } });
  return way?.campaign ?? null;
}

export async function branchOf(db: Db, userid: string): Promise<string | null> {
  const m = await mgr(db).findOne(Manager, { where: { userid }, select: { userid: true, branchCode: true } });
  return m?.branchCode ?? null;
}

export async function enrollmentOf(db: Db, code: string, externalUserid: string): Promise<CampaignEnrollment | null> {
  return mgr(db).findOne(CampaignEnrollment, { where: { campaignCode: code, externalUserid } });
}

export async function enrollmentByUnionid(db: Db, code: string, unionid: string): Promise<CampaignEnrollment | null> {
  return mgr(db).findOne(CampaignEnrollment, { where: { campaignCode: code, unionid } });
}

/** Did this contact follow anyone before `before` (an existing relationship, not a new customer)? */
export async function followedBefore(db: Db, externalUserid: string, before: number): Promise<boolean> {
  const n = await mgr(db)
    .getRepository(Follow)
    .createQueryBuilder('f')
    .where('f.external_userid = :e AND f.added_at < :before', { e: externalUserid, before })
    .getCount();
  return n > 0;
}

export const insertEnrollment = (tx: EntityManager, row: Omit<CampaignEnrollment, 'id'>) =>
  tx.createQueryBuilder().insert().into(CampaignEnrollment).values(row).updateEntity(false).execute();

export const insertReward = (tx: EntityManager, row: Omit<RewardOutbox, 'id'>) =>
  tx.createQueryBuilder().insert().into(RewardOutbox).values(row).updateEntity(false).execute();

/**
 * The first parting after a campaign add, on every enrollment of this contact with this manager
 * (guarded: a redelivered delete, or a later one after a re-add, changes nothing).
 */
export async function markEnrollmentsParted(
  db: Db,
  externalUserid: string,
  userid: string,
  by: 'customer' | 'manager',
  at: number,
): Promise<number> {
  const res = await mgr(db)
    .createQueryBuilder()
    .update(CampaignEnrollment)
    .set({ deletedAt: at, deletedBy: by })
    .where('external_userid = :e AND userid = :u AND deleted_at IS NULL AND added_at <= :at', {
      e: externalUserid,
      u: userid,
      at,
    })
    .execute();
  return res.affected ?? 0;
}

// ---- outbox ----

/** Due: pending, its time has come, and not held by a live claim (an expired one is fair game). */
const due = (r: string) =>
  `${r}.status = 'pending' AND ${r}.next_attempt_at <= :now AND (${r}.locked_until IS NULL OR ${r}.locked_until < :now)`;

/** Due row ids, oldest first (what a delivery run would take; the dry run counts them). */
export async function dueRewardIds(db: Db, now: number, limit: number): Promise<number[]> {
  const rows = await mgr(db)
    .getRepository(RewardOutbox)
    .createQueryBuilder('r')
    .select('r.id', 'id')
    .where(due('r'), { now })
    .orderBy('r.next_attempt_at', 'ASC')
    .addOrderBy('r.id', 'ASC')
    .limit(limit)
    .getRawMany<{ id: number }>();
  return rows.map((r) => Number(r.id));
}

/**
 * Claims up to `limit` due rows for `holder` until `until` and returns them, oldest first.
 * Concurrent senders take disjoint batches: reading one due list and compare-and-setting its ids
 * one by one made every sender race for the same first rows, so most claims failed and more senders
 * added nothing (bench, MariaDB, load 3–6: 115–302 rewards/s with one, 126–200 with two, 147 with
 * four; with batch claims 353–449, 584–746 and 449 — four share 2 cores with MariaDB). A
 * claim that dies (crash, kill -9) expires at `until` and the row is sent again with the same
 * idempotency key.
 *
 * MySQL/MariaDB: one short READ COMMITTED transaction, `SELECT … FOR UPDATE SKIP LOCKED` then the
 * lease UPDATE, so a second claimer skips the rows the first is locking, and once that commits the
 * lease keeps them out of `due` (READ COMMITTED: no gap locks, inserts into the outbox never wait).
 * SQLite has no SKIP LOCKED and needs none: it has one writer at a time (and one connection per
 * process behind the SQLite gate), so a single `UPDATE … WHERE id IN (SELECT … LIMIT n)` that
 * re-checks `due` is the atomic claim, even against another process (the ops CLI) on the same file;
 * the rows are then read back by holder. A holder is unique per delivery run and releases or
 * settles every row of a batch before claiming the next, so "locked_by = holder" is this batch.
 */
export async function claimDueRewards(
  db: DataSource,
  holder: string,
  o: { now: number; until: number; limit: number },
): Promise<RewardOutbox[]> {
  if (db.options.type !== 'better-sqlite3') {
    return db.transaction('READ COMMITTED', async (m) => {
      const ids = await lockDueRewardIds(m, o.now, o.limit);
      if (!ids.length) return [];
      await m
        .createQueryBuilder()
        .update(RewardOutbox)
        .set({ lockedBy: holder, lockedUntil: o.until })
        .where('id IN (:...ids)', { ids })
        .execute();
      return m.find(RewardOutbox, { where: { id: In(ids) }, order: { nextAttemptAt: 'ASC', id: 'ASC' } });
    });
  }
  await db
    .createQueryBuilder()
    .update(RewardOutbox)
    .set({ lockedBy: holder, lockedUntil: o.until })
    .where(`id IN (SELECT r.id FROM reward_outbox r WHERE ${due('r')} ORDER BY r.next_attempt_at, r.id LIMIT :limit)`, {
      now: o.now,
      limit: o.limit,
    })
    .execute();
  return db
    .getRepository(RewardOutbox)
    .createQueryBuilder('r')
    .where("r.locked_by = :holder AND r.status = 'pending'", { holder })
    .orderBy('r.next_attempt_at', 'ASC')
    .addOrderBy('r.id', 'ASC')
    .getMany();
}

/**
 * MySQL/MariaDB, inside a claim's transaction: locks up to `limit` due rows, oldest first, skipping
 * rows another claim is locking. FORCE INDEX keeps the scan in (status, next_attempt_at, id) order,
 * stopping after `limit` rows, whatever the statistics say: a full scan with a filesort (MariaDB
 * 10.11 chose one at 20 rows with LIMIT 20) locks every due row it reads before LIMIT applies.
 */
export async function lockDueRewardIds(m: EntityManager, now: number, limit: number): Promise<number[]> {
  const rows: { id: number | string }[] = await m.query(
    `SELECT id FROM reward_outbox FORCE INDEX (idx_reward_outbox_due)
     WHERE status = 'pending' AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)
     ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED`,
    [now, now, limit],
  );
  return rows.map((r) => Number(r.id));
}

/** A POST's answer to record on its row (which the settle also unlocks). */
export interface RewardAnswer {
  id: number;
  set: Partial<RewardOutbox>;
}

/**
 * Records a batch's answers and gives back the rows it did not POST (abort, or too little lease
 * left), in one transaction; each write only where `holder` still holds the row.
 */
export async function recordRewardAnswers(
  db: DataSource,
  holder: string,
  answers: RewardAnswer[],
  unposted: number[],
): Promise<void> {
  if (!answers.length && !unposted.length) return;
  await db.transaction(async (tx) => {
    for (const a of answers) await settleReward(tx, a.id, holder, a.set);
    if (unposted.length)
      await tx
        .createQueryBuilder()
        .update(RewardOutbox)
        .set({ lockedBy: null, lockedUntil: null })
        .where('id IN (:...ids) AND locked_by = :holder', { ids: unposted, holder })
        .execute();
  });
}

/** Records a POST's answer; false when the claim was lost (expired and taken over): nothing written. */
export async function settleReward(db: Db, id: number, holder: string, set: Partial<RewardOutbox>): Promise<boolean> {
  const res = await mgr(db)
    .createQueryBuilder()
    .update(RewardOutbox)
    .set({ ...set, lockedBy: null, lockedUntil: null })
    .where('id = :id AND locked_by = :holder', { id, holder })
    .execute();
  return (res.affected ?? 0) > 0;
}

export async function listRewards(
  db: Db,
  f: { status?: string; campaign?: string; limit?: number },
): Promise<RewardOutbox[]> {
  const qb = mgr(db).getRepository(RewardOutbox).createQueryBuilder('r');
  if (f.status) qb.andWhere('r.status = :s', { s: f.status });
  if (f.campaign) qb.andWhere('r.campaign_code = :c', { c: f.campaign });
  return qb
    .orderBy('r.id', 'DESC')
    .limit(f.limit ?? 200)
    .getMany();
}

/** Dead rows back to pending, attempts reset (the idempotency key is unchanged: the bank dedups). */
export async function replayDeadRewards(tx: EntityManager, ids: number[], now: number): Promise<number> {
  if (!ids.length) return 0;
  const res = await tx
    .createQueryBuilder()
    .update(RewardOutbox)
    .set({ status: 'pending', attempts: 0, nextAttemptAt: now, lockedBy: null, lockedUntil: null, updatedAt: now })
    .where("id IN (:...ids) AND status = 'dead'", { ids })
    .execute();
  return res.affected ?? 0;
}

/** The managers a campaign QR run is for: one by userid, or a branch's active managers and leads. */
export const qrManagers = (db: Db, sel: { userid?: string; branch?: string }) =>
  mgr(db).find(Manager, {
    where: sel.userid
      ? { userid: sel.userid }
      : { branchCode: sel.branch, status: 'active', role: In(['manager', 'branch_lead']) },
    order: { userid: 'ASC' },
  });

/** A campaign contact way (the row carries the campaign; never a customer tag). */
export const insertCampaignContactWay = (
  tx: EntityManager,
  row: { configId: string; userid: string; state: string; campaign: string; qrCode: string | null; createdAt: number },
) => tx.insert(ContactWay, { ...row, purpose: 'campaign', allocationId: null, deletedAt: null });
