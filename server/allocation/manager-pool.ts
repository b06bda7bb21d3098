import type { Manager } from './types';

/** The index's mutable view of one manager: the input record plus its live load. */
export interface ManagerSlot {
  readonly manager: Readonly<Manager>;
  load: number;
  /** Index of the manager's branch in the index, or -1 when the branch is unknown. */
  readonly branch: number;
  /** Position in the branch's pool, kept in step with the pool's order. */
  pos: number;
}

/** Order of "least loaded": fewest active follows, then userid in code-unit order. */
export function compareSlots(a: ManagerSlot, b: ManagerSlot): number {
  if (a.load !== b.load) return a.load - b.load;
  const x = a.manager.userid;
  const y = b.manager.userid;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Restores the pool's order after one slot's load changed. Branch pools are small (about ten
 * managers), so shifting one element is cheaper than any heap and keeps the pool scannable in order.
 */
export function reposition(pool: ManagerSlot[], slot: ManagerSlot): void {
  let i = slot.pos;
  while (i + 1 < pool.length && compareSlots(pool[i + 1], slot) < 0) {
    pool[i] = pool[i + 1];
    pool[i].pos = i;
    i++;
  }
  while (i > 0 && compareSlots(pool[i - 1], slot) > 0) {
    pool[i] = pool[i - 1];
    pool[i].pos = i;
    i--;
  }
  pool[i] = slot;
  slot.pos = i;
}
