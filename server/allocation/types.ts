/**
 * Shared types of the allocation engine. Everything here is plain data so decisions and
 * explanations can be stored as JSON (allocations.explanation) and replayed later.
 */

export type ManagerRole = 'manager' | 'branch_lead' | 'operator';
export type ManagerStatus = 'active' | 'leave' | 'resigned';

/** A customer as the engine sees it; every field is optional because bank data is patchy. */
export interface EngineCustomer {
  customerId?: string;
  segment?: string | null;
  /** Owning manager (管户) named by the bank's records. */
  ownerUserid?: string | null;
  lat?: number | null;
  lng?: number | null;
  regionCode?: string | null;
  /** Manager the customer has already added in WeCom, if any. */
  addedUserid?: string | null;
}

export interface Manager {
  userid: string;
  name: string;
  branchCode: string;
  role: ManagerRole;
  /** Maximum number of active follows this manager should carry. */
  capacity: number;
  /** Active follows right now; the index keeps its own copy and updates it on commit. */
  load: number;
  status: ManagerStatus;
  /** A manager may pause new customers without changing status; undefined means accepting. */
  accepting?: boolean;
  /** Free-form skills, matched by segment routing (e.g. 'wealth'). */
  skills?: readonly string[];
}

export interface Branch {
  code: string;
  name: string;
  lat: number;
  lng: number;
  regionCode?: string | null;
  active: boolean;
}

export interface LatLng {
  lat: number;
  lng: number;
}

/** The rule that produced a decision. */
export type AllocationRule = 'owner' | 'nearest_branch' | 'fallback' | 'added_manager' | 'none';

/** Why a branch or a manager was passed over. */
export type SkipReason =
  | 'closed'
  | 'no_eligible_manager'
  | 'beyond_max_distance'
  | 'over_capacity'
  | 'on_leave'
  | 'resigned'
  | 'not_accepting'
  | 'role_not_allocatable'
  | 'segment_mismatch'
  | 'unknown_manager';

export interface ManagerSkip {
  userid: string;
  reason: SkipReason;
}

export interface BranchConsidered {
  code: string;
  name: string;
  distanceMeters: number;
  outcome: 'chosen' | 'skipped';
  skipReason?: SkipReason;
  /** Present for 'no_eligible_manager': why each manager of the branch was passed over. */
  managers?: ManagerSkip[];
}

export interface LocationUsed {
  source: 'coordinates' | 'region_centroid' | 'none';
  lat?: number;
  lng?: number;
  regionCode?: string;
  /**
   * Where a region centroid came from: the rule set, the centroids given to buildIndex, or the mean
   * location of the index's branches in that region.
   */
  centroidFrom?: 'rule_set' | 'index' | 'branches';
}

/** One line of the decision trail, in the order the rules were tried. */
export interface RuleStep {
  rule: Exclude<AllocationRule, 'none'>;
  outcome: 'chosen' | 'skipped' | 'not_applicable';
  detail: string;
}

export interface FallbackCandidate {
  userid: string;
  load?: number;
  capacity?: number;
  outcome: 'chosen' | 'skipped' | 'eligible';
  skipReason?: SkipReason;
}

/** JSON-serialisable account of a decision, for the audit trail and for operators. */
export interface Explanation {
  rule: AllocationRule;
  ruleSetVersion: string;
  location: LocationUsed;
  steps: RuleStep[];
  /** Branches visited by the nearest-branch rule, nearest first (skipped ones, then the chosen one). */
  branches: BranchConsidered[];
  /** Branches skipped but not listed, to keep explanations small. */
  branchesNotListed: number;
  maxDistanceMeters: number | null;
  fallbackCandidates?: FallbackCandidate[];
  summary: string;
  summaryZh: string;
}

export interface Decision {
  /** null when no manager at all is eligible (reason 'none'). */
  userid: string | null;
  branchCode: string | null;
  reason: AllocationRule;
  /** Great-circle distance from the customer's location to the chosen branch. */
  distanceMeters?: number;
  ruleSetVersion: string;
  /** The customer already added a manager other than the one chosen. */
  mismatch: boolean;
  /** Carried from the rule set: what the lifecycle code should do about a mismatch. */
  mismatchPolicy: 'keep' | 'transfer_to_owner';
  explanation: Explanation;
}
