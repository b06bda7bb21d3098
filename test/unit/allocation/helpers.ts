import type { Branch, Manager } from '../../../server/allocation';

/** Deterministic PRNG (mulberry32) so randomized tests replay identically. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function branch(code: string, lat: number, lng: number, extra: Partial<Branch> = {}): Branch {
  return { code, name: `${code} branch`, lat, lng, active: true, ...extra };
}

export function manager(userid: string, branchCode: string, extra: Partial<Manager> = {}): Manager {
  return {
    userid,
    name: userid,
    branchCode,
    role: 'manager',
    capacity: 100,
    load: 0,
    status: 'active',
    ...extra,
  };
}

/** Roughly `km` kilometres north of a latitude (1° of latitude ≈ 111.2 km). */
export function northBy(lat: number, km: number): number {
  return lat + km / 111.195;
}
