/**
 * Allocation engine benchmark on synthetic, deterministic data: 10,000 branches clustered in
 * Chinese cities, 10 managers each, customers mostly located near those cities.
 *
 *   npx tsx test/bench/allocation.bench.ts
 *
 * Targets (from issue 5): decide() median under 200 µs, 1,000,000 bulk decisions under 60 s.
 * Figures are measured here and never asserted in unit tests.
 */
import {
  type AllocationIndex,
  type Branch,
  buildIndex,
  commit,
  decide,
  type EngineCustomer,
  type Manager,
  parseRuleSet,
  type RuleSet,
} from '../../server/allocation';

import { seededRandom } from '../../server/lib/seeded-random';
import type { BenchResult } from './lib';

const BRANCHES = 10_000;
const MANAGERS_PER_BRANCH = 10;
const BULK_DECISIONS = 1_000_000;
const LATENCY_SAMPLES = 20_000;
const SCAN_SAMPLES = 1_000;

const CITIES = [
  { region: '110000', lat: 39.9042, lng: 116.4074, weight: 10 },
  { region: '310000', lat: 31.2304, lng: 121.4737, weight: 10 },
  { region: '440100', lat: 23.1291, lng: 113.2644, weight: 7 },
  { region: '440300', lat: 22.5431, lng: 114.0579, weight: 7 },
  { region: '330100', lat: 30.2741, lng: 120.1551, weight: 6 },
  { region: '320100', lat: 32.0603, lng: 118.7969, weight: 5 },
  { region: '510100', lat: 30.5728, lng: 104.0668, weight: 5 },
  { region: '420100', lat: 30.5928, lng: 114.3055, weight: 4 },
  { region: '610100', lat: 34.3416, lng: 108.9398, weight: 3 },
  { region: '370200', lat: 36.0671, lng: 120.3826, weight: 3 },
];
const TOTAL_WEIGHT = CITIES.reduce((s, c) => s + c.weight, 0);

/** Standard normal by Box–Muller; cities are denser in the middle. */
function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function pickCity(rand: () => number): (typeof CITIES)[number] {
  let r = rand() * TOTAL_WEIGHT;
  for (const c of CITIES) {
    r -= c.weight;
    if (r < 0) return c;
  }
  return CITIES[CITIES.length - 1];
}

interface Data {
  branches: Branch[];
  managers: Manager[];
  ruleSet: RuleSet;
}

function makeData(seed: number): Data {
  const rand = seededRandom(seed);
  const branches: Branch[] = [];
  const managers: Manager[] = [];
  for (let i = 0; i < BRANCHES; i++) {
    const city = pickCity(rand);
    const rural = rand() < 0.1;
    const spread = rural ? 1.5 : 0.12;
    branches.push({
      code: `BR${String(i).padStart(5, '0')}`,
      name: `${city.region}-${i}`,
      lat: city.lat + gaussian(rand) * spread,
      lng: city.lng + gaussian(rand) * spread,
      regionCode: city.region,
      active: rand() > 0.01,
    });
  }
  for (const b of branches) {
    for (let k = 0; k < MANAGERS_PER_BRANCH; k++) {
      const capacity = 50 + Math.floor(rand() * 450);
      const s = rand();
      managers.push({
        userid: `${b.code}-${k}`,
        name: `m${k}`,
        branchCode: b.code,
        role: k === 0 ? 'branch_lead' : k === 9 ? 'operator' : 'manager',
        capacity,
        load: Math.floor(rand() * capacity * 1.1),
        status: s < 0.9 ? 'active' : s < 0.97 ? 'leave' : 'resigned',
        accepting: rand() < 0.03 ? false : undefined,
        skills: rand() < 0.2 ? ['wealth'] : [],
      });
    }
  }
  const ruleSet = parseRuleSet({
    version: 'bench-1',
    maxDistanceMeters: 50_000,
    fallback: {
      userids: managers
        .slice(0, 200)
        .filter((_, i) => i % 10 === 1)
        .map((m) => m.userid),
    },
    segmentRouting: [{ segment: '高潜', requireSkill: 'wealth' }],
    closedBranches: branches.filter((_, i) => i % 97 === 0).map((b) => b.code),
    regionCentroids: Object.fromEntries(CITIES.slice(0, 5).map((c) => [c.region, { lat: c.lat, lng: c.lng }])),
  });
  return { branches, managers, ruleSet };
}

/**
 * Customers as parallel typed arrays so a million of them cost a few tens of MB;
 * Customer objects are made one at a time in the loop, as an importer would.
 */
interface CustomerSource {
  readonly count: number;
  get(i: number): EngineCustomer;
}

function makeCustomers(seed: number, count: number, managers: readonly Manager[]): CustomerSource {
  const rand = seededRandom(seed);
  const lat = new Float64Array(count);
  const lng = new Float64Array(count);
  const kind = new Uint8Array(count); // 0 coordinates, 1 owner + coordinates, 2 region only, 3 nothing
  const city = new Uint8Array(count);
  const owner = new Int32Array(count);
  const segment = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = pickCity(rand);
    const k = rand();
    kind[i] = k < 0.85 ? 0 : k < 0.93 ? 1 : k < 0.98 ? 2 : 3;
    city[i] = CITIES.indexOf(c);
    const spread = rand() < 0.05 ? 2 : 0.2;
    lat[i] = c.lat + gaussian(rand) * spread;
    lng[i] = c.lng + gaussian(rand) * spread;
    owner[i] = Math.floor(rand() * managers.length);
    segment[i] = rand() < 0.15 ? 1 : 0;
  }
  return {
    count,
    get(i: number): EngineCustomer {
      const k = kind[i];
      return {
        customerId: `C${i}`,
        segment: segment[i] ? '高潜' : null,
        ownerUserid: k === 1 ? managers[owner[i]].userid : null,
        lat: k <= 1 ? lat[i] : null,
        lng: k <= 1 ? lng[i] : null,
        regionCode: k === 2 ? CITIES[city[i]].region : null,
      };
    },
  };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function timeEach(
  customers: CustomerSource,
  n: number,
  index: AllocationIndex,
  rs: RuleSet,
  search: 'index' | 'scan',
): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = customers.get(i);
    const t = performance.now();
    decide(c, index, rs, { search });
    out[i] = (performance.now() - t) * 1000;
  }
  return out.sort();
}

export async function run(): Promise<BenchResult[]> {
  const data = makeData(20261123);
  const results: BenchResult[] = [];

  const builds: number[] = [];
  let index = buildIndex(data.branches, data.managers);
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    index = buildIndex(data.branches, data.managers);
    builds.push(performance.now() - t);
  }
  builds.sort((a, b) => a - b);
  results.push({
    name: `allocation: buildIndex (${BRANCHES} branches, ${data.managers.length} managers)`,
    value: round(builds[1], 1),
    unit: 'ms',
  });

  const sample = makeCustomers(7, LATENCY_SAMPLES, data.managers);
  timeEach(sample, 5_000, index, data.ruleSet, 'index'); // JIT warm-up
  const indexed = timeEach(sample, LATENCY_SAMPLES, index, data.ruleSet, 'index');
  const median = percentile(indexed, 0.5);
  results.push({
    name: 'allocation: decide() median',
    value: round(median, 2),
    unit: 'µs',
    target: '< 200 µs',
    pass: median < 200,
  });
  results.push({ name: 'allocation: decide() p99', value: round(percentile(indexed, 0.99), 2), unit: 'µs' });

  timeEach(sample, 200, index, data.ruleSet, 'scan');
  const scanned = timeEach(sample, SCAN_SAMPLES, index, data.ruleSet, 'scan');
  const scanMedian = percentile(scanned, 0.5);
  results.push({
    name: `allocation: brute-force scan median (${SCAN_SAMPLES} decisions)`,
    value: round(scanMedian, 2),
    unit: 'µs',
    baseline: 'same-run linear scan of all branches',
    ratio: round(scanMedian / median, 1),
  });

  const bulk = makeCustomers(11, BULK_DECISIONS, data.managers);
  const bulkIndex = buildIndex(data.branches, data.managers);
  const counts = { owner: 0, nearest_branch: 0, fallback: 0, added_manager: 0, none: 0 };
  const t = performance.now();
  for (let i = 0; i < bulk.count; i++) {
    const d = decide(bulk.get(i), bulkIndex, data.ruleSet);
    commit(bulkIndex, d);
    counts[d.reason]++;
  }
  const seconds = (performance.now() - t) / 1000;
  results.push({
    name: `allocation: ${BULK_DECISIONS.toLocaleString('en')} bulk decisions with commit`,
    value: round(seconds, 2),
    unit: 's',
    target: '< 60 s',
    pass: seconds < 60,
  });
  for (const [reason, n] of Object.entries(counts)) {
    results.push({ name: `allocation: bulk mix ${reason}`, value: round((100 * n) / bulk.count, 2), unit: '%' });
  }
  return results;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function printTable(results: BenchResult[]): void {
  const rows = results.map((r) => [
    r.name,
    `${r.value} ${r.unit}`,
    r.target ?? '',
    r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL',
    r.ratio === undefined ? '' : `${r.ratio}× vs ${r.baseline}`,
  ]);
  const header = ['benchmark', 'value', 'target', 'result', 'baseline'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

if (require.main === module) {
  run().then(
    (results) => {
      printTable(results);
      process.exitCode = results.every((r) => r.pass !== false) ? 0 : 1;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 2;
    },
  );
}
