import type { DataSource } from 'typeorm';
import { audit } from '../audit/audit';
import { Manager, type QuitScene } from '../db/entities';
import type { GroupChatDetail, WecomApi } from '../wecom/api-types';
import { wecomErrorInfo } from '../wecom/errors';
import * as repo from './repo';

/**
 * Customer-group sync (PROTOCOL-SOP.md §1): groupchat/list per ≤ 100 owners, groupchat/get per
 * group, written as a snapshot (new spells for members not open here, closed spells for members
 * WeCom no longer lists). Used nightly, by `ops groups sync`, and to repair a member-version gap.
 */

/** groupchat/list takes at most 100 owners per call (and answers 81017 without an owner filter). */
export const OWNERS_PER_CALL = 100;

export interface RereadOptions {
  now: number;
  /** When quits found by this read happened (an event's time), default now. */
  quitAt?: number;
  quitScenes?: Map<string, QuitScene>;
  ownerStatus?: number;
}

export type RereadOutcome = { kind: 'written'; plan: repo.SnapshotPlan } | { kind: 'gone' };

/**
 * Reads the group from WeCom and writes it. A group WeCom no longer knows (40050 and other data
 * errors) is marked dismissed; busy/network errors propagate so the caller (worker, job) retries.
 */
export async function rereadGroup(
  db: DataSource,
  wecom: WecomApi,
  chatId: string,
  o: RereadOptions,
): Promise<RereadOutcome> {
  let detail: GroupChatDetail;
  try {
    detail = await wecom.getGroupChat(chatId);
  } catch (err) {
    if (wecomErrorInfo(err).kind !== 'data') throw err;
    await repo.markDismissed(db, chatId, o.quitAt ?? o.now, o.now);
    return { kind: 'gone' };
  }
  const plan = await db.transaction(async (tx) => {
    const existing = await repo.lockGroup(tx, chatId);
    const p = await repo.planSnapshot(tx, detail, existing);
    await repo.writeSnapshot(tx, detail, p, {
      now: o.now,
      quitAt: o.quitAt ?? o.now,
      quitScenes: o.quitScenes,
      ownerStatus: o.ownerStatus,
    });
    return p;
  });
  return { kind: 'written', plan };
}

export interface SyncOptions {
  now: number;
  apply: boolean;
  actor: string;
  /** Only these owners (default: every manager). */
  owners?: string[];
  signal?: AbortSignal;
  onProgress?: (done: number) => void;
}

export interface SyncSummary {
  owners: number;
  groups: number;
  newGroups: number;
  changedGroups: number;
  joins: number;
  quits: number;
  dismissed: number;
  failed: number;
  /** Per group (dry run and apply alike), for the CLI's table; chat ids only, never names of people. */
  changes: { chatId: string; owner: string; branchCode: string | null; isNew: boolean; joins: number; quits: number }[];
}

async function ownersToScan(db: DataSource, given?: string[]): Promise<string[]> {
  if (given?.length) return [...new Set(given)].sort();
  const rows = await db.getRepository(Manager).find({ select: { userid: true }, order: { userid: 'ASC' } });
  return rows.map((r) => r.userid);
}

/** The whole registry against WeCom. Dry run (apply=false) reads WeCom and the DB and writes nothing. */
export async function syncGroups(db: DataSource, wecom: WecomApi, o: SyncOptions): Promise<SyncSummary> {
  const owners = await ownersToScan(db, o.owners);
  const s: SyncSummary = {
    owners: owners.length,
    groups: 0,
    newGroups: 0,
    changedGroups: 0,
    joins: 0,
    quits: 0,
    dismissed: 0,
    failed: 0,
    changes: [],
  };
  for (let i = 0; i < owners.length; i += OWNERS_PER_CALL) {
    if (o.signal?.aborted) break;
    const batch = owners.slice(i, i + OWNERS_PER_CALL);
    const listed = new Map<string, number>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await wecom.listGroupChats({ ownerUserids: batch, cursor, limit: 1000 });
      for (const g of page.group_chat_list) listed.set(g.chat_id, g.status);
      const next = page.next_cursor;
      cursor = next && next !== cursor && ++pages < 1000 ? next : undefined;
    } while (cursor);

    for (const [chatId, ownerStatus] of listed) {
      if (o.signal?.aborted) break;
      s.groups++;
      try {
        let plan: repo.SnapshotPlan;
        let owner: string;
        if (o.apply) {
          const detail = await wecom.getGroupChat(chatId);
          owner = detail.owner;
          plan = await db.transaction(async (tx) => {
            const existing = await repo.lockGroup(tx, chatId);
            const p = await repo.planSnapshot(tx, detail, existing);
            await repo.writeSnapshot(tx, detail, p, { now: o.now, quitAt: o.now, ownerStatus });
            return p;
          });
        } else {
          const detail = await wecom.getGroupChat(chatId);
          owner = detail.owner;
          plan = await repo.planSnapshot(db, detail);
        }
        if (plan.isNew) s.newGroups++;
        if (plan.isNew || plan.joins.length || plan.quits.length) {
          if (!plan.isNew) s.changedGroups++;
          s.joins += plan.joins.length;
          s.quits += plan.quits.length;
          s.changes.push({
            chatId,
            owner,
            branchCode: plan.branchCode,
            isNew: plan.isNew,
            joins: plan.joins.length,
            quits: plan.quits.length,
          });
        }
      } catch (err) {
        const info = wecomErrorInfo(err);
        if (info.kind === 'retryable') throw err;
        // A group that vanished between list and get: the next run (or its dismiss event) settles it.
        s.failed++;
      }
    }
    // Groups we hold for these owners that WeCom no longer lists were dismissed (or moved away).
    for (const chatId of await repo.liveGroupIdsOf(db, batch)) {
      if (listed.has(chatId)) continue;
      s.dismissed++;
      if (o.apply) await repo.markDismissed(db, chatId, o.now, o.now);
    }
    o.onProgress?.(Math.min(owners.length, i + OWNERS_PER_CALL));
  }
  if (o.apply && (s.newGroups || s.changedGroups || s.dismissed)) {
    const { changes: _c, ...counts } = s;
    await audit(db, { actor: o.actor, action: 'groups.sync', subject: 'groups', detail: counts });
  }
  return s;
}

/** China days as `YYYY-MM-DD` and their 00:00 in Unix seconds. */
const CST_OFFSET_S = 8 * 3600;
const DAY_S = 86400;
export function cstDay(unixSeconds: number): string {
  return new Date((unixSeconds + CST_OFFSET_S) * 1000).toISOString().slice(0, 10);
}
export function cstMidnight(ms: number): number {
  const s = Math.floor(ms / 1000);
  return Math.floor((s + CST_OFFSET_S) / DAY_S) * DAY_S - CST_OFFSET_S;
}

export interface StatsOptions {
  now: number;
  /** How many days back from yesterday (1 = yesterday only; WeCom keeps 180, one call spans ≤ 30). */
  days: number;
  owners?: string[];
  signal?: AbortSignal;
}

/**
 * groupchat/statistic_group_by_day per owner (one series per owner: the endpoint sums across the
 * owners it is given), for the last `days` China days before today; stored as history.
 */
export async function fetchGroupStats(
  db: DataSource,
  wecom: WecomApi,
  o: StatsOptions,
): Promise<{ owners: number; rows: number; failed: number }> {
  const owners = o.owners?.length ? o.owners : await repo.groupOwners(db);
  const today = cstMidnight(o.now);
  const days = Math.min(Math.max(1, o.days), 180);
  let rows = 0;
  let failed = 0;
  for (const owner of owners) {
    if (o.signal?.aborted) break;
    for (let end = today - DAY_S, left = days; left > 0; ) {
      const span = Math.min(30, left);
      const begin = end - (span - 1) * DAY_S;
      try {
        const items = await wecom.groupStatisticByDay({ dayBeginTime: begin, dayEndTime: end, ownerUserids: [owner] });
        for (const it of items) {
          await repo.saveGroupStat(db, {
            ownerUserid: owner,
            day: cstDay(it.stat_time),
            statTime: it.stat_time * 1000,
            data: it.data,
            now: o.now,
          });
          rows++;
        }
      } catch (err) {
        if (wecomErrorInfo(err).kind === 'retryable') throw err;
        failed++;
      }
      left -= span;
      end = begin - DAY_S;
    }
  }
  return { owners: owners.length, rows, failed };
}
