import type { ManagerSlot } from './manager-pool';
import type { RuleSet, SegmentRoute } from './rule-set';
import type { ManagerRole, ManagerStatus, SkipReason } from './types';

/** A rule set turned into sets and maps once, so per-decision checks are constant time. */
export interface CompiledRules {
  readonly ruleSet: RuleSet;
  readonly excluded: ReadonlySet<ManagerStatus>;
  readonly roles: ReadonlySet<ManagerRole>;
  readonly closed: ReadonlySet<string>;
  readonly routes: ReadonlyMap<string, SegmentRoute>;
}

const cache = new WeakMap<RuleSet, CompiledRules>();

/** Rule sets are frozen by parseRuleSet, so caching by identity is safe. */
export function compileRules(ruleSet: RuleSet): CompiledRules {
  let compiled = cache.get(ruleSet);
  if (!compiled) {
    compiled = {
      ruleSet,
      excluded: new Set(ruleSet.excludeStatuses),
      roles: new Set(ruleSet.allocatableRoles),
      closed: new Set(ruleSet.closedBranches),
      routes: new Map(ruleSet.segmentRouting.map((r) => [r.segment, r])),
    };
    cache.set(ruleSet, compiled);
  }
  return compiled;
}

export function statusSkip(status: ManagerStatus, rules: CompiledRules): SkipReason | null {
  if (!rules.excluded.has(status)) return null;
  return status === 'resigned' ? 'resigned' : 'on_leave';
}

/**
 * Why this manager cannot take a new customer under these rules, or null if it can.
 * `checkRole` is off for the fallback list, whose members are named explicitly by the rule set.
 */
export function managerSkip(
  slot: ManagerSlot,
  rules: CompiledRules,
  route: SegmentRoute | undefined,
  checkRole: boolean,
): SkipReason | null {
  const m = slot.manager;
  const status = statusSkip(m.status, rules);
  if (status) return status;
  if (m.accepting === false) return 'not_accepting';
  if (checkRole && !rules.roles.has(m.role)) return 'role_not_allocatable';
  if (route) {
    if (route.roles && !route.roles.includes(m.role)) return 'segment_mismatch';
    if (route.requireSkill !== undefined && !m.skills?.includes(route.requireSkill)) return 'segment_mismatch';
  }
  if (rules.ruleSet.respectCapacity && slot.load >= m.capacity) return 'over_capacity';
  return null;
}

/** First eligible manager of a pool kept in least-loaded order, i.e. the least-loaded eligible one. */
export function leastLoadedEligible(
  pool: readonly ManagerSlot[],
  rules: CompiledRules,
  route: SegmentRoute | undefined,
): ManagerSlot | undefined {
  for (let i = 0; i < pool.length; i++) {
    if (managerSkip(pool[i], rules, route, true) === null) return pool[i];
  }
  return undefined;
}
