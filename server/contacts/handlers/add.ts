import * as allocationRepo from '../../allocation/repo';
import { getActiveRuleSet } from '../../allocation/ruleset-store';
import { adjustLoad, allocateCustomer, confirmAllocation } from '../../allocation/service';
import { audit } from '../../audit/audit';
import { decideOnAdd } from '../../campaigns/service';
import type { Allocation } from '../../db/entities';
import { recordReferralAdd } from '../../referrals/service';
import type { ExternalContactDetail } from '../../wecom/api-types';
import { wecomErrorInfo } from '../../wecom/errors';
import { type EventOf, field, type HandlerContext } from '../../wecom/events';
import { matchCustomer } from '../matching';
import { upsertContact, upsertFollow } from '../repo';
import { applyContactTags, segmentTag, type WantedTag } from '../tags';
import { requestTransfers } from '../transfers';
import { sendWelcome, welcomeStarted, welcomesIdle } from '../welcome';
import { contactOf } from './contact-event';

/** How long after the event starts the welcome waits for externalcontact/get (先生/女士) before sending without it. */
const GENDER_WAIT_MS = 150;
/**
 * The slow part yields to in-flight welcomes at most this long. Long enough to ride out a burst
 * (measured: with 2 s the slow parts of a 200/s burst starved the welcomes of CPU), far inside the
 * worker's 60 s lease; tags and matching simply land a few seconds later.
 */
const YIELD_TO_WELCOMES_MS = 10_000;

type Fetched = { ok: true; detail: ExternalContactDetail } | { ok: false; error: unknown };

function waitAtMost<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * add_external_contact / add_half_external_contact. The welcome message goes first (its code dies
 * 20 s after the event); linking, the follow, the allocation, mismatch policy and tags come after.
 * Every step is an upsert or guarded by a unique key, so a retry or redelivery changes nothing twice.
 */
export function addHandler(half: boolean) {
  return async (
    event: EventOf<
      'event/change_external_contact/add_external_contact' | 'event/change_external_contact/add_half_external_contact'
    >,
    ctx: HandlerContext,
  ): Promise<void> => {
    const { db, wecom } = ctx;
    const ids = contactOf(event);
    if (!ids) {
      ctx.log.warn('add event without UserID or ExternalUserID; ignored');
      return;
    }
    const { externalUserid, userid } = ids;
    const state = field(event, 'State') || null;
    const welcomeCode = field(event, 'WelcomeCode') || undefined;
    const welcomeDone = welcomeCode ? welcomeStarted() : () => undefined;
    const fetched: Promise<Fetched> = wecom.getExternalContact(externalUserid).then(
      (detail) => ({ ok: true as const, detail }),
      (error) => ({ ok: false as const, error }),
    );

    // 1. Welcome, fast.
    const gender = waitAtMost(fetched, GENDER_WAIT_MS).then((f) =>
      f?.ok ? f.detail.external_contact.gender : undefined,
    );
    const welcome = await sendWelcome(
      {
        db,
        wecom,
        now: ctx.now,
        observeLatency: (s) => ctx.metrics.welcomeLatency.observe(s),
      },
      {
        welcomeCode,
        externalUserid,
        userid,
        state,
        receivedAt: ctx.receivedAt,
        gender,
      },
    ).finally(welcomeDone);

    // 2. The rest, after any welcome still in flight in this process.
    await welcomesIdle(YIELD_TO_WELCOMES_MS);
    const now = ctx.now();
    const got = await fetched;
    if (!got.ok && wecomErrorInfo(got.error).kind === 'retryable') throw got.error;
    const detail: ExternalContactDetail = got.ok
      ? got.detail
      : { external_contact: { external_userid: externalUserid, name: '', type: 1 }, follow_user: [] };
    const follow = detail.follow_user.find((f) => f.userid === userid);
    const createTime = Number(field(event, 'CreateTime')) * 1000;
    const addedAt = follow?.createtime ? follow.createtime * 1000 : createTime || now;
    const phones = (follow as { remark_mobiles?: string[] } | undefined)?.remark_mobiles ?? [];

    const match = await matchCustomer(
      db,
      { externalUserid, state, unionid: detail.external_contact.unionid, phones },
      ctx.config.phoneHashSalt,
    );
    await upsertContact(db, detail.external_contact, match, now);
    const newFollow = await upsertFollow(db, {
      externalUserid,
      userid,
      state: state ?? follow?.state ?? null,
      addedAt,
      half,
      remark: follow?.remark ?? null,
    });

    const allocation = await settleAllocation(ctx, {
      externalUserid,
      userid,
      state,
      customerId: match.customerId,
      stateAllocation: match.allocation,
      newFollow,
      addedAt,
    });

    await audit(db, {
      actor: 'system:callback',
      action: half ? 'contact.add_half' : 'contact.add',
      subject: `contact:${externalUserid}`,
      detail: {
        userid,
        customerId: match.customerId,
        matchedBy: match.matchedBy,
        allocationId: allocation?.id ?? null,
        welcome,
        newFollow,
      },
    });

    const customer = match.customerId ? await allocationRepo.findCustomer(db, match.customerId) : null;
    // Campaign eligibility, decided once per campaign and customer (server/campaigns).
    if (!half) {
      await decideOnAdd(db, {
        externalUserid,
        userid,
        state,
        unionid: detail.external_contact.unionid ?? null,
        contactType: detail.external_contact.type,
        corpName: detail.external_contact.corp_name ?? null,
        corpFullName: detail.external_contact.corp_full_name ?? null,
        staffCorps: ctx.config.campaigns?.staffCorps ?? [],
        customer: customer ? { id: customer.id, ownerUserid: customer.ownerUserid } : null,
        allocationCampaign: allocation?.campaign ?? null,
        addedAt,
        now,
      });
      // Referrals (MGM): a referral code's state attributes the add to its referrer (server/referrals).
      await recordReferralAdd(db, {
        externalUserid,
        userid,
        state,
        addedAt,
        unionid: detail.external_contact.unionid ?? null,
      });
    }

    // 3. Tags last: the slowest part, and the least urgent. Campaign attribution is never a
    // customer tag (customers can see tags): it stays on the contact way and the allocation.
    const wanted: WantedTag[] = [];
    // Only the segment: a campaign code is attribution (allocations.campaign), not a customer tag.
    if (customer?.segment) wanted.push(segmentTag(ctx.config.segmentTags, customer.segment));
    if (wanted.length === 0) return;
    try {
      await applyContactTags(db, wecom, { userid, externalUserid }, wanted, now);
    } catch (err) {
      // A data error (relation gone, tag deleted meanwhile) must not dead-letter an add whose
      // welcome, link and follow are done; busy/network errors rethrow and the rerun is idempotent.
      const info = wecomErrorInfo(err);
      if (info.kind !== 'data') throw err;
      ctx.log.warn({ externalUserid, userid, errcode: info.errcode }, 'tagging the new contact failed');
      await audit(db, {
        actor: 'system:callback',
        action: 'contact.tag_failed',
        subject: `contact:${externalUserid}`,
        detail: { userid, errcode: info.errcode },
      });
    }
  };
}

interface SettleInput {
  externalUserid: string;
  userid: string;
  state: string | null;
  customerId: string | null;
  /** The allocation the state names, already read by matching. */
  stateAllocation: Allocation | null;
  newFollow: boolean;
  addedAt: number;
}

/**
 * Ties the add to an allocation: the one the state names, else one already made for this contact,
 * else (for a matched customer) a new decision with source 'callback'. Returns it, or null for an
 * unmatched contact. A mismatch (the customer added someone other than the chosen manager) goes
 * to the rule set's policy.
 */
async function settleAllocation(ctx: HandlerContext, s: SettleInput): Promise<Allocation | null> {
  const { db } = ctx;
  const now = ctx.now();
  let allocation = s.stateAllocation;
  if (!allocation) allocation = await allocationRepo.latestAllocationFor(db, { externalUserid: s.externalUserid });
  if (!allocation && s.customerId) {
    const made = await allocateCustomer(
      db,
      { customerId: s.customerId, addedUserid: s.userid },
      {
        source: 'callback',
        actor: 'system:callback',
        salt: ctx.config.phoneHashSalt,
        now,
        externalUserid: s.externalUserid,
        status: 'open',
      },
    );
    allocation = made.allocation;
  }
  if (!allocation) {
    if (s.newFollow) adjustLoad(db, s.userid, 1);
    return null;
  }

  const chosen = allocation.userid;
  // An open allocation already counted its manager in the cached loads (added_manager adds none).
  const counted = allocation.status === 'open' && allocation.reason !== 'added_manager' ? chosen : null;
  if (s.newFollow && counted !== s.userid) {
    adjustLoad(db, s.userid, 1);
    if (counted) adjustLoad(db, counted, -1);
  }
  if (chosen === s.userid || chosen === null) {
    await confirmAllocation(db, allocation.id, s.externalUserid, 'system:callback', now);
    return allocation;
  }
  // Settled earlier with another manager: this add is a second relation, not a mismatch.
  if (allocation.status === 'confirmed') return allocation;
  // Redelivery after the policy ran (the contact is already on the allocation): nothing more to do.
  if (allocation.status === 'superseded' || (!s.newFollow && allocation.externalUserid === s.externalUserid)) {
    return allocation;
  }
  await applyMismatchPolicy(ctx, allocation, s);
  return allocation;
}

async function applyMismatchPolicy(ctx: HandlerContext, allocation: Allocation, s: SettleInput): Promise<void> {
  const { db } = ctx;
  const now = ctx.now();
  const ruleSet = await getActiveRuleSet(db);
  const chosen = allocation.userid as string;
  const target = await allocationRepo.findManager(db, chosen);
  const transfer =
    ruleSet.mismatchPolicy === 'transfer_to_owner' && allocation.reason === 'owner' && target?.status === 'active';
  await audit(db, {
    actor: 'system:callback',
    action: 'allocation.mismatch',
    subject: `allocation:${allocation.id}`,
    detail: { added: s.userid, chosen, policy: ruleSet.mismatchPolicy, action: transfer ? 'transfer' : 'keep' },
  });
  if (!transfer) {
    // Keep: the customer's own choice stands; the allocation is recorded as overtaken by it.
    await allocationRepo.setAllocationStatus(db, allocation.id, 'superseded', { externalUserid: s.externalUserid });
    return;
  }
  await allocationRepo.setAllocationStatus(db, allocation.id, allocation.status, { externalUserid: s.externalUserid });
  await requestTransfers(db, ctx.wecom, {
    handover: s.userid,
    takeover: chosen,
    kind: 'onjob',
    externalUserids: [s.externalUserid],
    actor: 'system:callback',
    reason: 'mismatch_to_owner',
    now,
    dedupeSince: s.addedAt,
  });
}
