import type { Branch, Manager } from '../../../server/allocation';

export { seededRandom } from '../../../server/lib/seeded-random';

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
