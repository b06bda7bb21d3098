import type { DataSource } from 'typeorm';
import { Campaign, CampaignEnrollment, RewardOutbox } from '../db/entities';
import { chinaDay } from '../lib/china-day';

/**
 * The campaign report (`ops campaigns report <code>`): the campaign's adds by China day, branch and
 * channel; reward requests sent, failed (dead-lettered) and pending; 7- and 30-day retention of the
 * campaign's customers; and the customers who deleted the manager within the campaign's
 * churnFlagDays, flagged.
 *
 * Definitions (written into the report):
 * - an add = one enrollment (the campaign's decision on a customer's first attributed add), eligible or not;
 * - campaign customers = eligible enrollments (the ones a reward is due for);
 * - retained at N days = the customer and the manager did not part (either side deleted, recorded on the
 *   enrollment; a transfer is not a parting) in the N days after the add; the cohort is the campaign
 *   customers added at least N days before the report time, so young adds never count as retained;
 * - flagged = a campaign customer who deleted the manager (del_follow_user) within churnFlagDays of
 *   the add, even if they added the manager again later.
 */

const DAY = 86_400_000;

export interface CampaignReportMetrics {
  adds: number;
  eligible: number;
  rewardsSent: number;
  rewardsFailed: number;
  rewardsPending: number;
  cohort7: number;
  retained7: number;
  retention7: number | null;
  cohort30: number;
  retained30: number;
  retention30: number | null;
  flagged: number;
}

export interface CampaignReportRow extends CampaignReportMetrics {
  key: string;
}

export interface FlaggedCustomer {
  externalUserid: string;
  customerId: string | null;
  userid: string;
  branch: string | null;
  addedAt: number;
  deletedAt: number;
  /** Whole days from the add to the delete. */
  afterDays: number;
}

export interface CampaignReport {
  campaign: { code: string; name: string; startsAt: number; endsAt: number; churnFlagDays: number };
  asOf: number;
  total: CampaignReportMetrics;
  byDay: CampaignReportRow[];
  byBranch: CampaignReportRow[];
  byChannel: CampaignReportRow[];
  /** Ineligible adds by reason (outside_period, corp_member, existing_customer, already_contact). */
  ineligible: Record<string, number>;
  flaggedCustomers: FlaggedCustomer[];
  definitions: string[];
}

export const CAMPAIGN_REPORT_DEFINITIONS = [
  'adds: first attributed adds of distinct customers (eligible or not)',
  'campaign customers: eligible adds',
  'retention N d: campaign customers added ≥ N days ago who did not part with the manager (either side deleting) within N days of the add; transfers are not partings',
  'flagged: a campaign customer who deleted the manager within churnFlagDays of the add (kept even after a re-add)',
  'rewards: failed = dead-lettered (ops campaigns rewards --failed), pending = queued or retrying',
];

interface Enrolled {
  externalUserid: string;
  customerId: string | null;
  userid: string;
  branch: string | null;
  channel: string;
  eligible: boolean;
  reason: string;
  addedAt: number;
  deletedAt: number | null;
  deletedBy: string | null;
  reward: string | null;
}

const emptyMetrics = (): CampaignReportMetrics => ({
  adds: 0,
  eligible: 0,
  rewardsSent: 0,
  rewardsFailed: 0,
  rewardsPending: 0,
  cohort7: 0,
  retained7: 0,
  retention7: null,
  cohort30: 0,
  retained30: 0,
  retention30: null,
  flagged: 0,
});

export async function buildCampaignReport(db: DataSource, code: string, asOf: number): Promise<CampaignReport | null> {
  const campaign = await db.manager.findOne(Campaign, { where: { code } });
  if (!campaign) return null;
  const enrollments = await db.manager.find(CampaignEnrollment, { where: { campaignCode: code } });
  const rewards = await db.manager
    .getRepository(RewardOutbox)
    .createQueryBuilder('r')
    .select(['r.externalUserid', 'r.status'])
    .where('r.campaign_code = :code AND r.idempotency_key LIKE :prefix', { code, prefix: 'campaign:%' })
    .getMany();
  const rewardOf = new Map(rewards.map((r) => [r.externalUserid, r.status]));
  const rows: Enrolled[] = enrollments.map((e) => ({
    externalUserid: e.externalUserid,
    customerId: e.customerId,
    userid: e.userid,
    branch: e.branchCode,
    channel: e.channel,
    eligible: Boolean(e.eligible),
    reason: e.reason,
    addedAt: Number(e.addedAt),
    deletedAt: e.deletedAt == null ? null : Number(e.deletedAt),
    deletedBy: e.deletedBy ?? null,
    reward: rewardOf.get(e.externalUserid) ?? null,
  }));

  const flagMs = campaign.churnFlagDays * DAY;
  const isFlagged = (r: Enrolled) =>
    r.eligible && r.deletedBy === 'customer' && r.deletedAt !== null && r.deletedAt - r.addedAt <= flagMs;

  const add = (m: CampaignReportMetrics, r: Enrolled) => {
    m.adds++;
    if (isFlagged(r)) m.flagged++;
    if (!r.eligible) return;
    m.eligible++;
    if (r.reward === 'sent') m.rewardsSent++;
    else if (r.reward === 'dead') m.rewardsFailed++;
    else if (r.reward === 'pending') m.rewardsPending++;
    for (const n of [7, 30] as const) {
      if (r.addedAt + n * DAY > asOf) continue;
      const kept = r.deletedAt === null || r.deletedAt >= r.addedAt + n * DAY;
      if (n === 7) {
        m.cohort7++;
        if (kept) m.retained7++;
      } else {
        m.cohort30++;
        if (kept) m.retained30++;
      }
    }
  };
  const finish = (m: CampaignReportMetrics) => {
    m.retention7 = m.cohort7 ? m.retained7 / m.cohort7 : null;
    m.retention30 = m.cohort30 ? m.retained30 / m.cohort30 : null;
    return m;
  };
  const group = (keyOf: (r: Enrolled) => string): CampaignReportRow[] => {
    const by = new Map<string, CampaignReportMetrics>();
    for (const r of rows) {
      const k = keyOf(r);
      const m = by.get(k) ?? emptyMetrics();
      by.set(k, m);
      add(m, r);
    }
    return [...by.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, m]) => ({ key, ...finish(m) }));
  };

  const total = emptyMetrics();
  const counts: Record<string, number> = {};
  for (const r of rows) {
    add(total, r);
    if (!r.eligible) counts[r.reason] = (counts[r.reason] ?? 0) + 1;
  }
  const ineligible = Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
  const flaggedCustomers = rows
    .filter(isFlagged)
    .map((r) => ({
      externalUserid: r.externalUserid,
      customerId: r.customerId,
      userid: r.userid,
      branch: r.branch,
      addedAt: r.addedAt,
      deletedAt: r.deletedAt as number,
      afterDays: Math.floor(((r.deletedAt as number) - r.addedAt) / DAY),
    }))
    .sort((a, b) => a.addedAt - b.addedAt || (a.externalUserid < b.externalUserid ? -1 : 1));

  return {
    campaign: {
      code: campaign.code,
      name: campaign.name,
      startsAt: Number(campaign.startsAt),
      endsAt: Number(campaign.endsAt),
      churnFlagDays: campaign.churnFlagDays,
    },
    asOf,
    total: finish(total),
    byDay: group((r) => chinaDay(r.addedAt)),
    byBranch: group((r) => r.branch ?? '(none)'),
    byChannel: group((r) => r.channel),
    ineligible,
    flaggedCustomers,
    definitions: CAMPAIGN_REPORT_DEFINITIONS,
  };
}
