import {
  type Branch,
  buildIndex,
  commit,
  decide,
  type EngineCustomer,
  haversineMeters,
  type Manager,
  parseRuleSet,
  type RuleSet,
} from '../../../server/allocation';
import { seededRandom } from './helpers';

/**
 * Randomized comparison of the indexed engine with an independent brute-force scan. The data is
 * built to stress the search: tight clusters, exact duplicate locations (distance ties), closed
 * branches, full or absent managers, segment routes and several distance limits.
 */

const CITIES = [
  { lat: 30.27, lng: 120.15 },
  { lat: 31.23, lng: 121.47 },
  { lat: 39.9, lng: 116.4 },
  { lat: 22.54, lng: 114.06 },
];

interface World {
  branches: Branch[];
  managers: Manager[];
  byBranch: Map<string, Manager[]>;
}

function makeWorld(rand: () => number, branchCount: number): World {
  const branches: Branch[] = [];
  for (let i = 0; i < branchCount; i++) {
    const dup = i > 0 && rand() < 0.1 ? branches[Math.floor(rand() * branches.length)] : undefined;
    const city = CITIES[Math.floor(rand() * CITIES.length)];
    const spread = rand() < 0.8 ? 0.3 : 4;
    branches.push({
      // Shuffled codes so code order is unrelated to insertion or location order.
      code: `B${String(Math.floor(rand() * 1e6)).padStart(6, '0')}-${i}`,
      name: `branch ${i}`,
      lat: dup ? dup.lat : city.lat + (rand() - 0.5) * spread,
      lng: dup ? dup.lng : city.lng + (rand() - 0.5) * spread,
      active: rand() > 0.08,
    });
  }
  const managers: Manager[] = [];
  for (const b of branches) {
    const n = Math.floor(rand() * 4);
    for (let k = 0; k < n; k++) {
      const capacity = 1 + Math.floor(rand() * 4);
      managers.push({
        userid: `u${String(Math.floor(rand() * 1e6)).padStart(6, '0')}-${managers.length}`,
        name: 'm',
        branchCode: b.code,
        role: rand() < 0.1 ? 'operator' : rand() < 0.2 ? 'branch_lead' : 'manager',
        capacity,
        load: Math.floor(rand() * (capacity + 1)),
        status: rand() < 0.1 ? 'leave' : rand() < 0.05 ? 'resigned' : 'active',
        accepting: rand() < 0.05 ? false : undefined,
        skills: rand() < 0.3 ? ['wealth'] : [],
      });
    }
  }
  const byBranch = new Map<string, Manager[]>();
  for (const m of managers) byBranch.set(m.branchCode, [...(byBranch.get(m.branchCode) ?? []), m]);
  return { branches, managers, byBranch };
}

/** The nearest-branch rule written as plainly as possible. */
function bruteForce(
  c: { lat: number; lng: number; segment?: string },
  world: World,
  loads: Map<string, number>,
  rs: RuleSet,
): { userid: string; branchCode: string; distance: number } | null {
  const max = rs.maxDistanceMeters ?? Number.POSITIVE_INFINITY;
  const route = rs.segmentRouting.find((r) => r.segment === c.segment);
  const ranked = world.branches
    .map((b) => ({ b, d: haversineMeters(c.lat, c.lng, b.lat, b.lng) }))
    .filter((x) => x.d <= max && x.b.active && !rs.closedBranches.includes(x.b.code))
    .sort((x, y) => x.d - y.d || (x.b.code < y.b.code ? -1 : 1));
  for (const { b, d } of ranked) {
    const eligible = (world.byBranch.get(b.code) ?? [])
      .filter(
        (m) =>
          !(rs.excludeStatuses as string[]).includes(m.status) &&
          m.accepting !== false &&
          rs.allocatableRoles.includes(m.role) &&
          (!route?.requireSkill || (m.skills ?? []).includes(route.requireSkill)) &&
          (!route?.roles || route.roles.includes(m.role)) &&
          (!rs.respectCapacity || (loads.get(m.userid) ?? 0) < m.capacity),
      )
      .sort((x, y) => {
        const dl = (loads.get(x.userid) ?? 0) - (loads.get(y.userid) ?? 0);
        return dl || (x.userid < y.userid ? -1 : 1);
      });
    if (eligible.length > 0) return { userid: eligible[0].userid, branchCode: b.code, distance: d };
  }
  return null;
}

const RULE_SETS = [
  parseRuleSet({ version: 'limit-20km', maxDistanceMeters: 20_000 }),
  parseRuleSet({ version: 'unlimited', maxDistanceMeters: null, respectCapacity: true }),
  parseRuleSet({
    version: 'routed',
    maxDistanceMeters: 300_000,
    segmentRouting: [
      { segment: '高潜', requireSkill: 'wealth' },
      { segment: 'vip', roles: ['branch_lead'] },
    ],
  }),
  parseRuleSet({ version: 'loose', maxDistanceMeters: 5_000, respectCapacity: false, excludeStatuses: ['resigned'] }),
];

// The 1,000-branch world takes most of the unit suite's time; it runs in the slow tier
// (`npm run test:slow`, called by .ci/run), the two smaller seeds run in every `npm test`.
const SEEDS: [number, number][] = [
  [1, 40],
  [2, 300],
];
if (process.env.TEST_TIER === 'slow') SEEDS.push([3, 1000]);

describe('indexed nearest-branch search matches a brute-force scan', () => {
  it.each(SEEDS)('seed %i with %i branches', (seed, branchCount) => {
    const rand = seededRandom(seed);
    const world = makeWorld(rand, branchCount);
    let compared = 0;
    let nearestDecisions = 0;
    for (const rs of RULE_SETS) {
      const closed = world.branches.filter(() => rand() < 0.05).map((b) => b.code);
      const ruleSet = parseRuleSet({ ...rs, version: `${rs.version}-closed`, closedBranches: closed });
      const index = buildIndex(world.branches, world.managers);
      const loads = new Map(world.managers.map((m) => [m.userid, m.load]));
      for (let i = 0; i < 300; i++) {
        const city = CITIES[Math.floor(rand() * CITIES.length)];
        const onBranch = rand() < 0.1 ? world.branches[Math.floor(rand() * world.branches.length)] : undefined;
        const customer: EngineCustomer = {
          lat: onBranch ? onBranch.lat : city.lat + (rand() - 0.5) * 6,
          lng: onBranch ? onBranch.lng : city.lng + (rand() - 0.5) * 6,
          segment: rand() < 0.3 ? '高潜' : rand() < 0.2 ? 'vip' : null,
        };
        const expected = bruteForce(customer as { lat: number; lng: number; segment?: string }, world, loads, ruleSet);
        const got = decide(customer, index, ruleSet);
        expect(decide(customer, index, ruleSet, { search: 'scan' })).toEqual(got);
        if (expected) {
          expect({ userid: got.userid, branchCode: got.branchCode, distance: got.distanceMeters }).toEqual(expected);
          expect(got.reason).toBe('nearest_branch');
          nearestDecisions++;
          // Mirror the load the engine is told about so both sides keep agreeing.
          if (rand() < 0.7) {
            commit(index, got);
            loads.set(expected.userid, (loads.get(expected.userid) ?? 0) + 1);
          }
        } else {
          expect(got).toMatchObject({ userid: null, reason: 'none' });
        }
        compared++;
      }
    }
    expect(compared).toBe(RULE_SETS.length * 300);
    // Guard against a generator so sparse that the comparison proves nothing.
    expect(nearestDecisions).toBeGreaterThan(compared / 8);
  });

  it('visits every branch within the limit in (distance, code) order', () => {
    const rand = seededRandom(42);
    const world = makeWorld(rand, 800);
    const index = buildIndex(world.branches, world.managers);
    for (let i = 0; i < 100; i++) {
      const city = CITIES[i % CITIES.length];
      const lat = city.lat + (rand() - 0.5) * 3;
      const lng = city.lng + (rand() - 0.5) * 3;
      const max = [1_000, 30_000, 150_000, Number.POSITIVE_INFINITY][i % 4];
      const viaTree: [string, number][] = [];
      const viaScan: [string, number][] = [];
      index.visitNearestBranches(lat, lng, max, (b, _i, d) => {
        viaTree.push([b.code, d]);
        return false;
      });
      index.visitNearestBranchesByScan(lat, lng, max, (b, _i, d) => {
        viaScan.push([b.code, d]);
        return false;
      });
      expect(viaTree).toEqual(viaScan);
    }
  });

  it('finds neighbours across the antimeridian', () => {
    const rand = seededRandom(99);
    const branches: Branch[] = Array.from({ length: 200 }, (_, i) => ({
      code: `F${i}`,
      name: 'Fiji',
      lat: -17 + (rand() - 0.5) * 4,
      lng: ((180 + (rand() - 0.5) * 6 + 180) % 360) - 180,
      active: true,
    }));
    const index = buildIndex(branches, []);
    for (let i = 0; i < 50; i++) {
      const lat = -17 + (rand() - 0.5) * 4;
      const lng = rand() < 0.5 ? 179.5 + rand() * 0.5 : -180 + rand() * 0.5;
      const viaTree: string[] = [];
      const viaScan: string[] = [];
      index.visitNearestBranches(lat, lng, 100_000, (b) => viaTree.push(b.code) > 10);
      index.visitNearestBranchesByScan(lat, lng, 100_000, (b) => viaScan.push(b.code) > 10);
      expect(viaTree.length).toBeGreaterThan(0);
      expect(viaTree).toEqual(viaScan);
    }
  });
});
