import type { DataSource } from 'typeorm';
import { audit } from '../audit/audit';
import type { CorpTag } from '../db/entities';
import type { CorpTagGroup, WecomApi } from '../wecom/api-types';
import { wecomErrorInfo } from '../wecom/errors';
import {
  addContactTags,
  contactTagIdsAmong,
  liveTagsInGroups,
  markUnseenTagsDeleted,
  tagGroupId,
  upsertCorpTags,
} from './repo';

/**
 * Corp tags (企业标签): the local mirror of the tag library, and marking a contact with its segment
 * tag. Segments live in ONE group (SEGMENT_TAG_GROUP, default 客户分层) under the tag names of
 * SEGMENT_TAG_NAMES (代发→代发客户 …), the same group the bank's console shows, so no second
 * 客群/高潜 group appears. Campaign and channel codes are NOT tags: a manager would see 活动/h5demo
 * on the customer; attribution stays in allocations.campaign and contact_ways.
 */

/** The segment tag for a bank segment (created in WeCom when missing). */
export function segmentTag(config: { group: string; names: Record<string, string> }, segment: string): WantedTag {
  return { group: config.group, name: config.names[segment] ?? segment };
}
/** WeCom's limit for a tag name (PROTOCOL.md §5, uncertain; 30 is the documented figure). */
const MAX_TAG_NAME = 30;
const ERR_TAG_NAME_EXISTS = 40071;

export interface WantedTag {
  group: string;
  name: string;
}

function rowsOf(group: CorpTagGroup, now: number): CorpTag[] {
  return group.tag.map((t) => ({
    id: t.id,
    groupId: group.group_id,
    groupName: group.group_name.slice(0, 64),
    name: t.name.slice(0, 64),
    sortOrder: t.order ?? 0,
    groupOrder: group.order ?? 0,
    deleted: Boolean(t.deleted || group.deleted),
    updatedAt: now,
  }));
}

/** Mirrors get_corp_tag_list into `tags`; tags WeCom no longer lists are marked deleted. */
export async function resyncTagLibrary(
  db: DataSource,
  wecom: WecomApi,
  now: number,
): Promise<{ tags: number; deleted: number }> {
  const groups = await wecom.getCorpTagList();
  const rows = groups.flatMap((g) => rowsOf(g, now));
  await upsertCorpTags(db, rows);
  const deleted = await markUnseenTagsDeleted(db, new Set(rows.map((r) => r.id)), now);
  return { tags: rows.length, deleted };
}

async function lookup(db: DataSource, wanted: WantedTag[]): Promise<Map<string, CorpTag>> {
  const live = await liveTagsInGroups(
    db,
    wanted.map((w) => w.group),
  );
  return new Map(live.map((t) => [`${t.groupName}\u0000${t.name}`, t]));
}

const keyOf = (w: WantedTag) => `${w.group}\u0000${w.name}`;

/** Tag ids for group/name pairs, creating the missing ones in WeCom (resync first: another app may have). */
export async function ensureTagIds(
  db: DataSource,
  wecom: WecomApi,
  wanted: WantedTag[],
  now: number,
): Promise<string[]> {
  const clean = wanted
    .map((w) => ({ group: w.group, name: w.name.trim().slice(0, MAX_TAG_NAME) }))
    .filter((w) => w.name.length > 0);
  if (clean.length === 0) return [];
  let known = await lookup(db, clean);
  if (clean.some((w) => !known.has(keyOf(w)))) {
    await resyncTagLibrary(db, wecom, now);
    known = await lookup(db, clean);
  }
  for (const w of clean) {
    if (known.has(keyOf(w))) continue;
    const groupId =
      [...known.values()].find((t) => t.groupName === w.group)?.groupId ?? (await tagGroupId(db, w.group));
    try {
      const group = await wecom.addCorpTag(
        groupId ? { group_id: groupId, tag: [{ name: w.name }] } : { group_name: w.group, tag: [{ name: w.name }] },
      );
      await upsertCorpTags(db, rowsOf(group, now));
      await audit(db, { actor: 'system:tags', action: 'tag.create', subject: `taggroup:${group.group_id}`, detail: w });
    } catch (err) {
      // Created meanwhile by a concurrent event or the console: read the library again.
      if (wecomErrorInfo(err).errcode !== ERR_TAG_NAME_EXISTS) throw err;
      await resyncTagLibrary(db, wecom, now);
    }
    known = await lookup(db, clean);
  }
  return clean.map((w) => known.get(keyOf(w))?.id).filter((id): id is string => Boolean(id));
}

/**
 * Marks the contact with these tags for this manager (mark_tag), skipping tags already recorded
 * for the pair so a rerun makes no call. Returns the tag ids newly marked.
 */
export async function applyContactTags(
  db: DataSource,
  wecom: WecomApi,
  target: { userid: string; externalUserid: string },
  wanted: WantedTag[],
  now: number,
): Promise<string[]> {
  const ids = await ensureTagIds(db, wecom, wanted, now);
  if (ids.length === 0) return [];
  const haveIds = await contactTagIdsAmong(db, target.externalUserid, target.userid, ids);
  const add = ids.filter((id) => !haveIds.has(id));
  if (add.length === 0) return [];
  await wecom.markTag({ userid: target.userid, external_userid: target.externalUserid, add_tag: add });
  await addContactTags(db, target.externalUserid, target.userid, add, now);
  await audit(db, {
    actor: 'system:tags',
    action: 'contact.tag',
    subject: `contact:${target.externalUserid}`,
    detail: { userid: target.userid, add },
  });
  return add;
}
