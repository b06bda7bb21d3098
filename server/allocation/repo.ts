import { DataSource, EntityManager, In, LessThan, MoreThanOrEqual, Not } from 'typeorm';
import {
  Allocation,
  AllocationStatus,
  Branch as BranchRow,
  Customer,
  Follow,
  Manager as ManagerRow,
  ManagerSlot,
} from '../db/entities';
import type { Branch, Manager } from './types';

/**
 * Queries behind the allocation service. Rows are mapped to the engine's plain types here so the
 * engine never sees TypeORM entities.
 */

type Db = DataSource | EntityManager;
const mgr = (db: Db): EntityManager => ('manager' in db ? db.manager : db);

export function toEngineBranch(b: BranchRow): Branch {
  return { code: b.code, name: b.name, lat: b.lat, lng: b.lng, regionCode: b.regionCode, active: b.active };
}

export function toEngineManager(m: ManagerRow, load: number): Manager {
  return {
    userid: m.userid,
    name: m.name,
    branchCode: m.branchCode ?? '',
    role: m.role,
    capacity: m.capacity,
    load,
    status: m.status,
    accepting: m.accepting,
    skills: m.skills
      ? m.skills
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
  };
}

/** Active follows per manager: the load the engine balances on. */
export async function activeFollowCounts(db: Db): Promise<Map<string, number>> {
  const rows: { userid: string; n: string | number }[] = await mgr(db)
    .createQueryBuilder(Follow, 'f')
    .select('f.userid', 'userid')
    .addSelect('COUNT(*)', 'n')
    .where('f.deleted_at IS NULL')
    .groupBy('f.userid')
    .getRawMany();
  return new Map(rows.map((r) => [r.userid, Number(r.n)]));
}

/** Open allocations that count as load (see OPEN_LOAD_SQL), per manager. */
export async function openAllocationCounts(db: Db, now: number): Promise<Map<string, number>> {
  const rows: { userid: string; n: string | number }[] = await mgr(db).query(
    `SELECT userid, COUNT(*) AS n FROM allocations WHERE ${OPEN_LOAD_SQL} AND userid IS NOT NULL GROUP BY userid`,
    [now],
  );
  return new Map(rows.map((r) => [r.userid, Number(r.n)]));
}

/**
 * Everything buildIndex() needs, read in one go. A manager's load is their active follows, plus,
 * with `openAt`, the open allocations waiting for the add at that time (the capacity check counts both).
 */
export async function loadOrg(db: Db, openAt?: number): Promise<{ branches: Branch[]; managers: Manager[] }> {
  const m = mgr(db);
  const [branchRows, managerRows, follows, open] = await Promise.all([
    m.find(BranchRow),
    m.find(ManagerRow),
    activeFollowCounts(db),
    openAt === undefined ? new Map<string, number>() : openAllocationCounts(db, openAt),
  ]);
  const loads = new Map(follows);
  for (const [userid, n] of open) loads.set(userid, (loads.get(userid) ?? 0) + n);
  return {
    branches: branchRows.map(toEngineBranch),
    managers: managerRows.map((r) => toEngineManager(r, loads.get(r.userid) ?? 0)),
  };
}

export async function findCustomer(db: Db, id: string): Promise<Customer | null> {
  return mgr(db).findOne(Customer, { where: { id } });
}

export async function findCustomerByPhoneHash(db: Db, hash: string): Promise<Customer | null> {
  return mgr(db).findOne(Customer, { where: { phoneHash: hash }, order: { updatedAt: 'DESC' } });
}

export async function findManager(db: Db, userid: string): Promise<ManagerRow | null> {
  return mgr(db).findOne(ManagerRow, { where: { userid } });
}

export async function countManagers(db: Db): Promise<number> {
  return mgr(db).count(ManagerRow);
}

export async function findBranch(db: Db, code: string): Promise<BranchRow | null> {
  return mgr(db).findOne(BranchRow, { where: { code } });
}

export async function insertAllocation(db: Db, row: Allocation): Promise<void> {
  await mgr(db).createQueryBuilder().insert().into(Allocation).values(row).updateEntity(false).execute();
}

export async function findAllocation(db: Db, id: string): Promise<Allocation | null> {
  return mgr(db).findOne(Allocation, { where: { id } });
}

export async function findAllocationByState(db: Db, state: string): Promise<Allocation | null> {
  return mgr(db).findOne(Allocation, { where: { state } });
}

/** The customer's newest allocation still waiting for the add, if it has not expired at `now`. */
export async function findOpenAllocation(db: Db, customerId: string, now: number): Promise<Allocation | null> {
  const row = await mgr(db).findOne(Allocation, {
    where: { customerId, status: 'open' },
    order: { createdAt: 'DESC' },
  });
  if (!row) return null;
  return row.expiresAt !== null && row.expiresAt <= now ? null : row;
}

/** The entry allocation holding the customer's open key (open, possibly past its TTL and not yet swept). */
export async function findByOpenKey(db: Db, openKey: string): Promise<Allocation | null> {
  return mgr(db).findOne(Allocation, { where: { openKey, status: 'open' } });
}

export async function latestAllocationFor(
  db: Db,
  where: { customerId?: string; externalUserid?: string },
): Promise<Allocation | null> {
  const key =
    where.customerId !== undefined ? { customerId: where.customerId } : { externalUserid: where.externalUserid };
  return mgr(db).findOne(Allocation, { where: key, order: { createdAt: 'DESC' } });
}

/** Any status but open gives the customer's open key back (open_key is NULL unless status is open). */
export async function setAllocationStatus(
  db: Db,
  id: string,
  status: AllocationStatus,
  patch: Partial<Pick<Allocation, 'externalUserid' | 'confirmedAt'>> = {},
): Promise<void> {
  await mgr(db).update(
    Allocation,
    { id },
    status === 'open' ? { status, ...patch } : { status, openKey: null, ...patch },
  );
}

/** Marks the customer's other open allocations superseded once one of them is confirmed. */
export async function supersedeOthers(db: Db, customerId: string, keepId: string): Promise<number> {
  const res = await mgr(db).update(
    Allocation,
    { customerId, status: 'open', id: Not(keepId) },
    { status: 'superseded', openKey: null },
  );
  return res.affected ?? 0;
}

/** Open allocations past their TTL become expired; returns how many. */
export async function expireAllocations(db: Db, now: number): Promise<number> {
  const res = await mgr(db).update(
    Allocation,
    { status: 'open', expiresAt: LessThan(now) },
    { status: 'expired', openKey: null },
  );
  return res.affected ?? 0;
}

/**
 * Allocations holding a slot of their manager: open, not past their TTL, and not for a follow that
 * already exists (added_manager). One bound parameter: now.
 */
const OPEN_LOAD_SQL = "status = 'open' AND reason <> 'added_manager' AND (expires_at IS NULL OR expires_at > ?)";

export const isMysql = (db: Db) => mgr(db).connection.options.type !== 'better-sqlite3';

/** The manager's lock row exists (its own statement: never inside the reserving transaction). */
export async function ensureManagerSlot(db: Db, userid: string, now: number): Promise<void> {
  await mgr(db)
    .createQueryBuilder()
    .insert()
    .into(ManagerSlot)
    .values({ userid, reservations: 0, updatedAt: now })
    .orIgnore()
    .updateEntity(false)
    .execute();
}

/**
 * Takes the manager's slot lock for the rest of the transaction: an UPDATE of its row, which a
 * concurrent reservation for the same manager (any instance) waits for. First write of the
 * transaction, so SQLite takes its write lock here.
 */
export async function lockManagerSlot(tx: EntityManager, userid: string, now: number): Promise<void> {
  await tx.query('UPDATE manager_slots SET reservations = reservations + 1, updated_at = ? WHERE userid = ?', [
    now,
    userid,
  ]);
}

/**
 * The manager's load and capacity as the database has them now: active follows plus open
 * allocations. Run under lockManagerSlot, in a READ COMMITTED transaction on MariaDB (each read
 * sees every reservation committed before the lock was granted; no locking read, so no range
 * locks to deadlock with the completion of other allocations).
 */
export async function loadInDatabase(
  tx: EntityManager,
  userid: string,
  now: number,
): Promise<{ load: number; capacity: number }> {
  const [open] = await tx.query(`SELECT COUNT(*) AS n FROM allocations WHERE userid = ? AND ${OPEN_LOAD_SQL}`, [
    userid,
    now,
  ]);
  const [follows] = await tx.query('SELECT COUNT(*) AS n FROM follows WHERE userid = ? AND deleted_at IS NULL', [
    userid,
  ]);
  const [manager] = await tx.query('SELECT capacity FROM managers WHERE userid = ?', [userid]);
  return { load: Number(open?.n ?? 0) + Number(follows?.n ?? 0), capacity: Number(manager?.capacity ?? 0) };
}

/** An open allocation past its TTL gives its customer's open key up (it expires here, not at the sweep). */
export async function releaseExpiredOpenKey(tx: EntityManager, openKey: string, now: number): Promise<number> {
  const res = await tx
    .createQueryBuilder()
    .update(Allocation)
    .set({ status: 'expired', openKey: null })
    .where("open_key = :openKey AND status = 'open' AND expires_at <= :now", { openKey, now })
    .execute();
  return res.affected ?? 0;
}

/** Removes an open allocation that never got its contact way (WeCom refused); its slot is free again. */
export async function deleteOpenAllocation(db: Db, id: string): Promise<void> {
  await mgr(db).delete(Allocation, { id, status: 'open' });
}

/**
 * Completes a reserved allocation with its contact way and its real TTL. False when it is no
 * longer open (expired meanwhile).
 */
export async function completeAllocation(
  db: Db,
  id: string,
  patch: { configId: string; qrCode: string | null; expiresAt: number },
): Promise<boolean> {
  const res = await mgr(db).update(Allocation, { id, status: 'open' }, patch);
  return (res.affected ?? 0) > 0;
}

export async function allocationsSince(
  db: Db,
  since: number,
  statuses: AllocationStatus[] = ['open', 'confirmed'],
): Promise<Allocation[]> {
  return mgr(db).find(Allocation, {
    where: { createdAt: MoreThanOrEqual(since), status: In(statuses) },
    order: { createdAt: 'ASC' },
  });
}

export async function customersByIds(db: Db, ids: string[]): Promise<Map<string, Customer>> {
  const out = new Map<string, Customer>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await mgr(db).find(Customer, { where: { id: In(ids.slice(i, i + 500)) } });
    for (const r of rows) out.set(r.id, r);
  }
  return out;
}
