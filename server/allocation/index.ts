/**
 * Allocation engine: pure functions from (customer, prepared index, rule set) to a decision with
 * its explanation. No I/O here; the database, entry API and callbacks wire it up elsewhere.
 */
export { AllocationIndex, type BranchVisitor, type BuildIndexOptions, buildIndex } from './allocation-index';
export { commit, type DecideOptions, decide, decideBulk } from './decide';
export { explainInWords } from './explain';
export { formatDistance, haversineMeters } from './geo';
export {
  DEFAULT_RULE_SET,
  parseRuleSet,
  type RuleSet,
  RuleSetError,
  type RuleSetIssue,
  type SegmentRoute,
} from './rule-set';
export type * from './types';
