import type { DataSource } from 'typeorm';
import { buildIndex } from '../allocation/allocation-index';
import { commit, decide } from '../allocation/decide';
import { engineCustomer } from '../allocation/engine-input';
import { customersByIds, findManager, loadOrg } from '../allocation/repo';
import { getActiveRuleSet } from '../allocation/ruleset-store';
import { invalidateAllocationCache } from '../allocation/service';
import { audit } from '../audit/audit';
import type { Customer, Manager, TransferKind } from '../db/entities';
import { AppError } from '../errors';
import type { WecomApi } from '../wecom/api-types';
import { activeFollowsOf, contactsByIds } from './repo';
import { ONJOB_LIMIT, onjobTransfersInWindow, requestTransfers, type TransferOutcome } from './transfers';

export { pollTransferResults, retryQueuedTransfers } from './transfers';

/**
 * A manager leaves (or changes role): hand all their customers to other managers. On-job
 * (transfer_customer) while the member is in post, resigned (resigned/transfer_customer) once WeCom
 * has them as left. Takeovers are chosen by the engine from the leaving manager's own branch
 * outwards (the customer's owner first, if it is someone else), unless `to` names one. Dry run by
 * default: `apply` sends the transfers, in batches of ≤ 100 per takeover.
 */

export interface ReassignOptions {
  from: string;
  /** Explicit takeover for every customer; otherwise the engine chooses per customer. */
  to?: string;
  actor: string;
  apply: boolean;
  now?: number;
  /** Force the kind; by default resigned when the manager's status is resigned, else on-job. */
  kind?: TransferKind;
  transferSuccessMsg?: string;
}

export interface ReassignItem {
  externalUserid: string;
  customerId: string | null;
  takeover: string | null;
  /** Engine rule that chose the takeover, or 'explicit'. */
  rule: string;
  /** Why this customer will not be (or was not) sent: no takeover, or the on-job limit. */
  skip?: 'no_takeover' | 'limit';
}

export interface ReassignReport {
  from: string;
  kind: TransferKind;
  applied: boolean;
  total: number;
  items: ReassignItem[];
  /** Customers per takeover. */
  byTakeover: Record<string, number>;
  /** Present when applied. */
  outcomes?: TransferOutcome[];
  counts: Record<string, number>;
}

async function plan(db: DataSource, from: Manager, opts: ReassignOptions, kind: TransferKind, now: number) {
  const follows = await activeFollowsOf(db, from.userid);
  const externalIds = follows.map((f) => f.externalUserid);
  const contacts = await contactsByIds(db, externalIds);
  const customerOf = new Map(contacts.map((c) => [c.externalUserid, c.customerId]));
  const customerIds = [...new Set(contacts.map((c) => c.customerId).filter((c): c is string => Boolean(c)))];
  const customers = await customersByIds(db, customerIds);

  let choose: (customer: Customer | undefined) => { takeover: string | null; rule: string };
  if (opts.to) {
    const to = await findManager(db, opts.to);
    if (to?.status !== 'active' || to.userid === from.userid) {
      throw new AppError('bad_takeover', 400, `takeover ${opts.to} is not an active manager other than ${from.userid}`);
    }
    choose = () => ({ takeover: to.userid, rule: 'explicit' });
  } else {
    // A private index without the leaving manager, so the engine can never hand customers back.
    const org = await loadOrg(db);
    const index = buildIndex(
      org.branches,
      org.managers.filter((m) => m.userid !== from.userid),
    );
    const ruleSet = await getActiveRuleSet(db);
    const home = from.branchCode ? index.getBranch(from.branchCode) : undefined;
    choose = (customer) => {
      const input = engineCustomer(customer, {
        // Never back to the manager who leaves.
        ownerUserid: customer?.ownerUserid && customer.ownerUserid !== from.userid ? customer.ownerUserid : null,
        // Same branch first: measure from the leaving manager's branch, not from the customer.
        ...(home ? { coords: { lat: home.lat, lng: home.lng }, regionCode: null } : {}),
      });
      const d = decide(input, index, ruleSet);
      commit(index, d);
      return { takeover: d.userid, rule: d.reason };
    };
  }

  const items: ReassignItem[] = [];
  for (const f of follows) {
    const customerId = customerOf.get(f.externalUserid) ?? null;
    const { takeover, rule } = choose(customerId ? customers.get(customerId) : undefined);
    const item: ReassignItem = { externalUserid: f.externalUserid, customerId, takeover, rule };
    if (!takeover) item.skip = 'no_takeover';
    else if (kind === 'onjob' && (await onjobTransfersInWindow(db, f.externalUserid, now)) >= ONJOB_LIMIT)
      item.skip = 'limit';
    items.push(item);
  }
  return items;
}

export async function reassignCustomers(
  db: DataSource,
  wecom: WecomApi,
  opts: ReassignOptions,
): Promise<ReassignReport> {
  const now = opts.now ?? Date.now();
  const from = await findManager(db, opts.from);
  if (!from) throw new AppError('manager_not_found', 404, `no manager ${opts.from}`);
  const kind: TransferKind = opts.kind ?? (from.status === 'resigned' ? 'resigned' : 'onjob');
  const items = await plan(db, from, opts, kind, now);

  const byTakeover: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const i of items) {
    if (i.takeover && !i.skip) byTakeover[i.takeover] = (byTakeover[i.takeover] ?? 0) + 1;
    if (i.skip) counts[i.skip] = (counts[i.skip] ?? 0) + 1;
  }
  const report: ReassignReport = {
    from: from.userid,
    kind,
    applied: opts.apply,
    total: items.length,
    items,
    byTakeover,
    counts,
  };
  if (!opts.apply) return report;

  const outcomes: TransferOutcome[] = [];
  const groups = new Map<string, string[]>();
  for (const i of items) {
    if (!i.takeover || i.skip === 'no_takeover') continue;
    // 'limit' items go through requestTransfers too, which records them as limit without a call.
    groups.set(i.takeover, [...(groups.get(i.takeover) ?? []), i.externalUserid]);
  }
  for (const [takeover, externalUserids] of groups) {
    outcomes.push(
      ...(await requestTransfers(db, wecom, {
        handover: from.userid,
        takeover,
        kind,
        externalUserids,
        actor: opts.actor,
        reason: 'reassign',
        now,
        transferSuccessMsg: opts.transferSuccessMsg,
      })),
    );
  }
  for (const k of Object.keys(counts)) if (k !== 'no_takeover') delete counts[k];
  for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
  report.outcomes = outcomes;
  report.counts = counts;
  invalidateAllocationCache(db);
  await audit(db, {
    actor: opts.actor,
    action: 'reassign.apply',
    subject: `manager:${from.userid}`,
    detail: { kind, total: items.length, byTakeover, counts },
  });
  return report;
}
