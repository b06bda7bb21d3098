import { DataSource, In, MoreThan } from 'typeorm';
import { Customer } from '../db/entities';
import { buildIndex } from './allocation-index';
import { commit, decide } from './decide';
import { engineCustomer } from './engine-input';
import { loadOrg } from './repo';
import type { RuleSet } from './rule-set';
import type { Decision } from './types';

/**
 * What a candidate rule set would decide for a set of customers, next to what the active rule set
 * decides for the same customers on the same data (each on its own copy of today's index, so
 * loads evolve the same way in both). Writes nothing. Used by `ops rules dry-run`, next to replay
 * (service.ts): both are what-ifs over stored customers.
 */

export interface DecisionPair {
  customerId: string;
  active: Decision;
  candidate: Decision;
}

export interface ManagerLoad {
  userid: string;
  name: string;
  branchCode: string;
  capacity: number;
  /** Active follows today. */
  loadBefore: number;
  assignedActive: number;
  assignedCandidate: number;
}

export interface RuleDryRun {
  activeVersion: string;
  candidateVersion: string;
  customers: number;
  /** Ids asked for (--customers) that are not in the database. */
  unknownCustomers: string[];
  byRule: { active: Record<string, number>; candidate: Record<string, number> };
  byBranch: { code: string; active: number; candidate: number }[];
  managers: ManagerLoad[];
  /** Customers whose manager differs between the active and the candidate rule set. */
  changed: number;
  unallocated: number;
}

const PAGE = 2000;

export async function countCustomers(db: DataSource): Promise<number> {
  return db.manager.count(Customer);
}

/** Every customer, in id order, a page at a time. */
export async function* allCustomers(db: DataSource): AsyncGenerator<Customer[]> {
  let after = '';
  for (;;) {
    const rows = await db.manager.find(Customer, {
      where: after ? { id: MoreThan(after) } : {},
      order: { id: 'ASC' },
      take: PAGE,
    });
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1].id;
  }
}

/** The named customers, a page at a time; ids not found are reported through `missing`. */
export async function* customersById(
  db: DataSource,
  ids: string[],
  missing: (id: string) => void,
): AsyncGenerator<Customer[]> {
  for (let i = 0; i < ids.length; i += 500) {
    const slice = ids.slice(i, i + 500);
    const rows = await db.manager.find(Customer, { where: { id: In(slice) } });
    const found = new Map(rows.map((r) => [r.id.toLowerCase(), r]));
    const page: Customer[] = [];
    for (const id of slice) {
      const r = found.get(id.toLowerCase());
      if (r) page.push(r);
      else missing(id);
    }
    if (page.length) yield page;
  }
}

export async function dryRunRuleSet(
  db: DataSource,
  opts: {
    active: RuleSet;
    candidate: RuleSet;
    customers: AsyncIterable<Customer[]>;
    /** Called for every customer, e.g. to stream the per-customer CSV. */
    onDecision?: (pair: DecisionPair) => void | Promise<void>;
    onProgress?: (done: number) => void;
  },
): Promise<RuleDryRun> {
  const org = await loadOrg(db);
  const activeIndex = buildIndex(org.branches, org.managers);
  const candidateIndex = buildIndex(org.branches, org.managers);
  const result: RuleDryRun = {
    activeVersion: opts.active.version,
    candidateVersion: opts.candidate.version,
    customers: 0,
    unknownCustomers: [],
    byRule: { active: {}, candidate: {} },
    byBranch: [],
    managers: [],
    changed: 0,
    unallocated: 0,
  };
  const assigned = { active: new Map<string, number>(), candidate: new Map<string, number>() };
  const branches = new Map<string, { active: number; candidate: number }>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

  for await (const page of opts.customers) {
    for (const row of page) {
      const input = engineCustomer(row);
      const active = decide(input, activeIndex, opts.active);
      commit(activeIndex, active);
      const candidate = decide(input, candidateIndex, opts.candidate);
      commit(candidateIndex, candidate);
      result.customers++;
      result.byRule.active[active.reason] = (result.byRule.active[active.reason] ?? 0) + 1;
      result.byRule.candidate[candidate.reason] = (result.byRule.candidate[candidate.reason] ?? 0) + 1;
      if (active.userid) bump(assigned.active, active.userid);
      if (candidate.userid) bump(assigned.candidate, candidate.userid);
      for (const [side, d] of [
        ['active', active],
        ['candidate', candidate],
      ] as const) {
        const code = d.branchCode ?? '(none)';
        const b = branches.get(code) ?? { active: 0, candidate: 0 };
        b[side]++;
        branches.set(code, b);
      }
      if (active.userid !== candidate.userid) result.changed++;
      if (candidate.userid === null) result.unallocated++;
      await opts.onDecision?.({ customerId: row.id, active, candidate });
    }
    opts.onProgress?.(result.customers);
  }
  result.byBranch = [...branches.entries()]
    .map(([code, b]) => ({ code, ...b }))
    .sort((a, b) => b.candidate - a.candidate || a.code.localeCompare(b.code));
  result.managers = org.managers
    .filter((m) => assigned.active.has(m.userid) || assigned.candidate.has(m.userid))
    .map((m) => ({
      userid: m.userid,
      name: m.name,
      branchCode: m.branchCode,
      capacity: m.capacity,
      loadBefore: m.load,
      assignedActive: assigned.active.get(m.userid) ?? 0,
      assignedCandidate: assigned.candidate.get(m.userid) ?? 0,
    }))
    .sort(
      (a, b) => Math.abs(b.assignedCandidate - b.assignedActive) - Math.abs(a.assignedCandidate - a.assignedActive),
    );
  return result;
}
