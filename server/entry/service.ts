import type { DataSource } from 'typeorm';
import * as repo from '../allocation/repo';
import {
  type AllocationPlan,
  assertDecided,
  auditDecision,
  CapacityFull,
  CustomerAllocationOpen,
  DEFAULT_ALLOCATION_TTL_MS,
  invalidateAllocationCache,
  planAllocation,
  reserveAllocation,
  resolveCustomer,
} from '../allocation/service';
import { audit } from '../audit/audit';
import { type Allocation, ContactWay } from '../db/entities';
import { AppError } from '../errors';
import type { WecomApi } from '../wecom/api-types';
import { wecomErrorInfo } from '../wecom/errors';
import type { EntryAnswer, EntryRequest } from './schemas';

/**
 * The entry API's work, free of HTTP: pick a manager for the visitor, reserve the allocation in
 * the database (manager capacity and the customer's one open allocation hold across instances),
 * make a contact way (QR code) whose state names it, and complete it. Repeated calls for the same
 * customer return the same open allocation until it is confirmed by the add callback or expires.
 */

export interface EntryDeps {
  db: DataSource;
  wecom: WecomApi;
  salt: string;
  now: () => number;
  ttlMs?: number;
  /** Who asked, for the audit trail (the x-entry-client header or the IP). */
  client: string;
  /** Where failed clean-ups are reported (ids and error messages only). */
  log?: { warn(obj: Record<string, unknown>, msg: string): void };
}

const errorText = (err: unknown) => String((err as Error)?.message ?? err).slice(0, 300);

async function answerFor(db: DataSource, row: Allocation): Promise<EntryAnswer> {
  const [manager, branch] = await Promise.all([
    row.userid ? repo.findManager(db, row.userid) : null,
    row.branchCode ? repo.findBranch(db, row.branchCode) : null,
  ]);
  return {
    allocationId: row.id,
    userid: row.userid as string,
    managerName: manager?.name ?? (row.userid as string),
    branchCode: row.branchCode,
    branchName: branch?.name ?? null,
    distanceMeters: row.distanceMeters === null ? null : Math.round(row.distanceMeters),
    reason: row.reason,
    qrCode: row.qrCode,
    state: row.state as string,
    expiresAt: row.expiresAt,
  };
}

/**
 * In-process single flight per customer and DataSource, so a double-click does not even reach the
 * database twice. Other instances are held off by the database (the unique open key).
 */
const inFlight = new WeakMap<DataSource, Map<string, Promise<EntryAnswer>>>();

/** A reserved allocation waits this long for its contact way; a crash in between frees it after that. */
export const PENDING_HOLD_MS = 120_000;
/** How long a request waits for another instance's allocation of the same customer to get its QR code. */
const WAIT_FOR_OTHER_MS = 15_000;
const POLL_MS = 50;
/** Re-decisions after the database found the chosen manager full (each one rules a manager out). */
const MAX_CAPACITY_RETRIES = 25;

export async function entryAllocate(deps: EntryDeps, req: EntryRequest): Promise<EntryAnswer> {
  const identity = await resolveCustomer(deps.db, { customerId: req.customerId, phone: req.phone }, deps.salt);
  const key = identity.customerId;
  if (!key) return allocateNew(deps, req, null);
  let flights = inFlight.get(deps.db);
  if (!flights) {
    flights = new Map();
    inFlight.set(deps.db, flights);
  }
  const running = flights.get(key);
  if (running) return running;
  const mine = flights;
  const p = allocateForCustomer(deps, req, key).finally(() => mine.delete(key));
  flights.set(key, p);
  return p;
}

/**
 * The customer's open allocation, or a new one. The database decides who makes it (unique
 * open key): a request that loses waits for the winner's QR code and answers the same.
 */
async function allocateForCustomer(deps: EntryDeps, req: EntryRequest, key: string): Promise<EntryAnswer> {
  const deadline = Date.now() + WAIT_FOR_OTHER_MS;
  for (;;) {
    const now = deps.now();
    const held = await repo.findByOpenKey(deps.db, key);
    const live = held && (held.expiresAt === null || held.expiresAt > now) ? held : null;
    if (live?.configId) return answerFor(deps.db, live);
    if (!live) {
      // Open entry allocations made before open keys existed still answer repeated calls.
      const open = await repo.findOpenAllocation(deps.db, key, now);
      if (open?.userid && open.qrCode !== null) return answerFor(deps.db, open);
      try {
        return await allocateNew(deps, req, key);
      } catch (err) {
        if (!(err instanceof CustomerAllocationOpen)) throw err;
      }
    }
    // Another request (this or another instance) holds the customer and is making the QR code.
    if (Date.now() >= deadline) {
      throw new AppError('allocation_in_progress', 409, 'an allocation for this customer is still being made; retry');
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function allocateNew(deps: EntryDeps, req: EntryRequest, openKey: string | null): Promise<EntryAnswer> {
  const { db, wecom } = deps;
  const now = deps.now();
  const actor = `entry:${deps.client}`.slice(0, 64);
  const input = {
    customerId: req.customerId,
    phone: req.phone,
    lat: req.lat,
    lng: req.lng,
    regionCode: req.regionCode,
  };
  const record = {
    source: 'entry' as const,
    campaign: req.campaign ?? null,
    actor,
    now,
    ttlMs: PENDING_HOLD_MS,
    openKey,
  };

  // 1. Decide and reserve: the slot and the customer are held in the database before WeCom is asked.
  let plan: AllocationPlan = await planAllocation(db, input, deps.salt, now);
  let row: Allocation | undefined;
  for (let attempt = 0; !row; attempt++) {
    try {
      assertDecided(plan.decision);
    } catch (err) {
      await audit(db, {
        actor,
        action: 'allocation.none',
        subject: `customer:${plan.customer.customerId ?? '(anonymous)'}`,
        detail: { summary: plan.decision.explanation.summary, ruleVersion: plan.decision.ruleSetVersion },
      });
      throw err;
    }
    try {
      row = await reserveAllocation(db, plan, record);
    } catch (err) {
      if (!(err instanceof CapacityFull)) throw err;
      if (attempt >= MAX_CAPACITY_RETRIES) {
        throw new AppError('unavailable', 503, 'customer managers are filling up right now; retry');
      }
      // Full in the database (another request or instance took the last slot, or this process's
      // engine has an old capacity): the engine sees it full and decides again without them.
      const known = plan.index.getManager(err.userid)?.capacity ?? 0;
      plan.index.setLoad(err.userid, Math.max(err.load, err.capacity, known));
      // Another process changed the org: rebuild from the database rather than decide on old data.
      if (known !== err.capacity) invalidateAllocationCache(db);
      plan = await planAllocation(db, input, deps.salt, now);
    }
  }
  const userid = row.userid as string;

  // 2. The contact way (QR code) whose state names the allocation.
  let way: { config_id: string; qr_code?: string };
  try {
    way = await wecom.addContactWay({ type: 1, scene: 2, user: [userid], state: plan.state, skip_verify: true });
  } catch (err) {
    await giveBack(deps, plan, row);
    const e = wecomErrorInfo(err);
    throw new AppError('wecom_error', 502, `WeCom add_contact_way failed (${e.errcode ?? e.kind})`);
  }

  // 3. Complete the allocation with it, and its real TTL.
  const ttlMs = deps.ttlMs ?? DEFAULT_ALLOCATION_TTL_MS;
  const done = { configId: way.config_id, qrCode: way.qr_code ?? null, expiresAt: now + ttlMs };
  try {
    await db.transaction(async (tx) => {
      if (!(await repo.completeAllocation(tx, row.id, done))) {
        throw new AppError('unavailable', 503, 'the allocation expired before WeCom answered; retry');
      }
      await tx.insert(ContactWay, {
        configId: way.config_id,
        userid,
        state: plan.state,
        purpose: 'allocation',
        campaign: req.campaign ?? null,
        qrCode: way.qr_code ?? null,
        allocationId: plan.id,
        createdAt: now,
        deletedAt: null,
      });
      await auditDecision(tx, plan, { ...row, ...done }, actor);
    });
  } catch (err) {
    // The contact way exists at WeCom but nothing here points at it: remove it. If WeCom refuses,
    // it stays orphaned there: say so in the log and the audit trail, never silently.
    await wecom.delContactWay(way.config_id).catch(async (delErr) => {
      deps.log?.warn(
        { configId: way.config_id, allocationId: plan.id, error: errorText(delErr) },
        'orphaned contact way could not be deleted at WeCom',
      );
      await audit(db, {
        actor,
        action: 'contact_way.orphaned',
        subject: `contact_way:${way.config_id}`.slice(0, 128),
        detail: { allocationId: plan.id, userid, error: errorText(delErr) },
      }).catch((auditErr) =>
        deps.log?.warn({ configId: way.config_id, error: errorText(auditErr) }, 'orphaned contact way not audited'),
      );
    });
    await giveBack(deps, plan, row);
    throw err;
  }
  return answerFor(db, { ...row, ...done });
}

/** The reservation is not going to be used: delete it (its slot and customer key are free again). */
async function giveBack(deps: EntryDeps, plan: AllocationPlan, row: Allocation): Promise<void> {
  // A reservation left behind expires with its TTL; log it so an outage's leftovers are visible.
  await repo
    .deleteOpenAllocation(deps.db, row.id)
    .catch((err) =>
      deps.log?.warn({ allocationId: row.id, error: errorText(err) }, 'unused allocation reservation not deleted'),
    );
  if (plan.decision.userid && plan.decision.reason !== 'added_manager')
    plan.index.releaseAssignment(plan.decision.userid);
}
