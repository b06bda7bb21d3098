import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { audit } from '../audit/audit';
import * as campaignRepo from '../campaigns/repo';
import { isUniqueViolation } from '../db/data-source';
import { ContactWay, type ReferralCode } from '../db/entities';
import type { WecomApi } from '../wecom/api-types';
import * as repo from './repo';

/**
 * Referrals (MGM, 推荐码). A code is a contact way (QR code / link) of one manager whose `state`
 * is `rf` + 16 random bytes in base64url (24 characters: within WeCom's 30, and unguessable), mapped
 * in referral_codes to the referrer. Nothing about the referrer is readable from the state.
 * An add through the code records a referral (unique per referred contact: the first referrer keeps
 * it); the referral-rewards job writes one reward request to the campaign outbox, keyed
 * `referral:<referred external_userid>`, once the referred customer has stayed REFERRAL_STAY_DAYS.
 */

export const REFERRAL_STATE_PREFIX = 'rf';
export const referralRewardKey = (referredExternalUserid: string) => `referral:${referredExternalUserid}`;
/** The outbox's campaign column for referral rewards (campaign reports only read `campaign:` keys). */
export const REFERRAL_OUTBOX_CODE = 'referral';

export interface Referrer {
  externalUserid: string | null;
  customerId: string | null;
}

export interface MadeCode {
  state: string;
  qrCode: string | null;
  configId: string;
  created: boolean;
}

/** One code per referrer and manager: asking again returns the same QR code. */
export async function createReferralCode(
  db: DataSource,
  wecom: WecomApi,
  o: { referrer: Referrer; userid: string; actor: string; now: number },
): Promise<MadeCode> {
  if (!o.referrer.externalUserid && !o.referrer.customerId)
    throw new Error('a referrer needs a contact or a customer id');
  const existing = await repo.existingCode(db, o.referrer, o.userid);
  if (existing) return { state: existing.state, qrCode: existing.qrCode, configId: existing.configId, created: false };
  const state = `${REFERRAL_STATE_PREFIX}${randomBytes(16).toString('base64url')}`;
  const way = await wecom.addContactWay({ type: 1, scene: 2, user: [o.userid], state, skip_verify: true });
  const branchCode = await campaignRepo.branchOf(db, o.userid);
  await db.transaction(async (tx) => {
    await tx.insert(ContactWay, {
      configId: way.config_id,
      userid: o.userid,
      state,
      purpose: 'referral',
      campaign: null,
      qrCode: way.qr_code ?? null,
      allocationId: null,
      createdAt: o.now,
      deletedAt: null,
    });
    const row: ReferralCode = {
      state,
      referrerExternalUserid: o.referrer.externalUserid,
      referrerCustomerId: o.referrer.customerId,
      userid: o.userid,
      branchCode,
      configId: way.config_id,
      qrCode: way.qr_code ?? null,
      createdBy: o.actor.slice(0, 64),
      createdAt: o.now,
    };
    await repo.insertCode(tx, row);
    await audit(tx, {
      actor: o.actor,
      action: 'referral.code',
      subject: o.referrer.customerId ? `customer:${o.referrer.customerId}` : `contact:${o.referrer.externalUserid}`,
      detail: { userid: o.userid, configId: way.config_id },
    });
  });
  return { state, qrCode: way.qr_code ?? null, configId: way.config_id, created: true };
}

/**
 * On an add (after the follow is stored): a referral code's state attributes the add to its
 * referrer. Idempotent: a redelivered add or a re-add finds the referral already there.
 */
export async function recordReferralAdd(
  db: DataSource,
  f: { externalUserid: string; userid: string; state: string | null; addedAt: number; unionid?: string | null },
): Promise<{ reason: string } | null> {
  if (!f.state?.startsWith(REFERRAL_STATE_PREFIX)) return null;
  const code = await repo.codeOfState(db, f.state);
  if (!code) return null;
  if (await repo.referralOf(db, f.externalUserid)) return null;
  // The same person back under another external_userid (matched by unionid, as for campaigns).
  if (f.unionid && (await repo.referredByUnionid(db, f.externalUserid, f.unionid))) return null;
  const self = code.referrerExternalUserid === f.externalUserid;
  // Someone who followed any manager before this add is not a new customer the referrer brought.
  const known = !self && (await campaignRepo.followedBefore(db, f.externalUserid, f.addedAt));
  const reason = self ? 'self' : known ? 'existing_contact' : 'eligible';
  await repo.insertReferral(db, {
    state: code.state,
    referrerExternalUserid: code.referrerExternalUserid,
    referrerCustomerId: code.referrerCustomerId,
    referredExternalUserid: f.externalUserid,
    userid: f.userid,
    branchCode: code.branchCode,
    reason,
    addedAt: f.addedAt,
    deletedAt: null,
    rewardKey: null,
    rewardedAt: null,
  });
  await audit(db, {
    actor: 'system:referral',
    action: 'referral.add',
    subject: `contact:${f.externalUserid}`,
    detail: { referrer: code.referrerCustomerId ?? code.referrerExternalUserid, userid: f.userid, reason },
  });
  return { reason };
}

export { markReferralParted } from './repo';

/**
 * The referral-rewards job: every eligible referral whose customer stayed `stayDays` without
 * parting gets one outbox row. The outbox key is unique and the referral is marked in the same
 * transaction, so two instances or a rerun never write a second request.
 */
export async function rewardStayedReferrals(
  db: DataSource,
  o: { now: number; stayDays: number; rewardKind: string; rewardAmount: number; limit?: number },
): Promise<{ rewarded: number; skipped: number }> {
  const due = await repo.dueReferrals(db, o.now - o.stayDays * 86_400_000, o.limit ?? 1000);
  let rewarded = 0;
  let skipped = 0;
  for (const r of due) {
    const key = referralRewardKey(r.referredExternalUserid);
    try {
      const won = await db.transaction(async (tx) => {
        if (!(await repo.markRewarded(tx, r.id, key, o.now))) return false;
        const body = JSON.stringify({
          idempotencyKey: key,
          type: 'referral',
          reward: { kind: o.rewardKind, amount: o.rewardAmount },
          referrer: { customerId: r.referrerCustomerId, externalUserid: r.referrerExternalUserid },
          customer: { externalUserid: r.referredExternalUserid },
          manager: { userid: r.userid },
          branch: { code: r.branchCode },
          addedAt: new Date(r.addedAt).toISOString(),
          stayDays: o.stayDays,
        });
        await campaignRepo.insertReward(tx, {
          idempotencyKey: key,
          campaignCode: REFERRAL_OUTBOX_CODE,
          externalUserid: r.referredExternalUserid,
          body,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: o.now,
          lockedBy: null,
          lockedUntil: null,
          httpStatus: null,
          lastError: null,
          createdAt: o.now,
          sentAt: null,
          updatedAt: o.now,
        });
        await audit(tx, {
          actor: 'system:referral',
          action: 'referral.reward',
          subject: `contact:${r.referredExternalUserid}`,
          detail: { referrer: r.referrerCustomerId ?? r.referrerExternalUserid, key },
        });
        return true;
      });
      if (won) rewarded++;
      else skipped++;
    } catch (err) {
      // Another instance wrote the same key between our read and our insert: its row stands.
      if (!isUniqueViolation(err)) throw err;
      skipped++;
    }
  }
  return { rewarded, skipped };
}

export interface ReferrerRank {
  branch: string;
  rank: number;
  referrer: string;
  referred: number;
  eligible: number;
  parted: number;
  rewarded: number;
}

/** Referrers ranked within each branch by eligible referred customers, then by all referred. */
export async function rankReferrers(db: DataSource, since: number | null): Promise<ReferrerRank[]> {
  const rows = await repo.allReferrals(db, since);
  const by = new Map<string, ReferrerRank>();
  for (const r of rows) {
    const branch = r.branchCode ?? '(none)';
    const referrer = r.referrerCustomerId ?? r.referrerExternalUserid ?? '(unknown)';
    const k = `${branch}\u0000${referrer}`;
    const x = by.get(k) ?? { branch, rank: 0, referrer, referred: 0, eligible: 0, parted: 0, rewarded: 0 };
    by.set(k, x);
    x.referred++;
    if (r.reason === 'eligible') x.eligible++;
    if (r.deletedAt !== null) x.parted++;
    if (r.rewardKey) x.rewarded++;
  }
  const list = [...by.values()].sort(
    (a, b) =>
      (a.branch < b.branch ? -1 : a.branch > b.branch ? 1 : 0) ||
      b.eligible - a.eligible ||
      b.referred - a.referred ||
      (a.referrer < b.referrer ? -1 : 1),
  );
  let branch = '';
  let rank = 0;
  for (const x of list) {
    if (x.branch !== branch) {
      branch = x.branch;
      rank = 0;
    }
    x.rank = ++rank;
  }
  return list;
}
