import { DEFAULT_SOP_CONFIG, type SopConfig } from '../config';
import type { ScriptTemplate, SopTaskKind } from '../db/entities';
import { escapeHtml, truncateBytes } from '../lib/html';
import type { TemplateAttachment } from '../playbook/types';
import { textcard } from '../wecom/app-message';
import { HTTP_ERRCODE, NETWORK_ERRCODE, wecomErrorInfo } from '../wecom/errors';
import type { SopDeps } from './delivery';
import * as repo from './repo';
import { chinaDate } from './schedule';

/** What mass-send (delivery.ts) and moment (moments.ts) dispatch share. */

export const DAY_MS = 86_400_000;
/** Attempts at creating a task (or moment job) in WeCom before it fails. */
export const MAX_CREATE_ATTEMPTS = 5;
/** A task nobody sent (or published) within this long is closed (its targets released from the cap). */
export const TASK_EXPIRY_MS = 7 * DAY_MS;

/** The SOP limits in force (SopDeps.config, else the defaults). */
export const sopConfig = (d: SopDeps): SopConfig => d.config ?? DEFAULT_SOP_CONFIG;

/** How long a claimed task or moment job is held (SopDeps.claimMs overrides: `ops sop run --lease-seconds`). */
const TASK_CLAIM_MS = 120_000;
export const claimUntil = (d: SopDeps, now: number) => now + (d.claimMs ?? TASK_CLAIM_MS);

export function attachmentsFor(kind: SopTaskKind, list: TemplateAttachment[]): unknown[] {
  const out: unknown[] = [];
  for (const a of list) {
    if (a.type === 'image' && a.mediaId) out.push({ msgtype: 'image', image: { media_id: a.mediaId } });
    else if (a.type === 'link' && kind !== 'moment')
      out.push({
        msgtype: 'link',
        link: {
          title: a.title,
          url: a.url,
          ...(a.desc ? { desc: a.desc } : {}),
          ...(a.imgUrl ? { picurl: a.imgUrl } : {}),
        },
      });
  }
  return out.slice(0, 9);
}

/** Why a task of a script that is not sendable fails. */
export const NOT_SENDABLE = 'the script is no longer approved (retired, expired or withdrawn)';

/** The occurrence's script may be sent now: approved and not expired. */
export function sendable(t: ScriptTemplate | null | undefined, now: number): t is ScriptTemplate {
  return t?.status === 'approved' && (t.expiresAt === null || t.expiresAt > now);
}

export const errText = (err: unknown) => {
  const e = wecomErrorInfo(err);
  return (e.errcode !== null ? `WeCom errcode ${e.errcode} (${e.kind})` : String((err as Error)?.message ?? err)).slice(
    0,
    255,
  );
};

/**
 * true when the failed create call surely made nothing in WeCom: WeCom answered with an errcode, or
 * our own limiter stopped it. A network error, an HTTP error or a timeout leaves it unknown: the
 * task may exist, so it is looked up before the next try.
 */
export function outcomeKnown(err: unknown): boolean {
  const { errcode } = wecomErrorInfo(err);
  return errcode !== null && errcode !== NETWORK_ERRCODE && errcode !== HTTP_ERRCODE;
}

const WHAT: Record<SopTaskKind, string> = {
  group: '请在企业微信「客户群群发」中确认发送到您的客户群',
  single: '请在企业微信「群发助手」中确认发送给您的客户',
  moment: '请在企业微信「客户朋友圈」中确认发表',
};

/** message/send takes at most 1,000 users per call. */
const TOUSER_MAX = 1000;

/**
 * One app reminder per sender and occurrence, saying what to send: the chunk-0 rows are marked
 * before sending (a crash loses the reminder rather than sending it twice), and WeCom's duplicate
 * check drops a card repeated within 30 minutes. Moment senders of one job share one card per
 * 1,000 senders.
 */
export async function notifySenders(
  d: SopDeps,
  o: { occurrenceId: number; kind: SopTaskKind; senders: string[]; planName: string; text: string },
) {
  const fresh = await repo.markNotified(d.db, o.occurrenceId, o.senders, d.now());
  await sendCards(d, fresh, `总行SOP：${o.planName}`, WHAT[o.kind], o.text, o.occurrenceId);
}

/**
 * Moments have no remind API (remind_groupmsg_send is for mass messages): a sender who has not
 * published is reminded with the same app card, marked 提醒.
 */
export async function remindMomentSenders(
  d: SopDeps,
  o: { occurrenceId: number; senders: string[]; planName: string; text: string },
) {
  await sendCards(d, o.senders, `总行SOP提醒：${o.planName}`, `您还没有发表。${WHAT.moment}`, o.text, o.occurrenceId);
}

async function sendCards(d: SopDeps, users: string[], title: string, what: string, text: string, occurrenceId: number) {
  if (!users.length) return;
  const description =
    `<div class="gray">${chinaDate(d.now())}</div><div class="normal">${what}</div>` +
    `<div class="highlight">${escapeHtml(truncateBytes(text, 300))}</div>`;
  for (let i = 0; i < users.length; i += TOUSER_MAX) {
    try {
      await d.wecom.sendMessage(
        textcard({
          touser: users.slice(i, i + TOUSER_MAX).join('|'),
          agentId: d.agentId,
          title,
          description,
          url: `${d.publicBaseUrl}/sidebar/`,
          btntxt: '知道了',
          duplicateCheckSeconds: 1800,
        }),
      );
    } catch (err) {
      d.log?.warn(
        { occurrence: occurrenceId, senders: Math.min(TOUSER_MAX, users.length - i), error: errText(err) },
        'sop sender reminder not sent',
      );
    }
  }
}

/** A lookup window may span at most ~a month (get_groupmsg_list_v2: 1 month, get_moment_list: 30 days). */
const LOOKUP_SPAN_MS = 29 * DAY_MS;

/**
 * The WeCom task (msgid or moment_id) a create call whose answer was lost may have made: listed
 * since the call started, corp-created, with our text, not recorded by any task or job of ours,
 * and `ours` (its task list names our sender). null when there is none.
 */
export async function findLost<T extends { create_type: number; text?: { content?: string } }>(
  d: SopDeps,
  o: {
    startedAt: number;
    text: string;
    page: (window: { start_time: number; end_time: number }, cursor?: string) => Promise<{ items: T[]; next?: string }>;
    id: (item: T) => string;
    known: (id: string) => Promise<boolean>;
    ours: (id: string) => Promise<boolean>;
  },
): Promise<string | null> {
  const now = d.now();
  if (now - o.startedAt > LOOKUP_SPAN_MS) return null;
  const window = { start_time: Math.floor(o.startedAt / 1000) - 60, end_time: Math.ceil(now / 1000) + 60 };
  let cursor: string | undefined;
  do {
    const page = await o.page(window, cursor);
    for (const item of page.items) {
      if (item.create_type !== 0 || item.text?.content !== o.text) continue;
      const id = o.id(item);
      if (!(await o.known(id)) && (await o.ours(id))) return id;
    }
    cursor = page.next;
  } while (cursor);
  return null;
}
