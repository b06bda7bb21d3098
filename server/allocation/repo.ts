import { DataSource, EntityManager, In, LessThan, MoreThanOrEqual, Not } from 'typeorm';
import {
  Allocation,
  AllocationStatus,
  Branch as BranchRow,
  Customer as CustomerRow,
  Follow,
  Manager as ManagerRow,
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

/** Everything buildIndex() needs, read in one go. */
export async function loadOrg(db: Db): Promise<{ branches: Branch[]; managers: Manager[] }> {
  const m = mgr(db);
  const [branchRows, managerRows, loads] = await Promise.all([
    m.find(BranchRow),
    m.find(ManagerRow),
    activeFollowCounts(db),
  ]);
  return {
    branches: branchRows.map(toEngineBranch),
    managers: managerRows.map((r) => toEngineManager(r, loads.get(r.userid) ?? 0)),
  };
}

export async function findCustomer(db: Db, id: string): Promise<CustomerRow | null> {
  return mgr(db).findOne(CustomerRow, { where: { id } });
}

export async function findCustomerByPhoneHash(db: Db, hash: string): Promise<CustomerRow | null> {
  return mgr(db).findOne(CustomerRow, { where: { phoneHash: hash }, order: { updatedAt: 'DESC' } });
}

export async function findManager(db: Db, userid: string): Promise<ManagerRow | null> {
  return mgr(db).findOne(ManagerRow, { where: { userid } });
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

export async function latestAllocationFor(
  db: Db,
  where: { customerId?: string; externalUserid?: string },
): Promise<Allocation | null> {
  const key =
    where.customerId !== undefined ? { customerId: where.customerId } : { externalUserid: where.externalUserid };
  return mgr(db).findOne(Allocation, { where: key, order: { createdAt: 'DESC' } });
}

export async function setAllocationStatus(
  db: Db,
  id: string,
  status: AllocationStatus,
  patch: Partial<Pick<Allocation, 'externalUserid' | 'confirmedAt'>> = {},
): Promise<void> {
  await mgr(db).update(Allocation, { id }, { status, ...patch });
}

/** Marks the customer's other open allocations superseded once one of them is confirmed. */
export async function supersedeOthers(db: Db, customerId: string, keepId: string): Promise<number> {
  const res = await mgr(db).update(
    Allocation,
    { customerId, status: 'open', id: Not(keepId) },
    { status: 'superseded' },
  );
  return res.affected ?? 0;
}

/** Open allocations past their TTL become expired; returns how many. */
export async function expireAllocations(db: Db, now: number): Promise<number> {
  const res = await mgr(db).update(Allocation, { status: 'open', expiresAt: LessThan(now) }, { status: 'expired' });
  return res.affected ?? 0;
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

export async function customersByIds(db: Db, ids: string[]): Promise<Map<string, CustomerRow>> {
  const out = new Map<string, CustomerRow>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await mgr(db).find(CustomerRow, { where: { id: In(ids.slice(i, i + 500)) } });
    for (const r of rows) out.set(r.id, r);
  }
  return out;
}
