import type { Customer } from '../db/entities';
import type { EngineCustomer } from './types';

/**
 * What the caller knows now and the bank's record may not: it wins over the stored row. A field
 * left undefined takes the row's value; null says "none" whatever the row holds.
 */
export interface EngineInputOverrides {
  /** The id to decide for (a prospect id has no row); default the row's id. */
  customerId?: string | null;
  /** Where the customer is now (entry-time coordinates, or those a replayed decision used). */
  coords?: Pick<EngineCustomer, 'lat' | 'lng'> | null;
  regionCode?: string | null;
  /** The owning manager (e.g. none when the owner is the one leaving). */
  ownerUserid?: string | null;
  /** The manager the customer already added in WeCom. */
  addedUserid?: string | null;
}

/**
 * The engine's view of a stored customer: the one place a customer row becomes engine input
 * (entry and callback allocations, replay, rule dry runs, reassignment, `ops allocate explain`).
 */
export function engineCustomer(row: Customer | null | undefined, over: EngineInputOverrides = {}): EngineCustomer {
  const customerId = over.customerId !== undefined ? over.customerId : row?.id;
  return {
    customerId: customerId ?? undefined,
    segment: row?.segment ?? null,
    ownerUserid: over.ownerUserid !== undefined ? over.ownerUserid : (row?.ownerUserid ?? null),
    lat: over.coords ? over.coords.lat : (row?.lat ?? null),
    lng: over.coords ? over.coords.lng : (row?.lng ?? null),
    regionCode: over.regionCode !== undefined ? over.regionCode : (row?.regionCode ?? null),
    addedUserid: over.addedUserid ?? null,
  };
}
