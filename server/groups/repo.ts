import type { DataSource, EntityManager } from 'typeorm';
import {
  CustomerGroup,
  CustomerGroupMember,
  CustomerGroupStat,
  ExternalContact,
  type JoinScene,
  Manager,
  type QuitScene,
} from '../db/entities';
import type { GroupChatDetail, GroupChatMember, GroupStatData } from '../wecom/api-types';

/** SQL of the customer-group feature: the group row, membership spells, daily statistics. */

type Db = DataSource | EntityManager;
const mgr = (db: Db): EntityManager => ('manager' in db ? db.manager : db);
const isMysql = (db: Db) => mgr(db).connection.options.type !== 'better-sqlite3';

/** groupchat/get join_scene → ours. */
export function joinSceneFromGet(code: number | undefined): JoinScene {
  return code === 1 ? 'invited' : code === 2 ? 'link' : code === 3 ? 'qrcode' : 'unknown';
}

/** The callback's JoinScene (0 invited directly or by link, 3 QR code: other codes than groupchat/get). */
export function joinSceneFromEvent(code: string): JoinScene {
  return code === '0' ? 'invited' : code === '3' ? 'qrcode' : 'unknown';
}

export function quitSceneFromEvent(code: string): QuitScene {
  return code === '0' ? 'self' : code === '1' ? 'removed' : 'unknown';
}

export async function findGroup(db: Db, chatId: string): Promise<CustomerGroup | null> {
  return mgr(db).findOne(CustomerGroup, { where: { chatId } });
}

/**
 * The group row inside a transaction; on MySQL/MariaDB locked FOR UPDATE so two workers applying
 * events of one group take turns (SQLite has one writer anyway).
 */
export async function lockGroup(tx: EntityManager, chatId: string): Promise<CustomerGroup | null> {
  const qb = tx.getRepository(CustomerGroup).createQueryBuilder('g').where('g.chat_id = :chatId', { chatId });
  if (isMysql(tx)) qb.setLock('pessimistic_write');
  return qb.getOne();
}

export async function activeMembers(db: Db, chatId: string): Promise<CustomerGroupMember[]> {
  return mgr(db)
    .getRepository(CustomerGroupMember)
    .createQueryBuilder('m')
    .where('m.chat_id = :chatId AND m.quit_at IS NULL', { chatId })
    .getMany();
}

export async function branchOfManager(db: Db, userid: string): Promise<string | null> {
  const m = await mgr(db).findOne(Manager, { where: { userid }, select: { userid: true, branchCode: true } });
  return m?.branchCode ?? null;
}

export interface SnapshotPlan {
  chatId: string;
  isNew: boolean;
  /** Members in WeCom's list without an open spell here. */
  joins: GroupChatMember[];
  /** Open spells whose member is no longer in WeCom's list. */
  quits: CustomerGroupMember[];
  versionChanged: boolean;
  branchCode: string | null;
}

/** What writing `detail` would change (reads only). */
export async function planSnapshot(
  db: Db,
  detail: GroupChatDetail,
  existing?: CustomerGroup | null,
): Promise<SnapshotPlan> {
  const group = existing === undefined ? await findGroup(db, detail.chat_id) : existing;
  const open = await activeMembers(db, detail.chat_id);
  const openIds = new Set(open.map((m) => m.memberId));
  const listed = new Set(detail.member_list.map((m) => m.userid));
  return {
    chatId: detail.chat_id,
    isNew: !group,
    joins: detail.member_list.filter((m) => !openIds.has(m.userid)),
    quits: open.filter((m) => !listed.has(m.memberId)),
    versionChanged: (group?.memberVersion ?? null) !== (detail.member_version ?? null),
    branchCode: await branchOfManager(db, detail.owner),
  };
}

export interface SnapshotWrite {
  now: number;
  /** When the quits happened (the event time), or now for a nightly sync. */
  quitAt: number;
  /** Known quit scenes (del_member events name them); others are 'unknown'. */
  quitScenes?: Map<string, QuitScene>;
  ownerStatus?: number;
}

/** Writes a full read of the group: the row, new spells, closed spells, counts. */
export async function writeSnapshot(
  tx: EntityManager,
  detail: GroupChatDetail,
  plan: SnapshotPlan,
  w: SnapshotWrite,
): Promise<void> {
  const base = {
    name: (detail.name ?? '').slice(0, 128),
    ownerUserid: detail.owner,
    branchCode: plan.branchCode,
    memberVersion: detail.member_version ?? null,
    createdAt: detail.create_time ? detail.create_time * 1000 : null,
    dismissedAt: null,
    syncedAt: w.now,
    updatedAt: w.now,
    ...(w.ownerStatus !== undefined ? { ownerStatus: w.ownerStatus } : {}),
  };
  await tx
    .createQueryBuilder()
    .insert()
    .into(CustomerGroup)
    .values({ chatId: detail.chat_id, purpose: null, ownerStatus: 0, memberCount: 0, customerCount: 0, ...base })
    .orIgnore()
    .updateEntity(false)
    .execute();
  await tx
    .createQueryBuilder()
    .update(CustomerGroup)
    .set(base)
    .where('chat_id = :id', { id: detail.chat_id })
    .execute();

  if (plan.joins.length) {
    const ids = plan.joins.map((m) => m.userid);
    const unionids = await knownUnionids(tx, ids);
    await tx
      .createQueryBuilder()
      .insert()
      .into(CustomerGroupMember)
      .values(
        plan.joins.map((m) => ({
          chatId: detail.chat_id,
          memberId: m.userid,
          memberType: Number(m.type) === 1 ? 1 : 2,
          unionid: m.unionid || unionids.get(m.userid) || null,
          joinedAt: m.join_time ? m.join_time * 1000 : w.now,
          joinScene: joinSceneFromGet(m.join_scene),
          invitor: m.invitor?.userid ?? null,
          quitAt: null,
          quitScene: null,
        })),
      )
      .orIgnore()
      .updateEntity(false)
      .execute();
  }
  for (const q of plan.quits) {
    await tx
      .createQueryBuilder()
      .update(CustomerGroupMember)
      .set({ quitAt: Math.max(w.quitAt, q.joinedAt), quitScene: w.quitScenes?.get(q.memberId) ?? 'unknown' })
      .where('id = :id AND quit_at IS NULL', { id: q.id })
      .execute();
  }
  await refreshCounts(tx, detail.chat_id, w.now);
}

async function knownUnionids(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await mgr(db)
    .getRepository(ExternalContact)
    .createQueryBuilder('c')
    .select(['c.externalUserid', 'c.unionid'])
    .where('c.external_userid IN (:...ids) AND c.unionid IS NOT NULL', { ids })
    .getMany();
  return new Map(rows.map((r) => [r.externalUserid, r.unionid as string]));
}

export async function refreshCounts(tx: EntityManager, chatId: string, now: number): Promise<void> {
  const rows: { t: number | string; n: number | string }[] = await tx
    .getRepository(CustomerGroupMember)
    .createQueryBuilder('m')
    .select('m.member_type', 't')
    .addSelect('COUNT(*)', 'n')
    .where('m.chat_id = :chatId AND m.quit_at IS NULL', { chatId })
    .groupBy('m.member_type')
    .getRawMany();
  let members = 0;
  let customers = 0;
  for (const r of rows) {
    members += Number(r.n);
    if (Number(r.t) === 2) customers += Number(r.n);
  }
  await tx
    .createQueryBuilder()
    .update(CustomerGroup)
    .set({ memberCount: members, customerCount: customers, updatedAt: now })
    .where('chat_id = :chatId', { chatId })
    .execute();
}

export type DeltaOutcome = 'applied' | 'duplicate' | 'gap' | 'unknown_group';

export interface MemberDelta {
  chatId: string;
  kind: 'add' | 'del';
  lastMemVer: string;
  curMemVer: string;
  ids: string[];
  /** The event's time (ms). */
  at: number;
  joinScene?: JoinScene;
  quitScene?: QuitScene;
  now: number;
}

/**
 * Applies an add_member/del_member event when the stored member_version equals its LastMemVer
 * (then stores CurMemVer). A stored version equal to CurMemVer means this change is already in
 * (a redelivery); any other version means events were lost or reordered: the caller re-reads.
 */
export async function applyMemberDelta(db: DataSource, d: MemberDelta): Promise<DeltaOutcome> {
  return db.transaction(async (tx) => {
    const group = await lockGroup(tx, d.chatId);
    if (!group || group.dismissedAt !== null) return 'unknown_group';
    if (group.memberVersion === d.curMemVer) return 'duplicate';
    if (group.memberVersion !== d.lastMemVer) return 'gap';
    const moved = await tx
      .createQueryBuilder()
      .update(CustomerGroup)
      .set({ memberVersion: d.curMemVer, updatedAt: d.now })
      .where('chat_id = :id AND member_version = :last', { id: d.chatId, last: d.lastMemVer })
      .execute();
    if ((moved.affected ?? 0) === 0) return 'gap';
    const open = new Map((await activeMembers(tx, d.chatId)).map((m) => [m.memberId, m]));
    if (d.kind === 'add') {
      const fresh = d.ids.filter((id) => !open.has(id));
      if (fresh.length) {
        const staff = await tx
          .getRepository(Manager)
          .createQueryBuilder('m')
          .select('m.userid')
          .where('m.userid IN (:...ids)', { ids: fresh })
          .getMany();
        const staffIds = new Set(staff.map((s) => s.userid));
        const unionids = await knownUnionids(tx, fresh);
        await tx
          .createQueryBuilder()
          .insert()
          .into(CustomerGroupMember)
          .values(
            fresh.map((id) => ({
              chatId: d.chatId,
              memberId: id,
              memberType: staffIds.has(id) ? 1 : 2,
              unionid: unionids.get(id) ?? null,
              joinedAt: d.at,
              joinScene: d.joinScene ?? 'unknown',
              invitor: null,
              quitAt: null,
              quitScene: null,
            })),
          )
          .orIgnore()
          .updateEntity(false)
          .execute();
      }
    } else {
      for (const id of d.ids) {
        const spell = open.get(id);
        if (!spell) continue;
        await tx
          .createQueryBuilder()
          .update(CustomerGroupMember)
          .set({ quitAt: Math.max(d.at, spell.joinedAt), quitScene: d.quitScene ?? 'unknown' })
          .where('id = :id AND quit_at IS NULL', { id: spell.id })
          .execute();
      }
    }
    await refreshCounts(tx, d.chatId, d.now);
    return 'applied';
  });
}

/** The group was dismissed (or WeCom no longer knows it): close every open spell. */
export async function markDismissed(db: DataSource, chatId: string, at: number, now: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    const group = await lockGroup(tx, chatId);
    if (!group || group.dismissedAt !== null) return false;
    await tx
      .createQueryBuilder()
      .update(CustomerGroupMember)
      .set({ quitAt: at, quitScene: 'dismissed' })
      .where('chat_id = :chatId AND quit_at IS NULL', { chatId })
      .execute();
    await tx
      .createQueryBuilder()
      .update(CustomerGroup)
      .set({ dismissedAt: at, memberCount: 0, customerCount: 0, updatedAt: now })
      .where('chat_id = :chatId', { chatId })
      .execute();
    return true;
  });
}

export async function setPurpose(db: Db, chatId: string, purpose: string | null, now: number): Promise<void> {
  await mgr(db)
    .createQueryBuilder()
    .update(CustomerGroup)
    .set({ purpose, updatedAt: now })
    .where('chat_id = :chatId', { chatId })
    .execute();
}

export interface GroupFilter {
  branchCode?: string;
  ownerUserid?: string;
  includeDismissed?: boolean;
}

export async function listGroups(db: Db, f: GroupFilter = {}): Promise<CustomerGroup[]> {
  const qb = mgr(db).getRepository(CustomerGroup).createQueryBuilder('g');
  if (!f.includeDismissed) qb.andWhere('g.dismissed_at IS NULL');
  if (f.branchCode) qb.andWhere('g.branch_code = :b', { b: f.branchCode });
  if (f.ownerUserid) qb.andWhere('g.owner_userid = :o', { o: f.ownerUserid });
  return qb
    .orderBy('g.branch_code', 'ASC')
    .addOrderBy('g.owner_userid', 'ASC')
    .addOrderBy('g.chat_id', 'ASC')
    .getMany();
}

/** Live groups of these owners (for the nightly sync to find groups WeCom no longer lists). */
export async function liveGroupIdsOf(db: Db, owners: string[]): Promise<string[]> {
  if (!owners.length) return [];
  const rows = await mgr(db)
    .getRepository(CustomerGroup)
    .createQueryBuilder('g')
    .select('g.chatId')
    .where('g.owner_userid IN (:...owners) AND g.dismissed_at IS NULL', { owners })
    .getMany();
  return rows.map((r) => r.chatId);
}

/** Owners of live groups (whose statistics are fetched). */
export async function groupOwners(db: Db): Promise<string[]> {
  const rows: { o: string }[] = await mgr(db)
    .getRepository(CustomerGroup)
    .createQueryBuilder('g')
    .select('DISTINCT g.owner_userid', 'o')
    .where('g.dismissed_at IS NULL')
    .getRawMany();
  return rows.map((r) => r.o).sort();
}

/** Upserts one owner's day (the statistics are revised by WeCom for a while: the last fetch wins). */
export async function saveGroupStat(
  db: DataSource,
  row: { ownerUserid: string; day: string; statTime: number; data: GroupStatData; now: number },
): Promise<void> {
  const n = (v: number | undefined) => (Number.isFinite(Number(v)) ? Number(v) : 0);
  const values = {
    statTime: row.statTime,
    newChatCnt: n(row.data.new_chat_cnt),
    chatTotal: n(row.data.chat_total),
    chatHasMsg: n(row.data.chat_has_msg),
    newMemberCnt: n(row.data.new_member_cnt),
    memberTotal: n(row.data.member_total),
    memberHasMsg: n(row.data.member_has_msg),
    msgTotal: n(row.data.msg_total),
    fetchedAt: row.now,
  };
  await db.transaction(async (tx) => {
    await tx
      .createQueryBuilder()
      .insert()
      .into(CustomerGroupStat)
      .values({ ownerUserid: row.ownerUserid, day: row.day, ...values })
      .orIgnore()
      .updateEntity(false)
      .execute();
    await tx
      .createQueryBuilder()
      .update(CustomerGroupStat)
      .set(values)
      .where('owner_userid = :o AND day = :d', { o: row.ownerUserid, d: row.day })
      .execute();
  });
}
