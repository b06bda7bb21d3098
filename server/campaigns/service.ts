import type { DataSource } from 'typeorm';
import { audit } from '../audit/audit';
import { isUniqueViolation } from '../db/data-source';
import type { Campaign, CampaignChannel, Customer } from '../db/entities';
import type { CampaignSpec } from './file';
import * as repo from './repo';

/**
 * Campaign eligibility, decided once on the add (the enrollment row is unique per campaign and
 * contact, and per campaign and unionid), and the reward written to the outbox in the same
 * transaction, keyed by `campaign:<code>:<external_userid>`.
 */

export function specToRow(spec: CampaignSpec, actor: string, now: number): Campaign {
  return {
    code: spec.code,
    name: spec.name,
    startsAt: spec.startsAt,
    endsAt: spec.endsAt,
    rewardKind: spec.reward.kind,
    rewardAmount: spec.reward.amount,
    newCustomersOnly: spec.newCustomersOnly,
    churnFlagDays: spec.churnFlagDays,
    body: spec,
    createdBy: actor.slice(0, 64),
    createdAt: now,
    updatedAt: now,
  };
}

export interface AddFacts {
  externalUserid: string;
  userid: string;
  state: string | null;
  unionid: string | null;
  /** externalcontact/get type: 1 WeChat, 2 a WeCom user (staff reach managers as WeCom users). */
  contactType: number;
  customer: Pick<Customer, 'id' | 'ownerUserid'> | null;
  /** The allocation's campaign (entry API `campaign`). */
  allocationCampaign: string | null;
  addedAt: number;
  now: number;
}

export type Decision =
  | { outcome: 'none' }
  | { outcome: 'unknown_campaign'; code: string }
  | { outcome: 'duplicate'; code: string }
  | { outcome: 'decided'; code: string; eligible: boolean; reason: string; rewardKey: string | null };

export const rewardKey = (code: string, externalUserid: string) => `campaign:${code}:${externalUserid}`;

export async function attributionOf(
  db: DataSource,
  f: AddFacts,
): Promise<{ code: string; channel: CampaignChannel } | null> {
  if (f.allocationCampaign) return { code: f.allocationCampaign, channel: 'entry' };
  if (f.state) {
    const code = await repo.campaignOfState(db, f.state);
    if (code) return { code, channel: 'qr' };
  }
  return null;
}

/** The rules, in order; the first that fails is the reason. */
async function judge(db: DataSource, c: Campaign, f: AddFacts): Promise<string> {
  if (f.addedAt < c.startsAt || f.addedAt >= c.endsAt) return 'outside_period';
  if (f.contactType === 2) return 'wecom_user';
  if (c.newCustomersOnly) {
    if (f.customer?.ownerUserid) return 'existing_customer';
    if (await repo.followedBefore(db, f.externalUserid, c.startsAt)) return 'already_contact';
  }
  return 'eligible';
}

export async function decideOnAdd(db: DataSource, f: AddFacts): Promise<Decision> {
  const attribution = await attributionOf(db, f);
  if (!attribution) return { outcome: 'none' };
  const { code, channel } = attribution;
  const campaign = await repo.findCampaign(db, code);
  if (!campaign) return { outcome: 'unknown_campaign', code };
  // A redelivered add, or a re-add after a delete: decided already.
  if (await repo.enrollmentOf(db, code, f.externalUserid)) return { outcome: 'duplicate', code };
  if (f.unionid && (await repo.enrollmentByUnionid(db, code, f.unionid))) {
    await audit(db, {
      actor: 'system:campaign',
      action: 'campaign.duplicate_unionid',
      subject: `contact:${f.externalUserid}`,
      detail: { campaign: code },
    });
    return { outcome: 'duplicate', code };
  }
  const reason = await judge(db, campaign, f);
  const eligible = reason === 'eligible';
  const branchCode = await repo.branchOf(db, f.userid);
  const key = rewardKey(code, f.externalUserid);
  try {
    await db.transaction(async (tx) => {
      await repo.insertEnrollment(tx, {
        campaignCode: code,
        externalUserid: f.externalUserid,
        unionid: f.unionid,
        userid: f.userid,
        branchCode,
        customerId: f.customer?.id ?? null,
        channel,
        eligible,
        reason,
        addedAt: f.addedAt,
        decidedAt: f.now,
      });
      if (eligible) {
        const body = JSON.stringify({
          idempotencyKey: key,
          type: 'campaign',
          campaign: { code, name: campaign.name },
          reward: { kind: campaign.rewardKind, amount: campaign.rewardAmount },
          customer: { externalUserid: f.externalUserid, unionid: f.unionid, customerId: f.customer?.id ?? null },
          manager: { userid: f.userid },
          branch: { code: branchCode },
          addedAt: new Date(f.addedAt).toISOString(),
        });
        await repo.insertReward(tx, {
          idempotencyKey: key,
          campaignCode: code,
          externalUserid: f.externalUserid,
          body,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: f.now,
          lockedBy: null,
          lockedUntil: null,
          httpStatus: null,
          lastError: null,
          createdAt: f.now,
          sentAt: null,
          updatedAt: f.now,
        });
      }
      await audit(tx, {
        actor: 'system:campaign',
        action: eligible ? 'campaign.eligible' : 'campaign.ineligible',
        subject: `contact:${f.externalUserid}`,
        detail: { campaign: code, channel, reason },
      });
    });
  } catch (err) {
    // Another worker decided the same add at the same moment: its decision stands.
    if (isUniqueViolation(err)) return { outcome: 'duplicate', code };
    throw err;
  }
  return { outcome: 'decided', code, eligible, reason, rewardKey: eligible ? key : null };
}
