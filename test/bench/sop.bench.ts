/**
 * SOP planning benchmark: one province-wide occurrence over 1,000,000 customers (WeChat contacts,
 * each followed by one of 10,000 managers in 500 branches) and 50,000 customer groups, planned by
 * the same planner the sop-delivery job uses (streamed audience, cap check, chunked target inserts,
 * task list), on a fresh SQLite file and a fresh MariaDB schema.
 *
 *   nice npx tsx test/bench/sop.bench.ts        (SOP_BENCH_CUSTOMERS=200000 for a quicker run)
 *
 * Baseline (same run, same database): a bare keyset scan of the audience ids (external_contacts in
 * pages of 1,000), i.e. what streaming alone costs. Targets (issue 14): audience + task list in
 * < 60 s and memory < 300 MB (peak RSS of this process while planning).
 */

import type { DataSource } from 'typeorm';
import type { PlanFile } from '../../server/sop/plan-file';
import { planOccurrence } from '../../server/sop/planner';
import { type DbTarget, openFreshDb } from '../helpers/db';
import { type BenchResult, bulkInsert, onEachDatabase, printTable } from './lib';

const CUSTOMERS = Number(process.env.SOP_BENCH_CUSTOMERS ?? 1_000_000);
const MANAGERS = Math.max(10, Math.round(CUSTOMERS / 100));
const BRANCHES = Math.max(1, Math.round(MANAGERS / 20));
const GROUPS = Math.max(1, Math.round(CUSTOMERS / 20));
const TARGET_S = 60;
const TARGET_MB = 300;

const pad = (i: number, n = 8) => String(i).padStart(n, '0');
const mgr = (i: number) => `m${pad(i % MANAGERS, 5)}`;

async function seed(ds: DataSource, now: number) {
  await bulkInsert(
    ds,
    'branches',
    ['code', 'name', 'region_code', 'lat', 'lng', 'active', 'updated_at'],
    BRANCHES,
    (i) => [`B${pad(i, 4)}`, `网点${i}`, `R${i % 11}`, 30, 120, 1, now],
  );
  await bulkInsert(
    ds,
    'managers',
    ['userid', 'name', 'branch_code', 'role', 'capacity', 'status', 'accepting', 'skills', 'updated_at'],
    MANAGERS,
    (i) => [mgr(i), `经理${i}`, `B${pad(i % BRANCHES, 4)}`, 'manager', 200, 'active', 1, '', now],
  );
  const segments = ['代发', '高潜', '流降'];
  await bulkInsert(
    ds,
    'customers',
    ['id', 'masked_name', 'segment', 'owner_userid', 'created_at', 'updated_at'],
    CUSTOMERS,
    (i) => [`C${pad(i)}`, '客*', segments[i % 3], mgr(i), now, now],
  );
  await bulkInsert(
    ds,
    'external_contacts',
    ['external_userid', 'customer_id', 'name', 'type', 'gender', 'created_at', 'updated_at'],
    CUSTOMERS,
    (i) => [`wm${pad(i)}`, `C${pad(i)}`, '', 1, 0, now, now],
  );
  // 1 % deleted the manager: counted, never targeted.
  await bulkInsert(
    ds,
    'follows',
    ['external_userid', 'userid', 'added_at', 'deleted_at', 'deleted_by', 'half'],
    CUSTOMERS,
    (i) => [`wm${pad(i)}`, mgr(i), now - 86_400_000, i % 100 === 7 ? now : null, i % 100 === 7 ? 'customer' : null, 0],
  );
  await bulkInsert(
    ds,
    'customer_groups',
    ['chat_id', 'name', 'owner_userid', 'branch_code', 'owner_status', 'member_count', 'customer_count', 'updated_at'],
    GROUPS,
    (i) => [`wr${pad(i)}`, `群${i}`, mgr(i), `B${pad((i % MANAGERS) % BRANCHES, 4)}`, 0, 50, 45, now],
  );
}

/** Peak RSS while `fn` runs (sampled every 50 ms). */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; peakMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const t0 = performance.now();
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, seconds: (performance.now() - t0) / 1000, peakMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

async function scanIds(ds: DataSource): Promise<number> {
  let after = '';
  let n = 0;
  for (;;) {
    const rows: { external_userid: string }[] = await ds.query(
      'SELECT external_userid FROM external_contacts WHERE external_userid > ? AND type = 1 ORDER BY external_userid LIMIT 1000',
      [after],
    );
    if (!rows.length) return n;
    n += rows.length;
    after = rows[rows.length - 1].external_userid;
  }
}

async function benchTarget(target: DbTarget): Promise<BenchResult[]> {
  const db = await openFreshDb(target);
  const now = Date.UTC(2026, 11, 7, 2, 5);
  try {
    const s0 = performance.now();
    await seed(db.ds, now);
    const seedSeconds = (performance.now() - s0) / 1000;
    const base = await measured(() => scanIds(db.ds));
    const cap = { capPerDay: 1, capPerMonth: 4 };
    const plan = (channel: 'chat' | 'group', id: number) =>
      measured(() =>
        planOccurrence(db.ds, {
          plan: {
            id: `bench-${channel}`,
            name: 'bench',
            channel,
            audience: channel === 'chat' ? { customers: {} } : { groups: {} },
            schedule: '0 10 * * 1',
            template: 1,
          } as PlanFile,
          occurrence: { id, planId: `bench-${channel}`, occurrenceKey: '2026-12-07T10:00', scheduledAt: now },
          cap,
          now,
          write: true,
          ...(process.env.SOP_BENCH_PAGE ? { pageSize: Number(process.env.SOP_BENCH_PAGE) } : {}),
        }),
      );
    // Written to the database like the job does (the task rows are the task list).
    const chat = await plan('chat', 1);
    const groups = await plan('group', 2);
    const expected = CUSTOMERS - Math.floor((CUSTOMERS + 92) / 100);
    if (chat.value.targets !== expected)
      throw new Error(`chat: expected ${expected} targets, got ${chat.value.targets}`);
    if (groups.value.targets !== GROUPS)
      throw new Error(`groups: expected ${GROUPS} targets, got ${groups.value.targets}`);
    const scale = CUSTOMERS / 1_000_000;
    const label = `${target}, ${CUSTOMERS} customers / ${MANAGERS} managers`;
    return [
      { name: `sop ${label}: seed (not measured against targets)`, value: seedSeconds, unit: 's' },
      { name: `sop ${label}: baseline keyset scan of audience ids`, value: base.seconds, unit: 's' },
      {
        name: `sop ${label}: plan one-to-one occurrence (${chat.value.targets} targets, ${chat.value.tasks.length} tasks, ${chat.value.skippedDeleted} deleted skipped)`,
        value: chat.seconds,
        unit: 's',
        baseline: 'id scan',
        ratio: chat.seconds / base.seconds,
        target: `< ${TARGET_S * scale} s`,
        pass: chat.seconds < TARGET_S * scale,
      },
      {
        name: `sop ${label}: plan group occurrence (${groups.value.targets} groups, ${groups.value.tasks.length} tasks)`,
        value: groups.seconds,
        unit: 's',
        baseline: 'id scan',
        ratio: groups.seconds / base.seconds,
        target: `< ${TARGET_S * scale} s`,
        pass: groups.seconds < TARGET_S * scale,
      },
      {
        name: `sop ${label}: peak RSS while planning`,
        value: Math.max(chat.peakMb, groups.peakMb),
        unit: 'MB',
        target: `< ${TARGET_MB} MB`,
        pass: Math.max(chat.peakMb, groups.peakMb) < TARGET_MB,
      },
    ];
  } finally {
    await db.ds.destroy();
    await db.drop();
  }
}

export const run = (): Promise<BenchResult[]> => onEachDatabase('SOP_BENCH_TARGETS', benchTarget);

if (require.main === module) {
  run().then(printTable, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
