import type { DataSource } from 'typeorm';
import { audit } from '../audit/audit';
import { isUniqueViolation } from '../db/data-source';
import type { FollowNoteKind } from '../db/entities';
import { AppError } from '../errors';
import { addDays, chinaDay, daysBetween, isDay } from '../lib/china-day';
import { touchLabel } from './touch-label';
import { type TimelineRow, WorkbenchRepo } from './workbench-repo';

/** Ratings are reassessed yearly (资管新规 practice): an older one is shown as expired. */
export const RISK_RATING_VALID_DAYS = 365;
/** The card lists products maturing within this many days. */
export const CARD_MATURING_DAYS = 30;
const TIMELINE_ITEMS = 20;
export const NOTE_KINDS: readonly FollowNoteKind[] = ['visit', 'call', 'chat', 'other'];
const NOTE_KIND_ZH: Record<FollowNoteKind, string> = { visit: '拜访', call: '电话', chat: '微信沟通', other: '其他' };
const RISK_ZH: Record<string, string> = { C1: '保守型', C2: '稳健型', C3: '平衡型', C4: '成长型', C5: '进取型' };

export interface TimelineItem {
  kind: 'touch' | 'note';
  id: number;
  /** The script a touch used; null for notes and for touches without one (a stage set by hand). */
  templateId: number | null;
  userid: string;
  managerName: string;
  at: string;
  /** In Chinese: 发送话术 / 复制话术 / 调整触达阶段 / 拜访 / 电话 / 微信沟通 / 其他. */
  label: string;
  text: string;
  nextFollowUp: string | null;
}

export interface CardWorkbench {
  profile: {
    assetTier: string | null;
    riskRating: string | null;
    riskRatingZh: string | null;
    riskRatedOn: string | null;
    riskExpired: boolean;
    birthday: string | null;
    birthdayToday: boolean;
    preferredBranch: string | null;
  };
  maturing: { product: string; productType: string; amountBand: string; maturesOn: string; daysLeft: number }[];
  lastContactAt: string | null;
  nextFollowUp: string | null;
  timeline: TimelineItem[];
}

function timelineItem(r: TimelineRow): TimelineItem {
  const label =
    r.kind === 'note'
      ? (NOTE_KIND_ZH[r.sub as FollowNoteKind] ?? '其他')
      : touchLabel(r.sub, r.confirmed_at !== null && r.confirmed_at !== undefined);
  return {
    kind: r.kind,
    id: Number(r.id),
    templateId: r.template_id === null || r.template_id === undefined ? null : Number(r.template_id),
    userid: r.userid,
    // A manager gone from the table still shows as a role, never as a userid.
    managerName: r.manager_name ?? '已离开的客户经理',
    at: new Date(Number(r.at)).toISOString(),
    label,
    text: r.text ?? '',
    nextFollowUp: r.next_follow_up,
  };
}

/** The workbench side of the card and the follow-up notes (跟进记录). Access is checked by the caller. */
export class Workbench {
  readonly repo: WorkbenchRepo;

  constructor(
    private readonly db: DataSource,
    private readonly now: () => number,
  ) {
    this.repo = new WorkbenchRepo(db);
  }

  async cardPart(externalUserid: string, customerId: string): Promise<CardWorkbench> {
    const today = chinaDay(this.now());
    const [profile, maturing, timeline, latest] = await Promise.all([
      this.repo.profile(customerId),
      this.repo.maturing(customerId, today, addDays(today, CARD_MATURING_DAYS)),
      this.repo.timeline(externalUserid, TIMELINE_ITEMS),
      this.repo.latestNote(externalUserid),
    ]);
    const rated = profile?.risk_rated_on ?? null;
    const rating = profile?.risk_rating ?? null;
    return {
      profile: {
        assetTier: profile?.asset_tier ?? null,
        riskRating: rating,
        riskRatingZh: rating ? (RISK_ZH[rating] ?? null) : null,
        riskRatedOn: rated,
        riskExpired: rating !== null && (rated === null || daysBetween(rated, today) > RISK_RATING_VALID_DAYS),
        birthday: profile?.birthday_md ?? null,
        birthdayToday: profile?.birthday_md === today.slice(5),
        preferredBranch: profile?.preferred_branch_name ?? profile?.preferred_branch ?? null,
      },
      maturing: maturing.map((h) => ({
        product: h.product,
        productType: h.product_type,
        amountBand: h.amount_band,
        maturesOn: h.matures_on,
        daysLeft: daysBetween(today, h.matures_on),
      })),
      lastContactAt: timeline[0] ? new Date(Number(timeline[0].at)).toISOString() : null,
      nextFollowUp: latest?.next_follow_up ?? null,
      timeline: timeline.map(timelineItem),
    };
  }

  private async priorNote(actor: string, externalUserid: string, key: string): Promise<TimelineItem | null> {
    const row = await this.repo.noteByRequest(actor, key);
    if (!row) return null;
    if (row.external_userid !== externalUserid) {
      throw new AppError('request_id_reused', 409, 'this requestId was used for another customer');
    }
    return timelineItem(row);
  }

  async timeline(externalUserid: string): Promise<TimelineItem[]> {
    return (await this.repo.timeline(externalUserid, TIMELINE_ITEMS)).map(timelineItem);
  }

  async addNote(
    actor: string,
    externalUserid: string,
    body: { kind: FollowNoteKind; text: string; nextFollowUp?: string | null; requestId?: string },
  ): Promise<TimelineItem> {
    // A replayed request (same key) answers the note it wrote the first time.
    const key = body.requestId ?? null;
    const prior = key ? await this.priorNote(actor, externalUserid, key) : null;
    if (prior) return prior;
    const text = body.text.trim();
    if (!text) throw new AppError('empty_note', 400, 'the note is empty');
    const next = body.nextFollowUp || null;
    const today = chinaDay(this.now());
    if (next !== null) {
      if (!isDay(next)) throw new AppError('bad_date', 400, 'nextFollowUp is not a day as YYYY-MM-DD');
      if (next < today) throw new AppError('bad_date', 400, 'nextFollowUp is in the past');
      if (daysBetween(today, next) > 366) throw new AppError('bad_date', 400, 'nextFollowUp is more than a year away');
    }
    const createdAt = this.now();
    let id: number;
    try {
      id = await this.db.transaction(async (tx) => {
        const noteId = await this.repo.insertNote(tx, {
          externalUserid,
          userid: actor,
          kind: body.kind,
          text,
          nextFollowUp: next,
          createdAt,
          requestKey: key,
        });
        // The text may name people: the audit row keeps only what happened.
        await audit(tx, {
          actor,
          action: 'sidebar.note',
          subject: externalUserid,
          detail: { id: noteId, kind: body.kind, nextFollowUp: next },
        });
        return noteId;
      });
    } catch (err) {
      const raced = key && isUniqueViolation(err) ? await this.priorNote(actor, externalUserid, key) : null;
      if (raced) return raced;
      throw err;
    }
    const rows = await this.repo.timeline(externalUserid, TIMELINE_ITEMS);
    const mine = rows.find((r) => r.kind === 'note' && Number(r.id) === id);
    return mine
      ? timelineItem(mine)
      : {
          kind: 'note',
          id,
          templateId: null,
          userid: actor,
          managerName: '我',
          at: new Date(createdAt).toISOString(),
          label: NOTE_KIND_ZH[body.kind],
          text,
          nextFollowUp: next,
        };
  }
}
