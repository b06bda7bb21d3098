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
  /** externalcontact/get `type`: 1 a WeChat user, 2 a WeCom user (of some corp: see isCorpMember). */
  contactType: number;
  /** externalcontact/get `corp_name` / `corp_full_name` (type 2 only): the WeCom user's corp. */
  corpName?: string | null;
  corpFullName?: string | null;
  /** CAMPAIGN_STAFF_CORPS: the bank's own WeCom corps other than this one. */
  staffCorps?: string[];
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

/**
 * "Not a corp member". externalcontact/get says `type` 1 = a WeChat user, 2 = a WeCom user, with
 * `corp_name`/`corp_full_name` (the user's corp) only for type 2 (PROTOCOL.md, endpoint table). A
 * member of OUR corp is an internal contact: WeCom never gives them an external_userid in this corp,
 * so no add event for them reaches us as an external contact. A type 2 contact is therefore always
 * someone working at ANOTHER corp (a company customer on their work WeCom): a customer, eligible.
 * The one case that is the bank's staff is a user of one of the bank's other WeCom corps (a head-office
 * or sister corp, CAMPAIGN_STAFF_CORPS), recognised by the corp name WeCom reports.
 * Not detectable: a staff member adding from a personal WeChat (type 1); WeCom exposes no link between
 * a member and their personal WeChat, so such an add looks like any customer's.
 */
export function isCorpMember(f: Pick<AddFacts, 'contactType' | 'corpName' | 'corpFullName' | 'staffCorps'>): boolean {
  if (f.contactType !== 2 || !f.staffCorps?.length) return false;
  const names = [f.corpName, f.corpFullName].map((n) => n?.trim()).filter(Boolean);
  return names.some((n) => f.staffCorps?.includes(n as string));
}

/** The rules, in order; the first that fails is the reason. */
async function judge(db: DataSource, c: Campaign, f: AddFacts): Promise<string> {
  if (f.addedAt < c.startsAt || f.addedAt >= c.endsAt) return 'outside_period';
  if (isCorpMember(f)) return 'corp_member';
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
