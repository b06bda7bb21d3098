import { boxLowerBoundMeters, haversineWithCos } from './geo';
import { KeyIdHeap } from './min-heap';

const LEAF_SIZE = 8;
const RAD = Math.PI / 180;

/**
 * Called for each point in increasing (distance, point id) order; return true to stop.
 */
export type NearestVisitor = (pointId: number, distanceMeters: number) => boolean;

/**
 * A static 2-d tree over lat/lng points with a best-first search: nodes and points share one heap
 * keyed by (lower-bound or exact distance, id). Nodes carry negative ids so on equal keys a node is
 * opened before a point is emitted, which keeps ties ordered by point id (the caller numbers
 * points in branch-code order). Points are emitted lazily, so the caller can skip points and the
 * search stops at the first acceptable one or at the distance limit.
 */
export class KdTree {
  private readonly lat: Float64Array;
  private readonly lng: Float64Array;
  private readonly cosLat: Float64Array;
  private readonly perm: Int32Array;
  private nodeCount = 0;
  private latMin: Float64Array;
  private latMax: Float64Array;
  private lngMin: Float64Array;
  private lngMax: Float64Array;
  private left: Int32Array;
  private right: Int32Array;
  private start: Int32Array;
  private end: Int32Array;
  private readonly heap = new KeyIdHeap(256);

  /** `ids` are the point ids to index; coordinates are looked up by id in lat/lng. */
  constructor(lat: Float64Array, lng: Float64Array, ids: readonly number[]) {
    this.lat = lat;
    this.lng = lng;
    this.cosLat = lat.map((v) => Math.cos(v * RAD));
    this.perm = Int32Array.from(ids);
    const maxNodes = Math.max(1, 2 * Math.ceil(ids.length / (LEAF_SIZE / 2)) + 1);
    this.latMin = new Float64Array(maxNodes);
    this.latMax = new Float64Array(maxNodes);
    this.lngMin = new Float64Array(maxNodes);
    this.lngMax = new Float64Array(maxNodes);
    this.left = new Int32Array(maxNodes);
    this.right = new Int32Array(maxNodes);
    this.start = new Int32Array(maxNodes);
    this.end = new Int32Array(maxNodes);
    if (ids.length > 0) this.build(0, ids.length);
  }

  get size(): number {
    return this.perm.length;
  }

  private build(from: number, to: number): number {
    const node = this.nodeCount++;
    let laMin = Infinity;
    let laMax = -Infinity;
    let lnMin = Infinity;
    let lnMax = -Infinity;
    for (let i = from; i < to; i++) {
      const p = this.perm[i];
      const la = this.lat[p];
      const ln = this.lng[p];
      if (la < laMin) laMin = la;
      if (la > laMax) laMax = la;
      if (ln < lnMin) lnMin = ln;
      if (ln > lnMax) lnMax = ln;
    }
    this.latMin[node] = laMin;
    this.latMax[node] = laMax;
    this.lngMin[node] = lnMin;
    this.lngMax[node] = lnMax;
    this.start[node] = from;
    this.end[node] = to;
    if (to - from <= LEAF_SIZE) {
      this.left[node] = -1;
      this.right[node] = -1;
      return node;
    }
    // Split the wider side, measuring longitude in ground distance at this latitude.
    const lngWidth = (lnMax - lnMin) * Math.cos(((laMin + laMax) / 2) * RAD);
    const coord = lngWidth > laMax - laMin ? this.lng : this.lat;
    const slice = Array.from(this.perm.subarray(from, to)).sort((a, b) => coord[a] - coord[b] || a - b);
    this.perm.set(slice, from);
    const mid = (from + to) >> 1;
    this.left[node] = this.build(from, mid);
    this.right[node] = this.build(mid, to);
    return node;
  }

  /**
   * Visits points within maxMeters (inclusive; Infinity for no limit) nearest first.
   * Not re-entrant: the visitor must not start another search on the same tree.
   */
  visitNearest(lat: number, lng: number, maxMeters: number, visit: NearestVisitor): void {
    if (this.perm.length === 0) return;
    const heap = this.heap;
    const cosLat = Math.cos(lat * RAD);
    heap.clear();
    heap.push(this.nodeBound(0, lat, lng, cosLat), -1);
    while (heap.size > 0) {
      const key = heap.topKey();
      if (key > maxMeters) break;
      const id = heap.topId();
      heap.pop();
      if (id >= 0) {
        if (visit(id, key)) return;
        continue;
      }
      const node = -id - 1;
      const l = this.left[node];
      if (l >= 0) {
        const r = this.right[node];
        heap.push(this.nodeBound(l, lat, lng, cosLat), -l - 1);
        heap.push(this.nodeBound(r, lat, lng, cosLat), -r - 1);
        continue;
      }
      for (let i = this.start[node]; i < this.end[node]; i++) {
        const p = this.perm[i];
        const d = haversineWithCos(lat, lng, cosLat, this.lat[p], this.lng[p], this.cosLat[p]);
        if (d <= maxMeters) heap.push(d, p);
      }
    }
  }

  private nodeBound(node: number, lat: number, lng: number, cosLat: number): number {
    return boxLowerBoundMeters(
      lat,
      lng,
      cosLat,
      this.latMin[node],
      this.latMax[node],
      this.lngMin[node],
      this.lngMax[node],
    );
  }
}
