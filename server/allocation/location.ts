import type { AllocationIndex } from './allocation-index';
import { isValidLatLng } from './geo';
import type { RuleSet } from './rule-set';
import type { EngineCustomer, LocationUsed } from './types';

/**
 * Where to measure distances from: the customer's own coordinates, else the centroid of the
 * customer's region (rule set first, then the index: its given centroids, then its branches). (0, 0) counts as
 * missing because bank exports use it as a placeholder and no customer of a Chinese bank lives there.
 */
export function resolveLocation(customer: EngineCustomer, index: AllocationIndex, ruleSet: RuleSet): LocationUsed {
  const { lat, lng, regionCode } = customer;
  if (isValidLatLng(lat, lng) && !(lat === 0 && lng === 0)) {
    return { source: 'coordinates', lat, lng: lng as number };
  }
  if (regionCode) {
    if (Object.hasOwn(ruleSet.regionCentroids, regionCode)) {
      const c = ruleSet.regionCentroids[regionCode];
      return { source: 'region_centroid', lat: c.lat, lng: c.lng, regionCode, centroidFrom: 'rule_set' };
    }
    const c = index.regionCentroid(regionCode);
    if (c) return { source: 'region_centroid', lat: c.lat, lng: c.lng, regionCode, centroidFrom: c.from };
    return { source: 'none', regionCode };
  }
  return { source: 'none' };
}
