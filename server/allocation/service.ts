import type { DataSource, EntityManager } from 'typeorm';
import { audit } from '../audit/audit';
import { canonicalCustomerId } from '../customers/ids';
import { hashPhone } from '../customers/phone';
import { driverErrorCode, isUniqueViolation } from '../db/data-source';
import { Allocation, type AllocationSource, Customer, ExternalContact } from '../db/entities';
import { AppError } from '../errors';
import { type AllocationIndex, buildIndex } from './allocation-index';
import { allocationContext, cachedContext, invalidate } from './cache';
import { commit, decide } from './decide';
import { engineCustomer } from './engine-input';
import { explainInWords } from './explain';
import { allocationIdFromState, newAllocationId, stateForAllocation } from './ids';
import * as repo from './repo';
import type { RuleSet } from './rule-set';
import type { Decision, EngineCustomer, Explanation } from './types';

/**
 * The allocation engine over the database: who is the customer, what does the engine decide, and
 * the allocation row (rule version + explanation + audit) that records it. Free of Fastify so the
 * entry API, the callback handlers and the operator CLI share it.
 */

export const DEFAULT_ALLOCATION_TTL_MS = 7 * 24 * 3600 * 1000;

export interface CustomerInput {
  customerId?: string | null;
  /** Clear-text phone: hashed here with the salt and never stored or logged. */
  phone?: string | null;
  phoneHash?: string | null;
  lat?: number | null;
  lng?: number | null;
  regionCode?: string | null;
  /** The manager the customer already added in WeCom (callback allocations). */
  addedUserid?: string | null;
}

export interface ResolvedCustomer {
  /** Bank customer id, a prospect id derived from the phone hash, or null for an anonymous visitor. */
  customerId: string | null;
  row: Customer | null;
  phoneHash: string | null;
  /** True when the id was derived from the phone hash and no customer row exists yet. */
  prospect: boolean;
  engineInput: EngineCustomer;
}

export interface AllocationPlan {
  id: string;
  state: string;
  customer: ResolvedCustomer;
  decision: Decision;
  index: AllocationIndex;
  ruleSet: RuleSet;
}

export interface RecordOptions {
  source: AllocationSource;
  campaign?: string | null;
  actor: string;
  now?: number;
  ttlMs?: number;
  status?: 'open' | 'confirmed';
  externalUserid?: string | null;
  configId?: string | null;
  qrCode?: string | null;
}

const prospectId = (hash: string) => `p_${hash.slice(0, 32)}`;

/** Finds the bank customer behind the input and builds the engine's view of it. */
export async function resolveCustomer(
  db: DataSource | EntityManager,
  input: CustomerInput,
  salt?: string,
): Promise<ResolvedCustomer> {
  if (input.phone && !salt) throw new Error('a phone number needs config.phoneHashSalt to be matched');
  const hash = input.phoneHash ?? (input.phone && salt ? hashPhone(input.phone, salt) : null);
  let row: Customer | null = null;
  // Callers normalise at their edge; doing it again here is free and keeps every path canonical.
  let customerId: string | null = input.customerId ? canonicalCustomerId(input.customerId) : null;
  let prospect = false;
  if (customerId) row = await repo.findCustomer(db, customerId);
  else if (hash) {
    row = await repo.findCustomerByPhoneHash(db, hash);
    customerId = row ? row.id : prospectId(hash);
    prospect = !row;
  }
  // The caller's location is where the customer is now; the bank's record is the fallback.
  const hasCoords = typeof input.lat === 'number' && typeof input.lng === 'number';
  const engineInput = engineCustomer(row, {
    customerId,
    coords: hasCoords ? { lat: input.lat, lng: input.lng } : null,
    regionCode: input.regionCode ?? undefined,
    addedUserid: input.addedUserid,
  });
  return { customerId, row, phoneHash: hash, prospect, engineInput };
}

/** Decides without writing anything; the id and state are fixed here so a contact way can carry them. */
export async function planAllocation(
  db: DataSource,
  input: CustomerInput,
  salt?: string,
  now: number = Date.now(),
): Promise<AllocationPlan> {
  const [customer, ctx] = await Promise.all([resolveCustomer(db, input, salt), allocationContext(db, now)]);
  const decision = decide(customer.engineInput, ctx.index, ctx.ruleSet);
  const id = newAllocationId();
  return { id, state: stateForAllocation(id), customer, decision, index: ctx.index, ruleSet: ctx.ruleSet };
}

/**
 * Writes the allocation row, a prospect customer row when needed, and the audit row in one
 * transaction (or in the caller's), then counts the new load in the cached index.
 */
export async function recordAllocation(
  db: DataSource | EntityManager,
  plan: AllocationPlan,
  opts: RecordOptions,
): Promise<Allocation> {
  const now = opts.now ?? Date.now();
  const row = allocationRow(plan, opts, now);
  const write = async (tx: EntityManager) => {
    await insertProspect(tx, plan.customer, now);
    await repo.insertAllocation(tx, row);
    await auditDecision(tx, plan, row, opts.actor);
  };
  if ('transaction' in db && 'manager' in db) await db.transaction(write);
  else await write(db as EntityManager);
  commit(plan.index, plan.decision);
  return row;
}

/** The allocation row a plan becomes. */
export function allocationRow(plan: AllocationPlan, opts: RecordOptions, now: number): Allocation {
  const { decision, customer } = plan;
  const status = opts.status ?? 'open';
  return {
    id: plan.id,
    customerId: customer.customerId,
    externalUserid: opts.externalUserid ?? null,
    userid: decision.userid,
    branchCode: decision.branchCode,
    ruleVersion: decision.ruleSetVersion.slice(0, 64),
    source: opts.source,
    reason: decision.reason,
    distanceMeters: decision.distanceMeters ?? null,
    explanation: decision.explanation,
    status,
    campaign: opts.campaign ?? null,
    state: plan.state,
    configId: opts.configId ?? null,
    qrCode: opts.qrCode ?? null,
    createdAt: now,
    confirmedAt: status === 'confirmed' ? now : null,
    expiresAt: status === 'open' ? now + (opts.ttlMs ?? DEFAULT_ALLOCATION_TTL_MS) : null,
  };
}

/** A customer known only by phone gets a prospect row (salted hash only) with its first allocation. */
async function insertProspect(tx: EntityManager, customer: ResolvedCustomer, now: number): Promise<void> {
  if (!customer.prospect || !customer.customerId || !customer.phoneHash) return;
  await tx
    .createQueryBuilder()
    .insert()
    .into(Customer)
    .values({
      id: customer.customerId,
      maskedName: '',
      phoneHash: customer.phoneHash,
      segment: null,
      ownerUserid: null,
      lat: null,
      lng: null,
      regionCode: null,
      bankTags: null,
      createdAt: now,
      updatedAt: now,
    })
    .orIgnore()
    .updateEntity(false)
    .execute();
}

/** The audit row of a decision that became an allocation. */
export async function auditDecision(
  tx: DataSource | EntityManager,
  plan: AllocationPlan,
  row: Allocation,
  actor: string,
): Promise<void> {
  await audit(tx, {
    actor,
    action: 'allocation.decide',
    subject: `allocation:${row.id}`,
    detail: {
      customerId: row.customerId,
      userid: row.userid,
      branchCode: row.branchCode,
      reason: row.reason,
      ruleVersion: row.ruleVersion,
      source: row.source,
      campaign: row.campaign,
      status: row.status,
      mismatch: plan.decision.mismatch,
    },
  });
}

/** The chosen manager has no free slot (measured in the database): `load` is what was counted. */
export class CapacityFull extends Error {
  constructor(
    public readonly userid: string,
    public readonly load: number,
    public readonly capacity: number,
  ) {
    super(`manager ${userid} is at capacity (${load})`);
    this.name = 'CapacityFull';
  }
}

/** The customer already has an open allocation (another request or instance made it first). */
export class CustomerAllocationOpen extends Error {
  constructor(public readonly customerId: string) {
    super(`customer ${customerId} already has an open allocation`);
    this.name = 'CustomerAllocationOpen';
  }
}

/** MariaDB chose this transaction as a deadlock victim (it was rolled back; running it again is safe). */
const isDeadlock = (err: unknown): boolean => driverErrorCode(err) === 'ER_LOCK_DEADLOCK';

/** Whether the decision must fit under its manager's capacity (the engine applied capacity to it). */
export function capacityApplies(plan: AllocationPlan): boolean {
  const d = plan.decision;
  return (
    d.userid !== null && plan.ruleSet.respectCapacity && (d.reason === 'nearest_branch' || d.reason === 'fallback')
  );
}

export interface ReserveOptions extends RecordOptions {
  /** Hold the customer's one open slot (`open_key`): a second open allocation for it fails. */
  openKey: string | null;
}

/**
 * Writes an open allocation so that it holds under concurrency and across instances:
 * - capacity: every capacity-checked reservation for a manager first writes that manager's
 *   `manager_slots` row, so they run one at a time per manager (row lock on MariaDB, the write
 *   lock on SQLite); then it counts the manager's load in the database (active follows + open,
 *   unexpired allocations) and refuses with CapacityFull when it is full. The open allocation
 *   itself is the slot: confirming, superseding or expiring it (or its TTL passing) gives it back.
 * - one open allocation per customer: `open_key` is unique; an expired leftover gives its key
 *   up first; a live one makes this fail with CustomerAllocationOpen.
 * No audit row: the caller writes it once the allocation is complete.
 */
export async function reserveAllocation(
  db: DataSource,
  plan: AllocationPlan,
  opts: ReserveOptions,
): Promise<Allocation> {
  const now = opts.now ?? Date.now();
  const row: Allocation = { ...allocationRow(plan, { ...opts, status: 'open' }, now), openKey: opts.openKey };
  const userid = plan.decision.userid;
  const checked = capacityApplies(plan) && userid !== null;
  if (checked) await repo.ensureManagerSlot(db, userid, now);
  const write = async (tx: EntityManager) => {
    if (checked) {
      await repo.lockManagerSlot(tx, userid, now);
      const { load, capacity } = await repo.loadInDatabase(tx, userid, now);
      if (load >= capacity) throw new CapacityFull(userid, load, capacity);
    }
    if (opts.openKey) await repo.releaseExpiredOpenKey(tx, opts.openKey, now);
    await insertProspect(tx, plan.customer, now);
    await repo.insertAllocation(tx, row);
  };
  for (let attempt = 1; ; attempt++) {
    try {
      // READ COMMITTED on MariaDB: the count after the slot lock must see the latest commits.
      if (repo.isMysql(db)) await db.transaction('READ COMMITTED', write);
      else await db.transaction(write);
      break;
    } catch (err) {
      if (opts.openKey && isUniqueViolation(err)) throw new CustomerAllocationOpen(opts.openKey);
      if (attempt < 4 && isDeadlock(err)) continue;
      throw err;
    }
  }
  commit(plan.index, plan.decision);
  return row;
}

/** Decide and record in one step (callbacks, scripts). `salt` is needed only when the input has a clear phone. */
export async function allocateCustomer(
  db: DataSource,
  input: CustomerInput,
  opts: RecordOptions & { salt?: string },
): Promise<{ allocation: Allocation; decision: Decision }> {
  const plan = await planAllocation(db, input, opts.salt, opts.now);
  const allocation = await recordAllocation(db, plan, opts);
  return { allocation, decision: plan.decision };
}

/**
 * The add callback arrived for this allocation: mark it confirmed with the external contact and
 * supersede the customer's other open allocations. Idempotent; returns false when already confirmed.
 */
export async function confirmAllocation(
  db: DataSource,
  allocationId: string,
  externalUserid: string,
  actor: string,
  now: number = Date.now(),
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const row = await repo.findAllocation(tx, allocationId);
    if (!row || row.status === 'confirmed') return false;
    await repo.setAllocationStatus(tx, allocationId, 'confirmed', { externalUserid, confirmedAt: now });
    const superseded = row.customerId ? await repo.supersedeOthers(tx, row.customerId, allocationId) : 0;
    await audit(tx, {
      actor,
      action: 'allocation.confirm',
      subject: `allocation:${allocationId}`,
      detail: { externalUserid, previousStatus: row.status, superseded },
    });
    return true;
  });
}

/** The allocation a contact-way state points at, whatever its status. */
export async function allocationForState(db: DataSource | EntityManager, state: string | null | undefined) {
  const id = allocationIdFromState(state);
  return id ? repo.findAllocation(db, id) : null;
}

export interface AllocationExplanation {
  allocation: Allocation;
  explanation: Explanation;
  text: string;
}

/**
 * The newest allocation for an allocation id, a customer id or an external_userid (through the
 * allocation itself or the contact's matched customer), with the stored explanation in words.
 */
export async function explainAllocation(db: DataSource, key: string): Promise<AllocationExplanation | null> {
  let row =
    (await repo.findAllocation(db, key)) ??
    (await repo.latestAllocationFor(db, { customerId: canonicalCustomerId(key) })) ??
    (await repo.latestAllocationFor(db, { externalUserid: key }));
  if (!row) {
    const contact = await db.manager.findOne(ExternalContact, { where: { externalUserid: key } });
    if (contact?.customerId) row = await repo.latestAllocationFor(db, { customerId: contact.customerId });
  }
  if (!row) return null;
  const explanation = row.explanation as Explanation;
  const decision: Decision = {
    userid: row.userid,
    branchCode: row.branchCode,
    reason: explanation.rule,
    ruleSetVersion: row.ruleVersion,
    mismatch: false,
    mismatchPolicy: 'keep',
    explanation,
  };
  if (row.distanceMeters !== null) decision.distanceMeters = row.distanceMeters;
  return { allocation: row, explanation, text: explainInWords(decision) };
}

export interface ReplayMove {
  allocationId: string;
  customerId: string | null;
  fromUserid: string | null;
  toUserid: string | null;
  fromReason: string;
  toReason: string;
  toBranchCode: string | null;
  summary: string;
}

export interface ReplayResult {
  ruleSetVersion: string;
  considered: number;
  moved: ReplayMove[];
}

/**
 * What a rule set would have decided for the open and confirmed allocations made since `since`,
 * oldest first, on a private copy of today's index (loads are today's, not those at the time).
 * The location each decision used is taken from its stored explanation, so entry-time coordinates
 * the bank's records lack are replayed too. Writes nothing.
 */
export async function replayAllocations(db: DataSource, since: number, ruleSet: RuleSet): Promise<ReplayResult> {
  const [rows, org] = await Promise.all([repo.allocationsSince(db, since), repo.loadOrg(db)]);
  const index = buildIndex(org.branches, org.managers);
  const ids = [...new Set(rows.map((r) => r.customerId).filter((c): c is string => Boolean(c)))];
  const customers = await repo.customersByIds(db, ids);
  const moved: ReplayMove[] = [];
  for (const row of rows) {
    const c = row.customerId ? customers.get(row.customerId) : undefined;
    const loc = (row.explanation as Explanation | null)?.location;
    const input = engineCustomer(c, {
      customerId: row.customerId,
      coords: loc?.source === 'coordinates' ? { lat: loc.lat, lng: loc.lng } : null,
      // A decision that used no region falls back to the customer's.
      regionCode: loc?.regionCode ?? undefined,
      addedUserid: row.source === 'callback' && row.status === 'confirmed' ? row.userid : null,
    });
    const d = decide(input, index, ruleSet);
    commit(index, d);
    if (d.userid !== row.userid) {
      moved.push({
        allocationId: row.id,
        customerId: row.customerId,
        fromUserid: row.userid,
        toUserid: d.userid,
        fromReason: row.reason,
        toReason: d.reason,
        toBranchCode: d.branchCode,
        summary: d.explanation.summary,
      });
    }
  }
  return { ruleSetVersion: ruleSet.version, considered: rows.length, moved };
}

/** Open allocations past their TTL become expired (a sweep; lookups already ignore them). */
export async function expireOpenAllocations(db: DataSource, actor: string, now: number = Date.now()): Promise<number> {
  const n = await repo.expireAllocations(db, now);
  if (n > 0) await audit(db, { actor, action: 'allocation.expire', subject: 'allocations', detail: { count: n } });
  return n;
}

/** A follow was added or removed outside an allocation: keep the cached loads close to the truth. */
export function adjustLoad(db: DataSource, userid: string, delta: 1 | -1): void {
  const ctx = cachedContext(db);
  if (!ctx) return;
  if (delta > 0) ctx.index.recordAssignment(userid);
  else ctx.index.releaseAssignment(userid);
}

/** Import scripts and manager changes call this so the next decision sees the new org. */
export function invalidateAllocationCache(db: DataSource): void {
  invalidate(db);
}

export function assertDecided(decision: Decision): asserts decision is Decision & { userid: string } {
  if (decision.userid === null) {
    throw new AppError('no_manager_available', 422, 'no eligible customer manager for this customer');
  }
}
