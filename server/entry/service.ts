import type { DataSource } from 'typeorm';
import * as repo from '../allocation/repo';
import {
  type AllocationPlan,
  assertDecided,
  DEFAULT_ALLOCATION_TTL_MS,
  planAllocation,
  recordAllocation,
  resolveCustomer,
} from '../allocation/service';
import { audit } from '../audit/audit';
import { type Allocation, ContactWay } from '../db/entities';
import { AppError } from '../errors';
import type { WecomApi } from '../wecom/api-types';
import { wecomErrorInfo } from '../wecom/errors';

/**
 * The entry API's work, free of HTTP: pick a manager for the visitor, make a contact way (QR code)
 * whose state names the allocation, and store both. Repeated calls for the same customer return
 * the same open allocation until it is confirmed by the add callback or expires.
 */

export interface EntryRequest {
  customerId?: string;
  phone?: string;
  lat?: number;
  lng?: number;
  regionCode?: string;
  campaign?: string;
}

export interface EntryAnswer {
  allocationId: string;
  userid: string;
  managerName: string;
  branchCode: string | null;
  branchName: string | null;
  distanceMeters: number | null;
  reason: string;
  qrCode: string | null;
  state: string;
  expiresAt: number | null;
}

export interface EntryDeps {
  db: DataSource;
  wecom: WecomApi;
  salt: string;
  now: () => number;
  ttlMs?: number;
  /** Who asked, for the audit trail (the x-entry-client header or the IP). */
  client: string;
}

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

/** In-process single flight per customer, so a double-click does not make two contact ways. */
const inFlight = new Map<string, Promise<EntryAnswer>>();

export async function entryAllocate(deps: EntryDeps, req: EntryRequest): Promise<EntryAnswer> {
  const identity = await resolveCustomer(deps.db, { customerId: req.customerId, phone: req.phone }, deps.salt);
  const key = identity.customerId;
  if (!key) return allocateNew(deps, req);
  const flightKey = `${deps.db.options.database}\u0000${key}`;
  const running = inFlight.get(flightKey);
  if (running) return running;
  const p = (async () => {
    const open = await repo.findOpenAllocation(deps.db, key, deps.now());
    if (open?.userid && open.qrCode !== null) return answerFor(deps.db, open);
    return allocateNew(deps, req);
  })().finally(() => inFlight.delete(flightKey));
  inFlight.set(flightKey, p);
  return p;
}

async function allocateNew(deps: EntryDeps, req: EntryRequest): Promise<EntryAnswer> {
  const { db, wecom } = deps;
  const now = deps.now();
  const plan: AllocationPlan = await planAllocation(
    db,
    { customerId: req.customerId, phone: req.phone, lat: req.lat, lng: req.lng, regionCode: req.regionCode },
    deps.salt,
    now,
  );
  const actor = `entry:${deps.client}`.slice(0, 64);
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
  const userid = plan.decision.userid;

  let way: { config_id: string; qr_code?: string };
  try {
    way = await wecom.addContactWay({ type: 1, scene: 2, user: [userid], state: plan.state, skip_verify: true });
  } catch (err) {
    const e = wecomErrorInfo(err);
    throw new AppError('wecom_error', 502, `WeCom add_contact_way failed (${e.errcode ?? e.kind})`);
  }

  let row: Allocation;
  try {
    row = await db.transaction(async (tx) => {
      const r = await recordAllocation(tx, plan, {
        source: 'entry',
        campaign: req.campaign ?? null,
        actor,
        now,
        ttlMs: deps.ttlMs ?? DEFAULT_ALLOCATION_TTL_MS,
        configId: way.config_id,
        qrCode: way.qr_code ?? null,
      });
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
      return r;
    });
  } catch (err) {
    // The contact way exists at WeCom but nothing here points at it: remove it (best effort).
    await wecom.delContactWay(way.config_id).catch(() => undefined);
    throw err;
  }
  return answerFor(db, row);
}
