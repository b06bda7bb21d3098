import { type DataSource, type EntityManager, In } from 'typeorm';
import { Customer, ExternalContact, Manager, Referral, ReferralCode } from '../db/entities';

/** SQL of the referral feature: codes (state → referrer) and the adds made through them. */

type Db = DataSource | EntityManager;
const mgr = (db: Db): EntityManager => ('manager' in db ? db.manager : db);

export const codeOfState = (db: Db, state: string) => mgr(db).findOne(ReferralCode, { where: { state } });

/** The newest code this referrer already has for this manager (one QR per pair is enough). */
export async function existingCode(
  db: Db,
  referrer: { externalUserid: string | null; customerId: string | null },
  userid: string,
): Promise<ReferralCode | null> {
  const where = referrer.externalUserid
    ? { referrerExternalUserid: referrer.externalUserid, userid }
    : { referrerCustomerId: referrer.customerId as string, userid };
  return mgr(db).findOne(ReferralCode, { where, order: { createdAt: 'DESC' } });
}

export const insertCode = (tx: EntityManager, row: ReferralCode) => tx.insert(ReferralCode, row);

export const insertReferral = (db: Db, row: Omit<Referral, 'id'>) =>
  mgr(db).createQueryBuilder().insert().into(Referral).values(row).orIgnore().updateEntity(false).execute();

export const referralOf = (db: Db, referredExternalUserid: string) =>
  mgr(db).findOne(Referral, { where: { referredExternalUserid } });

/** Was the same WeChat user (one unionid) already referred under another external_userid? */
export async function referredByUnionid(db: Db, externalUserid: string, unionid: string): Promise<boolean> {
  const twins = await mgr(db).find(ExternalContact, { where: { unionid }, select: { externalUserid: true } });
  const ids = twins.map((t) => t.externalUserid).filter((id) => id !== externalUserid);
  if (!ids.length) return false;
  return (await mgr(db).countBy(Referral, { referredExternalUserid: In(ids) })) > 0;
}

/** First parting after the add (guarded, like campaign enrollments). */
export async function markReferralParted(db: Db, externalUserid: string, userid: string, at: number): Promise<void> {
  await mgr(db)
    .createQueryBuilder()
    .update(Referral)
    .set({ deletedAt: at })
    .where('referred_external_userid = :e AND userid = :u AND deleted_at IS NULL AND added_at <= :at', {
      e: externalUserid,
      u: userid,
      at,
    })
    .execute();
}

/** Eligible referrals that stayed: added before `addedBefore`, never parted, not yet rewarded. */
export async function dueReferrals(db: Db, addedBefore: number, limit: number): Promise<Referral[]> {
  return mgr(db)
    .getRepository(Referral)
    .createQueryBuilder('r')
    .where("r.reward_key IS NULL AND r.reason = 'eligible' AND r.deleted_at IS NULL AND r.added_at <= :t", {
      t: addedBefore,
    })
    .orderBy('r.id', 'ASC')
    .limit(limit)
    .getMany();
}

/** Marks the referral rewarded; false when another instance did it first. */
export async function markRewarded(tx: EntityManager, id: number, key: string, at: number): Promise<boolean> {
  const res = await tx
    .createQueryBuilder()
    .update(Referral)
    .set({ rewardKey: key, rewardedAt: at })
    .where('id = :id AND reward_key IS NULL', { id })
    .execute();
  return (res.affected ?? 0) > 0;
}

export async function allReferrals(db: Db, since: number | null): Promise<Referral[]> {
  const qb = mgr(db).getRepository(Referral).createQueryBuilder('r');
  if (since !== null) qb.where('r.added_at >= :since', { since });
  return qb.orderBy('r.id', 'ASC').getMany();
}

/** Who a referral code would be made for: the customer, the manager it adds, the customer's linked contact. */
export async function referrerSubject(db: Db, customerId: string, userid: string | undefined) {
  const customer = await mgr(db).findOne(Customer, { where: { id: customerId } });
  const manager = customer
    ? await mgr(db).findOne(Manager, { where: { userid: userid ?? customer.ownerUserid ?? '' } })
    : null;
  const contact = customer ? await mgr(db).findOne(ExternalContact, { where: { customerId: customer.id } }) : null;
  return { customer, manager, contact };
}
