/**
 * Moments (客户朋友圈) at province scale: one occurrence of a moments plan for 10,000 managers in
 * 500 branches, planned and dispatched by the sop-delivery job against the sandbox's fake WeCom
 * (in process, through the real client with its per-API rate limiter), then every sender
 * publishes and one poll reads it back. On a fresh SQLite file and a fresh MariaDB schema.
 *
 *   nice npx tsx test/bench/moments.bench.ts      (MOMENTS_BENCH_MANAGERS=2000 for a quicker run)
 *
 * WeCom allows 10 add_moment_task calls a minute per corp, so the time a province-wide post takes
 * to reach every manager is set by the number of calls: one per sender needed 10,000 calls
 * (1,000 minutes ≈ 17 h at the quota); one call carries up to SOP_MOMENT_SENDERS_PER_TASK senders.
 * Baseline (same run, same database): a bare read of the occurrence's task rows.
 * Target: every sender's task open after one job run (≤ 10 add_moment_task calls: one minute of quota).
 */

import type { DataSource } from 'typeorm';
import { DEFAULT_SOP_CONFIG } from '../../server/config';
import { ScriptTemplate, SopTask } from '../../server/db/entities';
import { buildFakeWecom } from '../../server/sandbox/fake-wecom';
import { runSopDelivery, type SopDeps } from '../../server/sop/delivery';
import { applyPlan } from '../../server/sop/service';
import { WecomClient } from '../../server/wecom/client';
import { injectAdapter } from '../../server/wecom/inject-adapter';
import { MemorySecretStore } from '../../server/wecom/token-cache';
import { type DbTarget, openFreshDb } from '../helpers/db';
import { type BenchResult, bulkInsert, onEachDatabase, printTable } from './lib';

const MANAGERS = Number(process.env.MOMENTS_BENCH_MANAGERS ?? 10_000);
const BRANCHES = Math.max(1, Math.round(MANAGERS / 20));
const BASE = 'http://fake.wecom.bench';
const QUOTA_PER_MINUTE = 10;

const pad = (i: number, n = 5) => String(i).padStart(n, '0');
const userid = (i: number) => `m${pad(i)}`;

async function seed(ds: DataSource, now: number) {
  await bulkInsert(
    ds,
    'branches',
    ['code', 'name', 'region_code', 'lat', 'lng', 'active', 'updated_at'],
    BRANCHES,
    (i) => [`B${pad(i, 4)}`, `网点${i}`, `R${i % 11}`, 30, 120, true, now],
  );
  await bulkInsert(
    ds,
    'managers',
    ['userid', 'name', 'branch_code', 'role', 'capacity', 'status', 'accepting', 'skills', 'updated_at'],
    MANAGERS,
    (i) => [userid(i), `经理${i}`, `B${pad(i % BRANCHES, 4)}`, 'manager', 500, 'active', true, '', now],
  );
  // One served customer each: momentSenders takes managers with at least one relation.
  await bulkInsert(
    ds,
    'follows',
    ['external_userid', 'userid', 'state', 'remark', 'added_at', 'half'],
    MANAGERS,
    (i) => [`wm${pad(i, 8)}`, userid(i), null, null, now, false],
  );
  const t = await ds.manager.insert(ScriptTemplate, {
    title: '周末理财小课堂',
    content: '周末理财小课堂开讲啦，欢迎来网点参加。',
    stage: null,
    segments: '',
    product: null,
    variant: null,
    ownerUserid: null,
    status: 'approved',
    expiresAt: null,
    disclaimer: null,
    attachments: null,
    channel: 'moments',
    createdBy: 'bench',
    createdAt: now,
    updatedAt: now,
  });
  return t.identifiers[0].id as number;
}

async function benchTarget(target: DbTarget): Promise<BenchResult[]> {
  const db = await openFreshDb(target);
  // Monday 2026-12-07 10:01 China time: the plan's 10:00 tick is due.
  const clock = { now: Date.UTC(2026, 11, 7, 2, 1) };
  const fake = buildFakeWecom({
    corpId: 'wwbenchcorp0001',
    agentId: '1000002',
    agentSecret: 'bench-agent-secret',
    contactSecret: 'bench-contact-secret',
    now: () => clock.now,
    seed: {
      users: Array.from({ length: MANAGERS }, (_, i) => ({
        userid: userid(i),
        name: `经理${i}`,
        department: [1],
        main_department: 1,
        status: 1,
      })),
      departments: [{ id: 1, name: '总行', parentid: 0, order: 1 }],
    },
  });
  const server = await fake.instance();
  const client = new WecomClient({
    corpId: 'wwbenchcorp0001',
    agentId: '1000002',
    agentSecret: 'bench-agent-secret',
    contactSecret: 'bench-contact-secret',
    apiBase: BASE,
    store: new MemorySecretStore(),
    now: () => clock.now,
    adapter: injectAdapter(
      server,
      () => BASE,
      () => BASE,
    ),
  });
  try {
    const template = await seed(db.ds, clock.now - 3_600_000);
    await applyPlan(
      db.ds,
      {
        id: 'province-moments',
        name: '全省周末理财小课堂',
        channel: 'moments',
        audience: { customers: {} },
        schedule: '0 10 * * 1',
        template,
      },
      { actor: 'bench', now: clock.now - 3_600_000, apply: true },
    );
    const deps: SopDeps = {
      db: db.ds,
      wecom: client,
      now: () => clock.now,
      config: { ...DEFAULT_SOP_CONFIG, quietHours: null },
      agentId: '1000002',
      publicBaseUrl: 'https://bank.example',
      holder: 'bench',
    };
    const t0 = performance.now();
    await runSopDelivery(deps);
    const dispatchS = (performance.now() - t0) / 1000;
    const b0 = performance.now();
    const rows: { status: string }[] = await db.ds.query('SELECT status FROM sop_tasks');
    const baseS = (performance.now() - b0) / 1000;
    const open = rows.filter((r) => r.status === 'open').length;
    const calls = fake.count('externalcontact/add_moment_task');
    const cards = fake.count('message/send');

    for (const m of fake.massSend.moments.values()) for (const u of m.senders) fake.massSend.publish(m.jobid, u);
    clock.now += DEFAULT_SOP_CONFIG.pollMs + 60_000;
    const p0 = performance.now();
    await runSopDelivery(deps);
    const pollS = (performance.now() - p0) / 1000;
    const done = await db.ds.manager.count(SopTask, { where: { status: 'done', senderSent: true } });

    const label = `${target}, ${MANAGERS} managers`;
    const minutes = Math.ceil(calls / QUOTA_PER_MINUTE);
    return [
      { name: `moments ${label}: baseline read of the task rows`, value: baseS, unit: 's' },
      {
        name: `moments ${label}: plan + dispatch in one job run (${open} senders open, ${calls} add_moment_task, ${cards} app cards)`,
        value: dispatchS,
        unit: 's',
        baseline: 'row read',
        ratio: dispatchS / baseS,
        target: `all ${MANAGERS} open, ≤ ${QUOTA_PER_MINUTE} calls`,
        pass: open === MANAGERS && calls <= QUOTA_PER_MINUTE,
      },
      {
        name: `moments ${label}: minutes of WeCom quota to reach every sender (one call per sender: ${Math.ceil(MANAGERS / QUOTA_PER_MINUTE)})`,
        value: minutes,
        unit: 'min',
        target: '≤ 1',
        pass: minutes <= 1,
      },
      {
        name: `moments ${label}: one poll after every sender published (${done} done)`,
        value: pollS,
        unit: 's',
        baseline: 'row read',
        ratio: pollS / baseS,
        target: `all ${MANAGERS} done`,
        pass: done === MANAGERS,
      },
    ];
  } finally {
    await server.close();
    await db.ds.destroy();
    await db.drop();
  }
}

export const run = (): Promise<BenchResult[]> => onEachDatabase('MOMENTS_BENCH_TARGETS', benchTarget);

if (require.main === module) {
  run().then(printTable, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
