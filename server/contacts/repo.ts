import { DataSource, EntityManager, In, IsNull, MoreThanOrEqual } from 'typeorm';
import {
  ContactTag,
  CorpTag,
  ExternalContact,
  Follow,
  type FollowDeletedBy,
  Manager,
  ScriptTemplate,
  Transfer,
  type TransferStatus,
  WelcomeMessage,
} from '../db/entities';
import type { ExternalContactDetail } from '../wecom/api-types';

/**
 * Queries of the contacts folder: external contacts, follows, contact and corp tags, transfers,
 * welcome messages and the managers mirrored from the address book. Every write a handler makes
 * is an upsert or a guarded update, so handlers can rerun.
 */

type Db = DataSource | EntityManager;
const mgr = (db: Db): EntityManager => ('manager' in db ? db.manager : db);

export async function findContact(db: Db, externalUserid: string): Promise<ExternalContact | null> {
  return mgr(db).findOne(ExternalContact, { where: { externalUserid } });
}

/**
 * Inserts or refreshes the contact from externalcontact/get. The customer link is only set, never
 * cleared: once matched (or linked by an operator) a refresh must not unlink it.
 */
export async function upsertContact(
  db: Db,
  detail: ExternalContactDetail['external_contact'],
  link: { customerId: string | null; matchedBy: string | null },
  now: number,
): Promise<ExternalContact> {
  const m = mgr(db);
  const existing = await findContact(m, detail.external_userid);
  const fields = {
    unionid: detail.unionid ?? existing?.unionid ?? null,
    name: (detail.name ?? '').slice(0, 64),
    type: detail.type ?? 1,
    gender: detail.gender ?? 0,
    avatar: detail.avatar ? detail.avatar.slice(0, 512) : null,
    updatedAt: now,
  };
  if (existing) {
    const customerId = existing.customerId ?? link.customerId;
    const matchedBy = existing.customerId ? existing.matchedBy : link.matchedBy;
    await m.update(ExternalContact, { externalUserid: existing.externalUserid }, { ...fields, customerId, matchedBy });
    return { ...existing, ...fields, customerId, matchedBy };
  }
  const row: ExternalContact = {
    externalUserid: detail.external_userid,
    customerId: link.customerId,
    matchedBy: link.customerId ? link.matchedBy : null,
    createdAt: now,
    ...fields,
  };
  await m.createQueryBuilder().insert().into(ExternalContact).values(row).orIgnore().updateEntity(false).execute();
  return row;
}

export async function findFollow(db: Db, externalUserid: string, userid: string): Promise<Follow | null> {
  return mgr(db).findOne(Follow, { where: { externalUserid, userid } });
}

/**
 * Records that `userid` follows the contact now. Re-adding after a deletion revives the row (new
 * added_at, deletion cleared). Returns whether the follow was not active before (a new load).
 */
export async function upsertFollow(
  db: Db,
  f: {
    externalUserid: string;
    userid: string;
    state: string | null;
    addedAt: number;
    half: boolean;
    remark?: string | null;
  },
): Promise<boolean> {
  const m = mgr(db);
  const existing = await findFollow(m, f.externalUserid, f.userid);
  if (!existing) {
    await m
      .createQueryBuilder()
      .insert()
      .into(Follow)
      .values({
        externalUserid: f.externalUserid,
        userid: f.userid,
        state: f.state,
        remark: f.remark ?? null,
        addedAt: f.addedAt,
        deletedAt: null,
        deletedBy: null,
        half: f.half,
      })
      .orIgnore()
      .updateEntity(false)
      .execute();
    return true;
  }
  const revived = existing.deletedAt !== null;
  // A full add after a half add upgrades the row; a redelivered half add must not downgrade it.
  const half = existing.deletedAt === null ? existing.half && f.half : f.half;
  await m.update(
    Follow,
    { id: existing.id },
    {
      state: f.state ?? existing.state,
      addedAt: revived ? f.addedAt : existing.addedAt,
      deletedAt: null,
      deletedBy: null,
      half,
      ...(f.remark !== undefined ? { remark: f.remark } : {}),
    },
  );
  return revived;
}

/** Marks the follow deleted; returns whether it was active (so a load is released once). */
export async function deleteFollow(
  db: Db,
  externalUserid: string,
  userid: string,
  deletedBy: FollowDeletedBy,
  at: number,
): Promise<{ wasActive: boolean; existed: boolean }> {
  const m = mgr(db);
  const existing = await findFollow(m, externalUserid, userid);
  if (!existing) {
    // Deletion of a follow we never saw (history before the integration): keep the fact anyway.
    await m
      .createQueryBuilder()
      .insert()
      .into(Follow)
      .values({ externalUserid, userid, state: null, remark: null, addedAt: at, deletedAt: at, deletedBy, half: false })
      .orIgnore()
      .updateEntity(false)
      .execute();
    return { wasActive: false, existed: false };
  }
  if (existing.deletedAt !== null) {
    if (existing.deletedBy !== deletedBy && deletedBy === 'transfer') {
      await m.update(Follow, { id: existing.id }, { deletedBy });
    }
    return { wasActive: false, existed: true };
  }
  await m.update(Follow, { id: existing.id }, { deletedAt: at, deletedBy });
  return { wasActive: true, existed: true };
}

export async function activeFollowsOf(db: Db, userid: string): Promise<Follow[]> {
  return mgr(db).find(Follow, { where: { userid, deletedAt: IsNull() }, order: { id: 'ASC' } });
}

export async function activeFollowersOf(db: Db, externalUserid: string): Promise<Follow[]> {
  return mgr(db).find(Follow, { where: { externalUserid, deletedAt: IsNull() } });
}

/** Makes the stored corp tags of one follow equal to `tagIds`. */
export async function setContactTags(
  db: Db,
  externalUserid: string,
  userid: string,
  tagIds: string[],
  now: number,
): Promise<void> {
  const m = mgr(db);
  const current = await m.find(ContactTag, { where: { externalUserid, userid } });
  const want = new Set(tagIds);
  const stale = current.filter((t) => !want.has(t.tagId)).map((t) => t.tagId);
  if (stale.length) await m.delete(ContactTag, { externalUserid, userid, tagId: In(stale) });
  await addContactTags(m, externalUserid, userid, tagIds, now);
}

export async function addContactTags(
  db: Db,
  externalUserid: string,
  userid: string,
  tagIds: string[],
  now: number,
): Promise<void> {
  if (tagIds.length === 0) return;
  await mgr(db)
    .createQueryBuilder()
    .insert()
    .into(ContactTag)
    .values(tagIds.map((tagId) => ({ externalUserid, userid, tagId, createdAt: now })))
    .orIgnore()
    .updateEntity(false)
    .execute();
}

export interface UnmatchedContact {
  externalUserid: string;
  type: number;
  createdAt: number;
  updatedAt: number;
  /** Managers who currently follow the contact. */
  followers: string[];
}

/**
 * Contacts no bank customer could be matched to, newest first, for operators to link by hand.
 * Names are left out on purpose: the list ends up in terminals and reports.
 */
export async function listUnmatchedContacts(
  db: Db,
  opts: { limit?: number; offset?: number } = {},
): Promise<UnmatchedContact[]> {
  const m = mgr(db);
  const rows = await m.find(ExternalContact, {
    where: { customerId: IsNull() },
    order: { createdAt: 'DESC', externalUserid: 'ASC' },
    take: opts.limit ?? 100,
    skip: opts.offset ?? 0,
  });
  if (rows.length === 0) return [];
  const follows = await m.find(Follow, {
    where: { externalUserid: In(rows.map((r) => r.externalUserid)), deletedAt: IsNull() },
  });
  const by = new Map<string, string[]>();
  for (const f of follows) by.set(f.externalUserid, [...(by.get(f.externalUserid) ?? []), f.userid]);
  return rows.map((r) => ({
    externalUserid: r.externalUserid,
    type: r.type,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    followers: (by.get(r.externalUserid) ?? []).sort(),
  }));
}

/** An operator links a contact to a customer after checking by hand. */
export async function linkContact(db: Db, externalUserid: string, customerId: string, now: number): Promise<boolean> {
  const res = await mgr(db).update(
    ExternalContact,
    { externalUserid },
    { customerId, matchedBy: 'manual', updatedAt: now },
  );
  return (res.affected ?? 0) > 0;
}

/** The customer's newest open transfer to `takeover` (the member a transfer_fail event names). */
export async function openTransferTo(db: Db, externalUserid: string, takeover: string): Promise<Transfer | null> {
  return mgr(db).findOne(Transfer, {
    where: { externalUserid, takeoverUserid: takeover, status: In(['waiting', 'requested', 'queued']) },
    order: { requestedAt: 'DESC', id: 'DESC' },
  });
}

/** The customer's newest waiting on-job transfer away from `handover` (completed by DELETE_BY_TRANSFER). */
export async function openOnjobTransferFrom(
  db: Db,
  externalUserid: string,
  handover: string,
): Promise<Transfer | null> {
  return mgr(db).findOne(Transfer, {
    where: { externalUserid, handoverUserid: handover, kind: 'onjob', status: In(['waiting', 'requested']) },
    order: { requestedAt: 'DESC' },
  });
}

export async function updateTransfer(
  db: Db,
  id: number,
  patch: Partial<Pick<Transfer, 'status' | 'reason' | 'errcode' | 'takeoverTime' | 'updatedAt'>>,
): Promise<void> {
  await mgr(db).update(Transfer, { id }, patch);
}

/** Sets a follow's remark (the manager's note on the customer). */
export async function setFollowRemark(db: Db, externalUserid: string, userid: string, remark: string | null) {
  await mgr(db).update(Follow, { externalUserid, userid }, { remark: remark?.slice(0, 128) ?? null });
}

/** The contact rows of these external userids. */
export async function contactsByIds(db: Db, externalUserids: string[]): Promise<ExternalContact[]> {
  return externalUserids.length
    ? mgr(db).find(ExternalContact, { where: { externalUserid: In(externalUserids) } })
    : [];
}

/** The newest other contact with this unionid that is matched to a customer (the same WeChat user). */
export async function matchedSiblingByUnionid(
  db: Db,
  unionid: string,
  externalUserid: string,
): Promise<ExternalContact | null> {
  return mgr(db)
    .createQueryBuilder(ExternalContact, 'c')
    .where('c.unionid = :u AND c.customer_id IS NOT NULL AND c.external_userid <> :e', {
      u: unionid,
      e: externalUserid,
    })
    .orderBy('c.updated_at', 'DESC')
    .getOne();
}

// ---- corp tags (the local mirror of the tag library) ----

/** Inserts the tags or refreshes the stored ones. */
export async function upsertCorpTags(db: Db, rows: CorpTag[]): Promise<void> {
  const m = mgr(db);
  for (const row of rows) {
    const existing = await m.findOne(CorpTag, { where: { id: row.id } });
    if (existing) await m.update(CorpTag, { id: row.id }, row);
    else await m.createQueryBuilder().insert().into(CorpTag).values(row).orIgnore().updateEntity(false).execute();
  }
}

/** Marks every live tag not in `seen` deleted; returns how many. */
export async function markUnseenTagsDeleted(db: Db, seen: Set<string>, now: number): Promise<number> {
  const m = mgr(db);
  const stale = (await m.find(CorpTag, { where: { deleted: false } })).filter((t) => !seen.has(t.id));
  if (stale.length) await m.update(CorpTag, { id: In(stale.map((t) => t.id)) }, { deleted: true, updatedAt: now });
  return stale.length;
}

/** The live tags of these groups. */
export async function liveTagsInGroups(db: Db, groups: string[]): Promise<CorpTag[]> {
  return mgr(db).find(CorpTag, { where: { groupName: In([...new Set(groups)]), deleted: false } });
}

/** The WeCom id of a tag group, by name (deleted tags too: the group may outlive them). */
export async function tagGroupId(db: Db, groupName: string): Promise<string | undefined> {
  return (await mgr(db).findOne(CorpTag, { where: { groupName } }))?.groupId;
}

/** Which of `tagIds` are already recorded for this follow. */
export async function contactTagIdsAmong(
  db: Db,
  externalUserid: string,
  userid: string,
  tagIds: string[],
): Promise<Set<string>> {
  const have = await mgr(db).find(ContactTag, { where: { externalUserid, userid, tagId: In(tagIds) } });
  return new Set(have.map((t) => t.tagId));
}

// ---- transfers ----

/** Transfers of this customer with `statuses` requested at or after `since`, of one kind. */
export async function countTransfersSince(
  db: Db,
  q: { externalUserid: string; kind: Transfer['kind']; statuses: TransferStatus[]; since: number },
): Promise<number> {
  return mgr(db).count(Transfer, {
    where: {
      externalUserid: q.externalUserid,
      kind: q.kind,
      status: In(q.statuses),
      requestedAt: MoreThanOrEqual(q.since),
    },
  });
}

/** Every transfer of this customer between these two managers. */
export async function transfersOfPair(
  db: Db,
  externalUserid: string,
  handover: string,
  takeover: string,
): Promise<Transfer[]> {
  return mgr(db).find(Transfer, {
    where: { externalUserid, handoverUserid: handover, takeoverUserid: takeover },
  });
}

/** Stores a transfer; returns its id. */
export async function insertTransfer(db: Db, row: Omit<Transfer, 'id'>): Promise<number | undefined> {
  const res = await mgr(db).insert(Transfer, row);
  return res.identifiers[0]?.id as number | undefined;
}

export async function countTransfersInStatus(db: Db, statuses: TransferStatus[]): Promise<number> {
  return mgr(db).count(Transfer, { where: { status: In(statuses) } });
}

/** Transfers in these statuses, oldest first. */
export async function transfersInStatus(db: Db, statuses: TransferStatus[]): Promise<Transfer[]> {
  return mgr(db).find(Transfer, { where: { status: In(statuses) }, order: { id: 'ASC' } });
}

// ---- welcome messages ----

/** Approved welcome scripts (the columns the picker needs). */
export async function approvedWelcomeTemplateRows(db: Db): Promise<ScriptTemplate[]> {
  return mgr(db)
    .createQueryBuilder(ScriptTemplate, 't')
    .select(['t.id', 't.content', 't.product', 't.segments', 't.ownerUserid', 't.updatedAt', 't.expiresAt'])
    .where("t.status = 'approved' AND t.channel = 'welcome'")
    .getMany();
}

/** Claims a welcome code (by its hash): throws a unique violation when it was claimed before. */
export async function insertWelcomeClaim(db: Db, row: WelcomeMessage): Promise<void> {
  await mgr(db).insert(WelcomeMessage, row);
}

export async function setWelcomeOutcome(
  db: Db,
  codeHash: string,
  patch: Partial<Pick<WelcomeMessage, 'status' | 'errcode' | 'templateId' | 'sentAt'>>,
): Promise<void> {
  await mgr(db).update(WelcomeMessage, { codeHash }, patch);
}

// ---- managers, as the address book (change_contact) tells ----

/** A member WeCom created: a manager without branch and with capacity 0 until the bank's import. */
export async function insertNewMember(
  db: Db,
  m: { userid: string; name: string; status: Manager['status']; now: number },
): Promise<void> {
  await mgr(db)
    .createQueryBuilder()
    .insert()
    .into(Manager)
    .values({
      userid: m.userid,
      name: m.name.slice(0, 64),
      branchCode: null,
      role: 'manager',
      capacity: 0,
      status: m.status,
      accepting: true,
      skills: '',
      updatedAt: m.now,
    })
    .orIgnore()
    .updateEntity(false)
    .execute();
}

export async function updateManager(db: Db, userid: string, patch: Partial<Manager>): Promise<void> {
  await mgr(db).update(Manager, { userid }, patch);
}

/** A userid changed (allowed once in WeCom): carry the manager row and their follows over, once. */
export async function renameManager(db: DataSource, from: string, to: string): Promise<void> {
  await db.transaction(async (tx) => {
    if (await tx.findOne(Manager, { where: { userid: to } })) return;
    await tx.update(Manager, { userid: from }, { userid: to });
    await tx.update(Follow, { userid: from }, { userid: to });
  });
}
