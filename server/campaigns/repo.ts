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

/** Due rows not held by a live claim. */
export async function dueRewardIds(db: Db, now: number, limit: number): Promise<number[]> {
  const rows = await mgr(db)
    .getRepository(RewardOutbox)
    .createQueryBuilder('r')
    .select('r.id', 'id')
    .where("r.status = 'pending' AND r.next_attempt_at <= :now AND (r.locked_until IS NULL OR r.locked_until < :now)", {
      now,
    })
    .orderBy('r.next_attempt_at', 'ASC')
    .addOrderBy('r.id', 'ASC')
    .limit(limit)
    .getRawMany<{ id: number }>();
  return rows.map((r) => Number(r.id));
}

/**
 * Claims one row (compare-and-set on the lock): exactly one instance wins it. A claim that dies
 * (crash, kill -9) expires at `until` and the row is sent again with the same idempotency key.
 */
export async function claimReward(
  db: Db,
  id: number,
  holder: string,
  now: number,
  until: number,
): Promise<RewardOutbox | null> {
  const res = await mgr(db)
    .createQueryBuilder()
    .update(RewardOutbox)
    .set({ lockedBy: holder, lockedUntil: until })
    .where("id = :id AND status = 'pending' AND (locked_until IS NULL OR locked_until < :now)", { id, now })
    .execute();
  if ((res.affected ?? 0) === 0) return null;
  return mgr(db).findOne(RewardOutbox, { where: { id } });
}

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
