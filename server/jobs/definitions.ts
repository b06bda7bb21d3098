import { randomUUID } from 'node:crypto';
import { expireOpenAllocations } from '../allocation/service';
import { audit } from '../audit/audit';
import { purgeInboxPayloads } from '../callback/inbox-repo';
import { deliverDueRewards } from '../campaigns/delivery';
import { rewardPoster } from '../campaigns/http';
import { resyncTagLibrary } from '../contacts/tags';
import { pollTransferResults, retryQueuedTransfers } from '../contacts/transfers';
import { fetchGroupStats, syncGroups } from '../groups/sync';
import { rewardStayedReferrals } from '../referrals/service';
import { runSopDelivery } from '../sop/delivery';
import { sopMetrics } from '../sop/metrics';
import { sendTodoReminders } from '../todo/reminder';
import { computeDailyMetrics } from './daily-metrics';
import type { JobDefinition } from './runner';

const MIN = 60_000;

/** The 今日待办 morning reminder; its time comes from TODO_REMINDER_CRON (Asia/Shanghai). */
export function todoReminderJob(schedule: string): JobDefinition {
  return {
    name: 'todo-reminder',
    schedule,
    periodMs: 24 * 60 * MIN,
    description: 'one 今日待办 app message (textcard) per manager with items, at most one per member per day',
    run: async (ctx) => ({
      ...(await sendTodoReminders({
        db: ctx.db,
        wecom: ctx.wecom,
        agentId: ctx.config.wecom.agentId,
        publicBaseUrl: ctx.config.publicBaseUrl,
        cadenceDays: ctx.config.todo.cadenceDays,
        now: ctx.now,
        log: ctx.log,
        signal: ctx.signal,
      })),
    }),
  };
}

/** The product's cron jobs with the configured schedules. */
export function productJobs(config: { todo: { reminderCron: string } }): JobDefinition[] {
  return [...JOBS, todoReminderJob(config.todo.reminderCron)];
}

/** The product's cron jobs. Each calls a service; no SQL lives here. */
export const JOBS: JobDefinition[] = [
  {
    name: 'transfer-results',
    schedule: '*/10 * * * *',
    periodMs: 10 * MIN,
    description: 'poll transfer_result for requested/waiting transfers and record outcomes (audited)',
    run: async (ctx) => pollTransferResults(ctx.db, ctx.wecom, { actor: ctx.actor, now: ctx.now() }),
  },
  {
    name: 'transfer-retry',
    schedule: '3,33 * * * *',
    periodMs: 30 * MIN,
    description: 'resend transfers WeCom answered busy (stored as queued); the 90-day limit is checked again',
    run: async (ctx) => {
      const outcomes = await retryQueuedTransfers(ctx.db, ctx.wecom, ctx.actor, ctx.now());
      return { retried: outcomes.length };
    },
  },
  {
    name: 'corp-tag-sync',
    schedule: '7 * * * *',
    periodMs: 60 * MIN,
    description: 'mirror get_corp_tag_list into tags; tags gone upstream are marked deleted',
    run: async (ctx) => {
      const res = await resyncTagLibrary(ctx.db, ctx.wecom, ctx.now());
      if (res.deleted > 0) {
        await audit(ctx.db, { actor: ctx.actor, action: 'tags.sync', subject: 'tags', detail: res });
      }
      return res;
    },
  },
  {
    name: 'allocation-expiry',
    schedule: '*/15 * * * *',
    periodMs: 15 * MIN,
    description: 'open allocations past expires_at become expired (audited)',
    run: async (ctx) => ({ expired: await expireOpenAllocations(ctx.db, ctx.actor, ctx.now()) }),
  },
  {
    name: 'inbox-retention',
    schedule: '17 * * * *',
    periodMs: 60 * MIN,
    description:
      'clear decrypted payloads of processed inbox events, and of dead/malformed/unhandled ones older than INBOX_RETENTION_DAYS',
    run: async (ctx) => ({
      ...(await purgeInboxPayloads(ctx.db, { now: ctx.now(), retentionDays: ctx.config.inbox.retentionDays })),
    }),
  },
  {
    name: 'daily-metrics',
    schedule: '0 2 * * *',
    periodMs: 24 * 60 * MIN,
    description: "log yesterday's adds, churn and welcome outcomes (counts only)",
    run: async (ctx) => ({ ...(await computeDailyMetrics(ctx.db, ctx.now())) }),
  },
  {
    name: 'groups-sync',
    schedule: '20 1 * * *',
    periodMs: 24 * 60 * MIN,
    description: 'nightly groupchat/list + groupchat/get: customer groups, members joined and quit, dismissed groups',
    run: async (ctx) => {
      const { changes: _c, ...summary } = await syncGroups(ctx.db, ctx.wecom, {
        now: ctx.now(),
        apply: true,
        actor: ctx.actor,
        signal: ctx.signal,
      });
      return { ...summary };
    },
  },
  {
    name: 'group-stats',
    schedule: '40 2 * * *',
    periodMs: 24 * 60 * MIN,
    description: "yesterday's groupchat/statistic_group_by_day per group owner, kept as history",
    run: async (ctx) => fetchGroupStats(ctx.db, ctx.wecom, { now: ctx.now(), days: 1, signal: ctx.signal }),
  },
  {
    name: 'sop-delivery',
    schedule: '* * * * *',
    periodMs: MIN,
    description:
      'SOP plans: due occurrences (once per plan, version and tick), planning, WeCom tasks, sender reminders, completion polls, cancels',
    run: async (ctx) => {
      const m = sopMetrics(ctx.metrics.registry);
      const summary = await runSopDelivery({
        db: ctx.db,
        wecom: ctx.wecom,
        now: ctx.now,
        config: ctx.config.sop,
        agentId: ctx.config.wecom.agentId,
        publicBaseUrl: ctx.config.publicBaseUrl,
        holder: `${ctx.actor}:${randomUUID().slice(0, 8)}`,
        log: ctx.log,
        signal: ctx.signal,
        onProgress: (plan, p) => m.progress(plan, p),
      });
      m.summary(summary);
      return { ...summary };
    },
  },
  {
    name: 'referral-rewards',
    schedule: '25 * * * *',
    periodMs: 60 * MIN,
    description:
      'referrals whose customer stayed REFERRAL_STAY_DAYS without deleting: one reward request each to the outbox',
    run: async (ctx) => {
      const r = ctx.config.referrals ?? { stayDays: 30, rewardKind: 'voucher', rewardAmount: 20 };
      return rewardStayedReferrals(ctx.db, { now: ctx.now(), ...r });
    },
  },
  {
    name: 'reward-delivery',
    schedule: '* * * * *',
    periodMs: MIN,
    description: 'POST due campaign/referral rewards from the outbox, signed; retries with backoff, dead-letters',
    run: async (ctx) => {
      const r = ctx.config.rewards;
      if (!r.url) return { skipped: 'REWARD_WEBHOOK_URL is not set' };
      return deliverDueRewards(ctx.db, {
        url: r.url,
        secret: r.secret,
        maxAttempts: r.maxAttempts,
        // Per run: a claim left by a crashed run must never be settled by a later one.
        holder: `${ctx.actor}:${randomUUID().slice(0, 8)}`,
        now: ctx.now,
        post: rewardPoster(ctx.httpAdapter),
        signal: ctx.signal,
      });
    },
  },
];
