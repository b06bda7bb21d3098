import { DataSource, EntityManager, In, IsNull } from 'typeorm';
import { ContactTag, ExternalContact, Follow, type FollowDeletedBy, Transfer } from '../db/entities';
import type { ExternalContactDetail } from '../wecom/api-types';

/** Queries for external contacts, follows and contact tags. Every write is an upsert so handlers can rerun. */

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
  patch: Partial<Pick<Transfer, 'status' | 'reason' | 'takeoverTime' | 'updatedAt'>>,
): Promise<void> {
  await mgr(db).update(Transfer, { id }, patch);
}
