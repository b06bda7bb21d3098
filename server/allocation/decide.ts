import type { AllocationIndex, BranchVisitor } from './allocation-index';
import { type CompiledRules, compileRules, leastLoadedEligible, managerSkip, statusSkip } from './eligibility';
import { type SummaryFacts, summarize } from './explain';
import { resolveLocation } from './location';
import { compareSlots, type ManagerSlot } from './manager-pool';
import type { RuleSet, SegmentRoute } from './rule-set';
import type {
  AllocationRule,
  Branch,
  BranchConsidered,
  Decision,
  EngineCustomer,
  FallbackCandidate,
  LocationUsed,
  RuleStep,
  SkipReason,
} from './types';

/** Explanations list this many skipped branches / fallback candidates and count the rest. */
const MAX_LISTED = 20;
/** How many branches past the limit to look at for "the nearest one was beyond max distance". */
const BEYOND_PROBE_LIMIT = 64;

export interface DecideOptions {
  /**
   * 'scan' finds nearest branches by brute force instead of the k-d tree. It is the reference
   * for tests and the benchmark baseline, never needed in production.
   */
  search?: 'index' | 'scan';
}

/** Mutable state of one decision while the rules run. */
interface Run {
  customer: EngineCustomer;
  index: AllocationIndex;
  ruleSet: RuleSet;
  rules: CompiledRules;
  route: SegmentRoute | undefined;
  location: LocationUsed;
  steps: RuleStep[];
  branches: BranchConsidered[];
  branchesNotListed: number;
  skippedBranches: number;
  fallbackCandidates?: FallbackCandidate[];
  fallbackSize?: number;
  ownerUnavailable?: string;
  nearestFailure?: SummaryFacts['nearestFailure'];
}

/**
 * Chooses a manager for a customer. Pure apart from reading the index's current loads; it does
 * not change them (see commit()). Never throws for data reasons: with nobody eligible it returns
 * `userid: null, reason: 'none'` with the explanation of why.
 *
 * Rules, in order: the owner (管户) if their status is not excluded, whatever the capacity, the
 * accepting flag, segment routing or the state of their branch (the relationship is with the
 * person); else the least-loaded eligible
 * manager of the nearest open branch within maxDistanceMeters; else the fallback list (or, for
 * customers without any location, the manager they already added, as the rule set says).
 */
export function decide(
  customer: EngineCustomer,
  index: AllocationIndex,
  ruleSet: RuleSet,
  options: DecideOptions = {},
): Decision {
  const rules = compileRules(ruleSet);
  const run: Run = {
    customer,
    index,
    ruleSet,
    rules,
    route: customer.segment ? rules.routes.get(customer.segment) : undefined,
    location: resolveLocation(customer, index, ruleSet),
    steps: [],
    branches: [],
    branchesNotListed: 0,
    skippedBranches: 0,
  };

  const owner = tryOwner(run);
  if (owner) return finish(run, 'owner', owner);

  const { location } = run;
  if (location.lat !== undefined && location.lng !== undefined) {
    const near = searchNearest(run, location.lat, location.lng, options.search ?? 'index');
    if (near) return finish(run, 'nearest_branch', near.slot, near.branch, near.distance);
    run.nearestFailure = 'nothing_within_max';
    const fallback = tryFallback(run);
    return fallback ? finish(run, 'fallback', fallback) : finish(run, 'none');
  }

  run.nearestFailure = 'no_location';
  run.steps.push({
    rule: 'nearest_branch',
    outcome: 'not_applicable',
    detail: location.regionCode
      ? `no coordinates, and region ${location.regionCode} has no known centroid`
      : 'no coordinates and no region code',
  });
  if (ruleSet.noLocationPolicy === 'added_manager') {
    const added = tryAdded(run);
    if (added) return finish(run, 'added_manager', added);
    const fallback = tryFallback(run);
    return fallback ? finish(run, 'fallback', fallback) : finish(run, 'none');
  }
  const fallback = tryFallback(run);
  if (fallback) return finish(run, 'fallback', fallback);
  const added = tryAdded(run);
  return added ? finish(run, 'added_manager', added) : finish(run, 'none');
}

/**
 * Records the load a decision adds, so the next decision sees it. The 'added_manager' rule adds
 * none: that follow already exists and is already counted. Returns whether a load was recorded.
 */
export function commit(index: AllocationIndex, decision: Decision): boolean {
  if (decision.userid === null || decision.reason === 'added_manager') return false;
  return index.recordAssignment(decision.userid);
}

/** Decides customers one after another, committing each decision before the next. */
export function* decideBulk(
  customers: Iterable<EngineCustomer>,
  index: AllocationIndex,
  ruleSet: RuleSet,
): Generator<Decision, void, undefined> {
  for (const customer of customers) {
    const decision = decide(customer, index, ruleSet);
    commit(index, decision);
    yield decision;
  }
}

function tryOwner(run: Run): ManagerSlot | undefined {
  const owner = run.customer.ownerUserid;
  if (!owner) {
    run.steps.push({ rule: 'owner', outcome: 'not_applicable', detail: 'no owner named in the bank records' });
    return undefined;
  }
  const slot = run.index.slot(owner);
  const skip: SkipReason | null = slot ? statusSkip(slot.manager.status, run.rules) : 'unknown_manager';
  if (slot && skip === null) {
    run.steps.push({ rule: 'owner', outcome: 'chosen', detail: `owner ${owner} is ${slot.manager.status}` });
    return slot;
  }
  run.ownerUnavailable = owner;
  run.steps.push({ rule: 'owner', outcome: 'skipped', detail: `owner ${owner}: ${skip}` });
  return undefined;
}

function searchNearest(
  run: Run,
  lat: number,
  lng: number,
  search: 'index' | 'scan',
): { slot: ManagerSlot; branch: Readonly<Branch>; distance: number } | undefined {
  const { index, rules, route } = run;
  const maxMeters = run.ruleSet.maxDistanceMeters ?? Number.POSITIVE_INFINITY;
  const visitNearest: (lat: number, lng: number, max: number, visit: BranchVisitor) => void =
    search === 'scan' ? index.visitNearestBranchesByScan.bind(index) : index.visitNearestBranches.bind(index);
  let found: { slot: ManagerSlot; branch: Readonly<Branch>; distance: number } | undefined;

  visitNearest(lat, lng, maxMeters, (branch, bi, distance) => {
    const closed = !branch.active || rules.closed.has(branch.code);
    const slot = closed ? undefined : leastLoadedEligible(index.pool(bi), rules, route);
    if (slot) {
      found = { slot, branch, distance };
      run.branches.push({ code: branch.code, name: branch.name, distanceMeters: distance, outcome: 'chosen' });
      return true;
    }
    run.skippedBranches++;
    if (run.branches.length >= MAX_LISTED) {
      run.branchesNotListed++;
      return false;
    }
    const considered: BranchConsidered = {
      code: branch.code,
      name: branch.name,
      distanceMeters: distance,
      outcome: 'skipped',
      skipReason: closed ? 'closed' : 'no_eligible_manager',
    };
    if (!closed) {
      considered.managers = index.pool(bi).map((s) => ({
        userid: s.manager.userid,
        reason: managerSkip(s, rules, route, true) ?? 'no_eligible_manager',
      }));
    }
    run.branches.push(considered);
    return false;
  });

  const limit = run.ruleSet.maxDistanceMeters;
  if (found) {
    const skipped = run.skippedBranches;
    run.steps.push({
      rule: 'nearest_branch',
      outcome: 'chosen',
      detail: `branch ${found.branch.code} at ${Math.round(found.distance)} m${skipped ? `, after skipping ${skipped} nearer branch(es)` : ''}`,
    });
    return found;
  }
  if (limit !== null) probeBeyond(run, lat, lng, limit, visitNearest);
  run.steps.push({
    rule: 'nearest_branch',
    outcome: 'skipped',
    detail:
      limit === null
        ? 'no open branch has an eligible manager'
        : `no open branch with an eligible manager within ${limit} m`,
  });
  return undefined;
}

/** Names the branch that would have been chosen but for the distance limit, for the explanation. */
function probeBeyond(
  run: Run,
  lat: number,
  lng: number,
  limit: number,
  visitNearest: (lat: number, lng: number, max: number, visit: BranchVisitor) => void,
): void {
  let probed = 0;
  visitNearest(lat, lng, Number.POSITIVE_INFINITY, (branch, bi, distance) => {
    if (distance <= limit) return false;
    if (++probed > BEYOND_PROBE_LIMIT) return true;
    if (!branch.active || run.rules.closed.has(branch.code)) return false;
    if (!leastLoadedEligible(run.index.pool(bi), run.rules, run.route)) return false;
    run.branches.push({
      code: branch.code,
      name: branch.name,
      distanceMeters: distance,
      outcome: 'skipped',
      skipReason: 'beyond_max_distance',
    });
    return true;
  });
}

function tryFallback(run: Run): ManagerSlot | undefined {
  const candidates: FallbackCandidate[] = [];
  let best: ManagerSlot | undefined;
  let bestListed = -1;
  let eligible = 0;
  for (const userid of run.ruleSet.fallback.userids) {
    const slot = run.index.slot(userid);
    const reason = slot ? managerSkip(slot, run.rules, run.route, false) : 'unknown_manager';
    const listed = candidates.length < MAX_LISTED;
    if (listed) {
      const c: FallbackCandidate = { userid, outcome: reason ? 'skipped' : 'eligible' };
      if (slot) {
        c.load = slot.load;
        c.capacity = slot.manager.capacity;
      }
      if (reason) c.skipReason = reason;
      candidates.push(c);
    }
    if (slot && reason === null) {
      eligible++;
      if (!best || compareSlots(slot, best) < 0) {
        best = slot;
        bestListed = listed ? candidates.length - 1 : -1;
      }
    }
  }
  if (bestListed >= 0) candidates[bestListed].outcome = 'chosen';
  run.fallbackCandidates = candidates;
  run.fallbackSize = eligible;
  run.steps.push(
    best
      ? { rule: 'fallback', outcome: 'chosen', detail: `least loaded of ${eligible} eligible fallback manager(s)` }
      : {
          rule: 'fallback',
          outcome: candidates.length ? 'skipped' : 'not_applicable',
          detail: candidates.length ? 'no fallback manager is eligible' : 'the rule set names no fallback managers',
        },
  );
  return best;
}

/** The manager the customer already follows is kept if still in post; capacity does not apply. */
function tryAdded(run: Run): ManagerSlot | undefined {
  const added = run.customer.addedUserid;
  if (!added) {
    run.steps.push({ rule: 'added_manager', outcome: 'not_applicable', detail: 'customer has not added a manager' });
    return undefined;
  }
  const slot = run.index.slot(added);
  const skip: SkipReason | null = slot ? statusSkip(slot.manager.status, run.rules) : 'unknown_manager';
  if (slot && skip === null) {
    run.steps.push({ rule: 'added_manager', outcome: 'chosen', detail: `customer already added ${added}` });
    return slot;
  }
  run.steps.push({ rule: 'added_manager', outcome: 'skipped', detail: `added manager ${added}: ${skip}` });
  return undefined;
}

function finish(
  run: Run,
  rule: AllocationRule,
  slot?: ManagerSlot,
  branch?: Readonly<Branch>,
  distance?: number,
): Decision {
  const userid = slot ? slot.manager.userid : null;
  const facts: SummaryFacts = {
    rule,
    userid,
    ownerUserid: run.ownerUnavailable,
    branchName: branch?.name,
    distanceMeters: distance,
    skippedBranches: run.skippedBranches,
    nearestFailure: run.nearestFailure,
    maxDistanceMeters: run.ruleSet.maxDistanceMeters,
    fallbackSize: run.fallbackSize,
    centroidRegion: run.location.source === 'region_centroid' ? run.location.regionCode : undefined,
  };
  const { summary, summaryZh } = summarize(facts);
  const explanation: Decision['explanation'] = {
    rule,
    ruleSetVersion: run.ruleSet.version,
    location: run.location,
    steps: run.steps,
    branches: run.branches,
    branchesNotListed: run.branchesNotListed,
    maxDistanceMeters: run.ruleSet.maxDistanceMeters,
    summary,
    summaryZh,
  };
  if (run.fallbackCandidates) explanation.fallbackCandidates = run.fallbackCandidates;
  const added = run.customer.addedUserid;
  const decision: Decision = {
    userid,
    branchCode: branch?.code ?? slot?.manager.branchCode ?? null,
    reason: rule,
    ruleSetVersion: run.ruleSet.version,
    mismatch: Boolean(added) && userid !== null && added !== userid,
    mismatchPolicy: run.ruleSet.mismatchPolicy,
    explanation,
  };
  if (distance !== undefined) decision.distanceMeters = distance;
  return decision;
}
