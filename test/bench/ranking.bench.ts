/**
 * Script ranking for one customer over 10,000 library scripts plus 100,000 personal ones (of 5,000
 * managers), in memory through TemplateIndex (server/playbook/template-index.ts): the buckets by
 * channel / stage / segment and the manager's own scripts, then ranking.ts with reasons, variant
 * choice by Thompson sampling and conversion statistics for every script.
 *
 *   npx tsx test/bench/ranking.bench.ts
 *
 * Target (issue 12): p99 < 10 ms. Baseline in the same run: ranking by a full scan of all 110,000
 * scripts (filter, then the same ranking), so the ratio shows what the index saves.
 */
import { seededRandom } from '../../server/lib/seeded-random';
import { rankTemplates } from '../../server/playbook/ranking';
import { TemplateIndex } from '../../server/playbook/template-index';
import type { TemplateCustomer } from '../../server/playbook/types';
import type { PerformanceSnapshot, VariantStats } from '../../server/playbook/variant-performance';
import { generateLibrary } from '../helpers/template-library';
import { type BenchResult, printTable } from './lib';

const LIBRARY = 10_000;
const PERSONAL = 100_000;
const MANAGERS = 5_000;
const REQUESTS = 3_000;
const BASELINE_REQUESTS = 200;
const TARGET_P99_MS = 10;
const SEGMENTS = ['代发', '高潜', '流降', null];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function run(): Promise<BenchResult[]> {
  const all = generateLibrary(LIBRARY, PERSONAL, MANAGERS, 42);
  const r = seededRandom(7);
  const byTemplate = new Map<number, VariantStats>();
  for (const t of all) {
    const sends = Math.floor(r() * 400);
    byTemplate.set(t.id, { sends, conversions: Math.floor(sends * r() * 0.2), churns: Math.floor(sends * r() * 0.02) });
  }
  const performance_: PerformanceSnapshot = { byTemplate, baseline: 0.1 };
  const env = { campaignProducts: new Set(['基金定投']), performance: performance_ };
  const now = 10_000;

  const t0 = performance.now();
  const index = new TemplateIndex(all);
  const buildMs = performance.now() - t0;

  const request = (i: number) => {
    const manager = `m${(i * 7919) % MANAGERS}`;
    const customer: TemplateCustomer = {
      externalUserId: `wm${i}`,
      maskedName: '王*明',
      gender: 1,
      segment: SEGMENTS[i % SEGMENTS.length]!,
      bankTags: i % 3 === 0 ? ['代发工资'] : [],
      usedTemplateIds: [1 + (i % 1000), 2 + (i % 3000)],
    };
    return { manager, customer, stage: 1 + (i % 4) };
  };

  // Warm-up (JIT), then the measured runs.
  for (let i = 0; i < 300; i++) {
    const q = request(i);
    index.rank({ managerUserid: q.manager, stage: q.stage, customer: q.customer, now }, env);
  }
  const times: number[] = [];
  let candidates = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const q = request(i + 1000);
    const s = performance.now();
    const ranked = index.rank({ managerUserid: q.manager, stage: q.stage, customer: q.customer, now }, env);
    times.push(performance.now() - s);
    if (ranked.length === 0) throw new Error('no suggestion');
    if (i < 100) {
      candidates += index.candidates({
        channel: 'chat',
        managerUserid: q.manager,
        stage: q.stage,
        customer: q.customer,
        now,
      }).length;
    }
  }
  times.sort((a, b) => a - b);

  const scanTimes: number[] = [];
  for (let i = 0; i < BASELINE_REQUESTS; i++) {
    const q = request(i + 1000);
    const s = performance.now();
    const scan = all.filter(
      (t) =>
        t.channel === 'chat' &&
        (t.expiresAt === null || t.expiresAt > now) &&
        (t.ownerUserid === q.manager ||
          (t.ownerUserid === null && (t.stage === null || Math.abs(t.stage - q.stage) <= 1))),
    );
    rankTemplates(scan, q.customer, q.stage, '', env, 20);
    scanTimes.push(performance.now() - s);
  }
  scanTimes.sort((a, b) => a - b);
  const scanP50 = percentile(scanTimes, 50);
  const p50 = percentile(times, 50);
  const p99 = percentile(times, 99);
  const label = `${LIBRARY.toLocaleString('en')} library + ${PERSONAL.toLocaleString('en')} personal scripts`;
  return [
    { name: `index build, ${label}`, value: buildMs, unit: 'ms' },
    { name: 'scripts read per ranking (mean)', value: candidates / 100, unit: 'scripts' },
    { name: `full-scan ranking p50 (baseline), ${label}`, value: scanP50, unit: 'ms' },
    { name: 'indexed ranking p50', value: p50, unit: 'ms', baseline: 'full-scan p50', ratio: p50 / scanP50 },
    {
      name: `indexed ranking p99, ${label}`,
      value: p99,
      unit: 'ms',
      target: `< ${TARGET_P99_MS} ms`,
      pass: p99 < TARGET_P99_MS,
    },
  ];
}

if (require.main === module) {
  run().then(printTable, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
