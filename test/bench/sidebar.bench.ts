/**
 * Sidebar card latency at bank scale: 1,000,000 customers, 100,000 WeCom contacts each followed by
 * one of 5,000 managers, ~200,000 contact tags, 100,000 touches, 100,000 allocations, 200 templates
 * (in variant groups of four wordings, with products) and 20,000 outcomes credited to sends, so the
 * card's ranking runs with its conversion statistics and Thompson sampling (issue 12), in a fresh MariaDB schema (and SQLite for comparison). Requests go through the real app
 * (session check, authorization, card queries, template ranking, response schema) with inject(), so
 * the figure is server time without the network.
 *
 *   npx tsx test/bench/sidebar.bench.ts     (SIDEBAR_BENCH_CUSTOMERS / SIDEBAR_BENCH_FOLLOWS to scale,
 *                                            SIDEBAR_BENCH_DBS=mariadb for the target database only)
 *
 * Target (issue 7): card p99 < 30 ms on MySQL/MariaDB. Baseline in the same run: GET /api/sidebar/me
 * (session + one primary-key lookup), so the ratio says what the card adds.
 */
import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import { build } from '../../server/app';
import { SESSION_COOKIE, signSession } from '../../server/sidebar/session';
import { type DbTarget, openFreshDb, testConfig } from '../helpers/db';
import { type BenchResult, printTable } from './lib';

const CUSTOMERS = Number(process.env.SIDEBAR_BENCH_CUSTOMERS ?? 1_000_000);
const FOLLOWS = Number(process.env.SIDEBAR_BENCH_FOLLOWS ?? 100_000);
const MANAGERS = 5_000;
const BRANCHES = 100;
const REQUESTS = 2_000;
const WARMUP = 200;
const CONCURRENCY = 8;
const TARGET_P99_MS = 30;
const SECRET = 'bench-session-secret-0123456789abcdef';

/** Multi-row INSERTs under the placeholder limit of both drivers. */
async function bulkInsert(db: DataSource, table: string, cols: string[], rows: number, row: (i: number) => unknown[]) {
  const perBatch = Math.floor(30_000 / cols.length);
  for (let start = 0; start < rows; start += perBatch) {
    const n = Math.min(perBatch, rows - start);
    const params: unknown[] = [];
    for (let i = start; i < start + n; i++) params.push(...row(i));
    const tuple = `(${cols.map(() => '?').join(',')})`;
    await db.query(`INSERT INTO ${table} (${cols.join(',')}) VALUES ${Array(n).fill(tuple).join(',')}`, params);
  }
}

const mgr = (i: number) => `m${i % MANAGERS}`;
const ext = (i: number) => `wmBench${String(i).padStart(7, '0')}`;
/** Contact i is linked to customer i * (CUSTOMERS / FOLLOWS), so linked customers spread over the table. */
const custOf = (i: number) => `C${String(Math.floor((i * CUSTOMERS) / FOLLOWS)).padStart(9, '0')}`;

export async function seed(db: DataSource): Promise<void> {
  const now = Date.now();
  const segments = ['代发', '高潜', '流降'];
  await db.transaction(async (tx) => {
    const q = tx as unknown as DataSource;
    await bulkInsert(q, 'branches', ['code', 'name', 'lat', 'lng', 'active', 'updated_at'], BRANCHES, (i) => [
      `B${i}`,
      `网点${i}`,
      30 + i / 100,
      120 + i / 100,
      1,
      now,
    ]);
    await bulkInsert(
      q,
      'managers',
      ['userid', 'name', 'branch_code', 'role', 'capacity', 'status', 'accepting', 'skills', 'updated_at'],
      MANAGERS,
      (i) => [`m${i}`, `经理${i}`, `B${i % BRANCHES}`, 'manager', 200, 'active', 1, '', now],
    );
    await bulkInsert(
      q,
      'customers',
      [
        'id',
        'masked_name',
        'phone_hash',
        'segment',
        'owner_userid',
        'lat',
        'lng',
        'region_code',
        'bank_tags',
        'created_at',
        'updated_at',
      ],
      CUSTOMERS,
      (i) => [
        `C${String(i).padStart(9, '0')}`,
        `王*${i % 10}`,
        `h${i}`,
        segments[i % 3],
        i % 3 === 0 ? `m${i % MANAGERS}` : null,
        30,
        120,
        '330106',
        '["代发工资","基金定投"]',
        now,
        now,
      ],
    );
    await bulkInsert(
      q,
      'external_contacts',
      ['external_userid', 'customer_id', 'name', 'type', 'gender', 'matched_by', 'created_at', 'updated_at'],
      FOLLOWS,
      (i) => [ext(i), custOf(i), '', 1, 1 + (i % 2), 'state', now, now],
    );
    await bulkInsert(q, 'follows', ['external_userid', 'userid', 'added_at', 'half'], FOLLOWS, (i) => [
      ext(i),
      mgr(i),
      now,
      0,
    ]);
    const tags = Array.from({ length: 30 }, (_, i) => i);
    await bulkInsert(
      q,
      'tags',
      ['id', 'group_id', 'group_name', 'name', 'sort_order', 'deleted', 'updated_at'],
      tags.length,
      (i) => [`t${i}`, `g${i % 5}`, `分组${i % 5}`, `标签${i}`, i, 0, now],
    );
    await bulkInsert(q, 'contact_tags', ['external_userid', 'userid', 'tag_id', 'created_at'], FOLLOWS * 2, (j) => {
      const i = j >> 1;
      return [ext(i), mgr(i), `t${(i + (j & 1) * 7) % 30}`, now];
    });
    await bulkInsert(
      q,
      'script_templates',
      [
        'title',
        'content',
        'stage',
        'segments',
        'owner_userid',
        'status',
        'channel',
        'variant_group',
        'variant',
        'product',
        'created_by',
        'created_at',
        'updated_at',
      ],
      200,
      (i) => [
        `话术${i}`,
        `{{客户称呼}}您好，我是{{网点}}的{{客户经理}}，这是第${i}号话术。`,
        1 + (i % 4),
        i % 5 === 0 ? '' : segments[i % 3],
        i % 20 === 0 ? mgr(i) : null,
        'approved',
        'chat',
        i % 20 === 0 ? null : `grp${i >> 2}`,
        i % 20 === 0 ? null : 'ABCD'[i % 4],
        ['稳享理财', '基金定投', null][i % 3],
        'bench',
        now,
        now,
      ],
    );
    await bulkInsert(
      q,
      'touches',
      ['external_userid', 'userid', 'template_id', 'stage', 'channel', 'sent_at'],
      FOLLOWS,
      (i) => [ext(i), mgr(i), 1 + (i % 200), 1, 'send', now - i],
    );
    await bulkInsert(
      q,
      'outcomes',
      ['dedup_key', 'customer_id', 'event', 'occurred_at', 'touch_id', 'template_id', 'userid', 'imported_at'],
      FOLLOWS / 5,
      (j) => {
        const i = j * 5;
        return [`bench${j}`, custOf(i), '开户', now, i + 1, 1 + (i % 200), mgr(i), now];
      },
    );
    await bulkInsert(
      q,
      'allocations',
      [
        'id',
        'customer_id',
        'external_userid',
        'userid',
        'branch_code',
        'rule_version',
        'source',
        'reason',
        'explanation',
        'status',
        'created_at',
      ],
      FOLLOWS,
      (i) => [
        `al${i}`,
        custOf(i),
        ext(i),
        mgr(i),
        `B${i % BRANCHES}`,
        'v1',
        'entry',
        'nearest',
        JSON.stringify({ summaryZh: `最近网点 网点${i % BRANCHES}，该网点负载最低的客户经理 ${mgr(i)}` }),
        'confirmed',
        now,
      ],
    );
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Latencies of `count` requests, `concurrency` in flight; every answer must be 200. */
async function measure(
  app: FastifyInstance,
  count: number,
  concurrency: number,
  req: (i: number) => { url: string; cookie: string },
) {
  const times: number[] = [];
  let next = 0;
  async function worker() {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const { url, cookie } = req(i);
      const t0 = performance.now();
      const res = await app.inject({ method: 'GET', url, headers: { cookie } });
      times.push(performance.now() - t0);
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return times.sort((a, b) => a - b);
}

async function benchTarget(target: DbTarget): Promise<BenchResult[]> {
  const fresh = await openFreshDb(target);
  let app: FastifyInstance | undefined;
  try {
    const t0 = performance.now();
    await seed(fresh.ds);
    const seedSeconds = (performance.now() - t0) / 1000;
    app = await build(testConfig(fresh.url, { SESSION_SECRET: SECRET }), { db: fresh.ds });
    await app.ready();
    const cookies = new Map<string, string>();
    const cookieFor = (userid: string) => {
      let c = cookies.get(userid);
      if (!c) {
        const token = signSession({ userid, role: 'manager', branchCode: '', exp: Date.now() + 3_600_000 }, SECRET);
        c = `${SESSION_COOKIE}=${token}`;
        cookies.set(userid, c);
      }
      return c;
    };
    // Pseudo-random contacts (fixed stride) so caches do not flatter the figure.
    const pick = (i: number) => (i * 7919 + 13) % FOLLOWS;
    const card = (i: number) => ({ url: `/api/sidebar/customers/${ext(pick(i))}`, cookie: cookieFor(mgr(pick(i))) });
    const me = (i: number) => ({ url: '/api/sidebar/me', cookie: cookieFor(mgr(pick(i))) });

    await measure(app, WARMUP, 1, card);
    const meTimes = await measure(app, REQUESTS, 1, me);
    const cardTimes = await measure(app, REQUESTS, 1, card);
    const cardConc = await measure(app, REQUESTS, CONCURRENCY, card);
    const meP50 = percentile(meTimes, 50);
    const label = `${target}, ${CUSTOMERS.toLocaleString('en')} customers / ${FOLLOWS.toLocaleString('en')} follows`;
    const isMysql = target === 'mariadb';
    const p99 = percentile(cardTimes, 99);
    const p99c = percentile(cardConc, 99);
    return [
      { name: `sidebar seed, ${label}`, value: seedSeconds, unit: 's' },
      { name: `GET /me p50 (baseline), ${target}`, value: meP50, unit: 'ms' },
      {
        name: `GET card p50, ${target}`,
        value: percentile(cardTimes, 50),
        unit: 'ms',
        baseline: 'GET /me p50',
        ratio: percentile(cardTimes, 50) / meP50,
      },
      {
        name: `GET card (with ranking) p99, sequential, ${label}`,
        value: p99,
        unit: 'ms',
        ...(isMysql ? { target: `< ${TARGET_P99_MS} ms`, pass: p99 < TARGET_P99_MS } : {}),
      },
      // Information, not the target: in one process, each of N requests in flight also waits for the
      // other N-1 on the same event loop; a deployment adds processes, not in-flight requests per loop.
      { name: `GET card p99, ${CONCURRENCY} in flight in one process, ${target}`, value: p99c, unit: 'ms' },
    ];
  } finally {
    await app?.close();
    await fresh.ds.destroy();
    await fresh.drop();
  }
}

/** SIDEBAR_BENCH_DBS=mariadb runs the target database only (default: mariadb,sqlite). */
const DBS = (process.env.SIDEBAR_BENCH_DBS ?? 'mariadb,sqlite')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is DbTarget => s === 'mariadb' || s === 'sqlite');

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const target of DBS) results.push(...(await benchTarget(target)));
  return results;
}

if (require.main === module) {
  run().then(printTable, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
