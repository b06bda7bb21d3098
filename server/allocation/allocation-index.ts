import { haversineMeters, isValidLatLng } from './geo';
import { KdTree } from './kd-tree';
import { compareSlots, type ManagerSlot, reposition } from './manager-pool';
import type { Branch, LatLng, Manager } from './types';

export interface BuildIndexOptions {
  /**
   * Centroids of region codes from a reference table (e.g. administrative divisions), used for
   * customers who have a region code but no coordinates. A rule set's regionCentroids override
   * these; regions in neither fall back to the mean location of the branches carrying that code.
   */
  regionCentroids?: Readonly<Record<string, LatLng>>;
}

/** Called with branches nearest first; return true to stop. */
export type BranchVisitor = (branch: Readonly<Branch>, branchIndex: number, distanceMeters: number) => boolean;

/**
 * Branches and managers prepared for fast decisions: a k-d tree over branch locations, per-branch
 * manager pools kept in least-loaded order, and region centroids derived from branches.
 *
 * Build it once per import with buildIndex(); it holds no rule-set state, so one index serves any
 * rule set (dry-runs of a draft rule set reuse the live index). Loads change through
 * recordAssignment/releaseAssignment/setLoad; anything else (status, capacity, branch moves) needs a
 * rebuild. Not safe for concurrent mutation, which is moot in a single-threaded Node process.
 */
export class AllocationIndex {
  /** Data problems found while building (bad coordinates, duplicates, unknown branches). */
  readonly warnings: readonly string[];
  private readonly branches: readonly Readonly<Branch>[];
  private readonly branchIndexByCode: ReadonlyMap<string, number>;
  private readonly slots: ReadonlyMap<string, ManagerSlot>;
  private readonly pools: readonly ManagerSlot[][];
  private readonly tree: KdTree;
  private readonly centroids: ReadonlyMap<string, LatLng>;
  private readonly givenCentroids: ReadonlyMap<string, LatLng>;

  /** @internal use buildIndex() */
  constructor(branches: readonly Branch[], managers: readonly Manager[], options: BuildIndexOptions = {}) {
    const warnings: string[] = [];
    this.givenCentroids = new Map(
      Object.entries(options.regionCentroids ?? {}).filter(([code, c]) => {
        const ok = isValidLatLng(c?.lat, c?.lng);
        if (!ok) warnings.push(`region ${code} has an invalid centroid: ignored`);
        return ok;
      }),
    );
    const byCode = new Map<string, Readonly<Branch>>();
    for (const b of branches) {
      if (byCode.has(b.code)) warnings.push(`duplicate branch code ${b.code}: the last record wins`);
      byCode.set(b.code, Object.freeze({ ...b }));
    }
    // Branch indices follow code order so the tree breaks distance ties by code.
    this.branches = [...byCode.values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
    this.branchIndexByCode = new Map(this.branches.map((b, i) => [b.code, i]));

    const lat = new Float64Array(this.branches.length);
    const lng = new Float64Array(this.branches.length);
    const located: number[] = [];
    this.branches.forEach((b, i) => {
      if (!isValidLatLng(b.lat, b.lng)) {
        warnings.push(`branch ${b.code} has no valid coordinates: it is never chosen as nearest`);
        return;
      }
      lat[i] = b.lat;
      lng[i] = b.lng;
      located.push(i);
    });
    this.tree = new KdTree(lat, lng, located);
    this.centroids = regionCentroidsOf(this.branches, located);

    const slots = new Map<string, ManagerSlot>();
    const pools: ManagerSlot[][] = this.branches.map(() => []);
    for (const m of managers) {
      if (slots.has(m.userid)) warnings.push(`duplicate manager ${m.userid}: the last record wins`);
      const branch = this.branchIndexByCode.get(m.branchCode) ?? -1;
      if (branch < 0) warnings.push(`manager ${m.userid} belongs to unknown branch ${m.branchCode}`);
      const manager = Object.freeze({ ...m, skills: m.skills ? Object.freeze([...m.skills]) : undefined });
      slots.set(m.userid, { manager, load: Math.max(0, m.load), branch, pos: -1 });
    }
    for (const slot of slots.values()) if (slot.branch >= 0) pools[slot.branch].push(slot);
    for (const pool of pools) {
      pool.sort(compareSlots);
      pool.forEach((s, i) => {
        s.pos = i;
      });
    }
    this.slots = slots;
    this.pools = pools;
    this.warnings = Object.freeze(warnings);
  }

  get branchCount(): number {
    return this.branches.length;
  }

  get managerCount(): number {
    return this.slots.size;
  }

  getBranch(code: string): Readonly<Branch> | undefined {
    const i = this.branchIndexByCode.get(code);
    return i === undefined ? undefined : this.branches[i];
  }

  /** The manager's record with its current load (which may differ from the imported one). */
  getManager(userid: string): (Readonly<Manager> & { load: number }) | undefined {
    const slot = this.slots.get(userid);
    return slot ? { ...slot.manager, load: slot.load } : undefined;
  }

  loadOf(userid: string): number | undefined {
    return this.slots.get(userid)?.load;
  }

  /**
   * Centroid of a region: from the build options if given there, else the mean location of the
   * located branches with this region code.
   */
  regionCentroid(regionCode: string): (LatLng & { from: 'index' | 'branches' }) | undefined {
    const given = this.givenCentroids.get(regionCode);
    if (given) return { lat: given.lat, lng: given.lng, from: 'index' };
    const derived = this.centroids.get(regionCode);
    return derived ? { lat: derived.lat, lng: derived.lng, from: 'branches' } : undefined;
  }

  /** One more active follow for this manager; returns false for an unknown userid. */
  recordAssignment(userid: string): boolean {
    return this.changeLoad(userid, (l) => l + 1);
  }

  /** One fewer active follow (customer deleted the manager, transfer out); never below zero. */
  releaseAssignment(userid: string): boolean {
    return this.changeLoad(userid, (l) => Math.max(0, l - 1));
  }

  /** Sets the load outright, e.g. after reconciling follows with WeCom. */
  setLoad(userid: string, load: number): boolean {
    return this.changeLoad(userid, () => Math.max(0, load));
  }

  /** @internal engine access to the live manager slot. */
  slot(userid: string): ManagerSlot | undefined {
    return this.slots.get(userid);
  }

  /** @internal managers of a branch, least loaded first. */
  pool(branchIndex: number): readonly ManagerSlot[] {
    return this.pools[branchIndex];
  }

  /** Visits located branches within maxMeters, nearest first, ties by branch code. */
  visitNearestBranches(lat: number, lng: number, maxMeters: number, visit: BranchVisitor): void {
    this.tree.visitNearest(lat, lng, maxMeters, (i, d) => visit(this.branches[i], i, d));
  }

  /**
   * Same contract as visitNearestBranches by scanning and sorting every branch. It exists as the
   * reference for tests and as the benchmark baseline; production code should not use it.
   */
  visitNearestBranchesByScan(lat: number, lng: number, maxMeters: number, visit: BranchVisitor): void {
    const found: { i: number; d: number }[] = [];
    this.branches.forEach((b, i) => {
      if (!isValidLatLng(b.lat, b.lng)) return;
      const d = haversineMeters(lat, lng, b.lat, b.lng);
      if (d <= maxMeters) found.push({ i, d });
    });
    found.sort((a, b) => a.d - b.d || a.i - b.i);
    for (const { i, d } of found) if (visit(this.branches[i], i, d)) return;
  }

  private changeLoad(userid: string, next: (load: number) => number): boolean {
    const slot = this.slots.get(userid);
    if (!slot) return false;
    slot.load = next(slot.load);
    if (slot.branch >= 0) reposition(this.pools[slot.branch], slot);
    return true;
  }
}

function regionCentroidsOf(branches: readonly Readonly<Branch>[], located: readonly number[]): Map<string, LatLng> {
  const sums = new Map<string, { lat: number; lng: number; n: number }>();
  for (const i of located) {
    const b = branches[i];
    if (!b.regionCode) continue;
    const s = sums.get(b.regionCode) ?? { lat: 0, lng: 0, n: 0 };
    s.lat += b.lat;
    s.lng += b.lng;
    s.n++;
    sums.set(b.regionCode, s);
  }
  return new Map([...sums].map(([code, s]) => [code, { lat: s.lat / s.n, lng: s.lng / s.n }]));
}

/**
 * Prepares branches and managers for decide(). Data problems do not throw; they are listed in
 * `index.warnings` so an import can report them. Managers' `load` is the starting load.
 */
export function buildIndex(
  branches: readonly Branch[],
  managers: readonly Manager[],
  options: BuildIndexOptions = {},
): AllocationIndex {
  return new AllocationIndex(branches, managers, options);
}
