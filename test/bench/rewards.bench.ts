/**
 * Reward outbox (issue 14): REWARDS_BENCH_ROWS (default 10,000) queued rewards delivered to a local
 * receiver (its own process, test/bench/reward-receiver-child.js) that verifies each signature,
 * accepts each idempotency key once and fails 20 % of requests with 503. Two senders (two holders,
 * as two instances would; REWARDS_BENCH_SENDERS) run deliverDueRewards side by side over one database; a pass ends when
 * both are done, then the clock moves past the backoff and the next pass retries what failed.
 * Passes: every reward sent, the receiver saw exactly ROWS distinct keys and no duplicate.
 *
 *   npx tsx test/bench/rewards.bench.ts      (or: npm run bench -- rewards)
 *   REWARDS_BENCH_SENDERS=1 npx tsx test/bench/rewards.bench.ts   (how throughput scales with senders)
 *
 * Baseline in the same run: the same number of signed POSTs straight to the receiver (two lanes,
 * no failures, no database), so the ratio is what the outbox (claim, record, retry) costs on top
 * of the HTTP itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { deliverDueRewards } from '../../server/campaigns/delivery';
import { rewardPoster } from '../../server/campaigns/http';
import { signReward } from '../../server/campaigns/signature';
import { type DbTarget, openFreshDb } from '../helpers/db';
import { type BenchResult, freePort, printTable, ROOT } from './lib';

const ROWS = Number(process.env.REWARDS_BENCH_ROWS ?? 10_000);
const FAIL_RATE = 0.2;
const SECRET = 'reward-bench-secret-0123456789';
const SENDERS = Number(process.env.REWARDS_BENCH_SENDERS ?? 2);
/** 2026-12-01 00:00 bank time. */
const BASE = Date.UTC(2026, 10, 30, 16, 0, 0);

interface ReceiverStats {
  total: number;
  failed: number;
  accepted: number;
  duplicates: number;
  badSignatures: number;
  distinct: number;
}

async function startReceiver(): Promise<{ url: string; child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'test/bench/reward-receiver-child.js')], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), REWARD_SECRET: SECRET, FAIL_RATE: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(child.stdout!, 'data');
  const base = `http://127.0.0.1:${port}`;
  return { url: `${base}/rewards`, child, base };
}

const call = async (url: string, method = 'GET') => (await fetch(url, { method })).json();

const body = (i: number) =>
  JSON.stringify({
    idempotencyKey: `campaign:bench:wm${i}`,
    type: 'campaign',
    campaign: { code: 'bench', name: '立减金' },
    reward: { kind: 'voucher', amount: 10 },
    customer: { externalUserid: `wm${i}`, unionid: null, customerId: null },
    manager: { userid: `m${i % 500}` },
    branch: { code: `B${i % 50}` },
    addedAt: new Date(BASE).toISOString(),
  });

async function seed(db: DataSource): Promise<void> {
  const cols = [
    'idempotency_key',
    'campaign_code',
    'external_userid',
    'body',
    'status',
    'attempts',
    'next_attempt_at',
    'created_at',
    'updated_at',
  ];
  const per = 500;
  await db.transaction(async (tx) => {
    for (let start = 0; start < ROWS; start += per) {
      const n = Math.min(per, ROWS - start);
      const params: unknown[] = [];
      for (let i = start; i < start + n; i++)
        params.push(`campaign:bench:wm${i}`, 'bench', `wm${i}`, body(i), 'pending', 0, BASE, BASE, BASE);
      const tuple = `(${cols.map(() => '?').join(',')})`;
      await tx.query(`INSERT INTO reward_outbox (${cols.join(',')}) VALUES ${Array(n).fill(tuple).join(',')}`, params);
    }
  });
}

/** ROWS signed POSTs in SENDERS lanes, straight to the receiver. */
async function baseline(url: string): Promise<number> {
  const post = rewardPoster(undefined);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      for (let i = next++; i < ROWS; i = next++) {
        const raw = body(i);
        const ts = String(Math.floor(BASE / 1000));
        const res = await post(url, raw, {
          'content-type': 'application/json',
          'x-reward-timestamp': ts,
          'x-reward-signature': signReward(SECRET, ts, raw),
        });
        if (res.status !== 200) throw new Error(`baseline POST answered ${res.status}`);
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

async function benchTarget(target: DbTarget, r: { url: string; base: string }): Promise<BenchResult[]> {
  const db = await openFreshDb(target);
  try {
    await seed(db.ds);
    await call(`${r.base}/reset`, 'POST');
    await call(`${r.base}/fail-rate/0`, 'POST');
    const baseSeconds = await baseline(r.url);
    await call(`${r.base}/reset`, 'POST');
    await call(`${r.base}/fail-rate/${FAIL_RATE}`, 'POST');

    const clock = { now: BASE };
    const post = rewardPoster(undefined);
    let passes = 0;
    const t0 = performance.now();
    for (; passes < 30; passes++) {
      await Promise.all(
        Array.from({ length: SENDERS }, (_, s) =>
          deliverDueRewards(db.ds, {
            url: r.url,
            secret: SECRET,
            maxAttempts: 20,
            holder: `bench-${s}-${passes}`,
            now: () => clock.now,
            post,
            limit: ROWS,
          }),
        ),
      );
      const pending = Number(
        (await db.ds.query(`SELECT COUNT(*) AS n FROM reward_outbox WHERE status <> 'sent'`))[0].n,
      );
      if (pending === 0) break;
      clock.now += 7 * 3_600_000; // past every backoff (≤ 6 h)
    }
    const seconds = (performance.now() - t0) / 1000;
    const stats = (await call(`${r.base}/stats`)) as ReceiverStats;
    const sent = Number((await db.ds.query(`SELECT COUNT(*) AS n FROM reward_outbox WHERE status = 'sent'`))[0].n);
    const exactlyOnce = sent === ROWS && stats.distinct === ROWS && stats.duplicates === 0 && stats.badSignatures === 0;
    const label = `rewards ${ROWS}, ${FAIL_RATE * 100}% failing, ${SENDERS} senders, ${target}`;
    return [
      { name: `${label}: signed POSTs alone (baseline)`, value: ROWS / baseSeconds, unit: 'req/s' },
      {
        name: `${label}: delivered through the outbox`,
        value: ROWS / seconds,
        unit: 'rewards/s',
        baseline: 'POSTs alone',
        ratio: ROWS / seconds / (ROWS / baseSeconds),
      },
      {
        name: `${label}: requests (${stats.failed} answered 503) over ${passes + 1} passes`,
        value: stats.total,
        unit: 'req',
      },
      {
        name: `${label}: distinct keys accepted (duplicates ${stats.duplicates})`,
        value: stats.distinct,
        unit: 'keys',
        target: `= ${ROWS}, 0 duplicates, all sent`,
        pass: exactlyOnce,
      },
    ];
  } finally {
    await db.ds.destroy();
    await db.drop();
  }
}

export async function run(): Promise<BenchResult[]> {
  const r = await startReceiver();
  try {
    const results: BenchResult[] = [];
    for (const target of ['sqlite', 'mariadb'] as const) results.push(...(await benchTarget(target, r)));
    return results;
  } finally {
    r.child.kill('SIGTERM');
  }
}

if (require.main === module) {
  run().then(printTable, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
