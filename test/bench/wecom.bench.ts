/**
 * WeCom client overhead: calls/s of app.wecom.getUser (token cache hit, rate limiter, errcode policy,
 * metrics, log) against the in-process sandbox, versus the same request injected straight into the
 * fake with a token in hand (baseline). Both go through app.inject, so the ratio is the client's own
 * cost. Also: wall time for 300 concurrent first calls on 3 instances sharing one SQLite file, and
 * the number of gettoken calls they caused (must be 1 per secret).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { build } from '../../server/app';
import { loadConfig } from '../../server/config';
import { openDatabase } from '../../server/db/data-source';
import { demoFakeSeed } from '../../server/sandbox/demo-data';
import { buildFakeWecom } from '../../server/sandbox/fake-wecom';
import type { BenchResult } from './lib';
import { printTable } from './lib';

const N = Number(process.env.BENCH_WECOM_CALLS ?? 5000);
const CONCURRENCY = 50;

async function pool(n: number, fn: () => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < n) await fn();
    }),
  );
}

const config = (url: string) =>
  loadConfig({
    DATABASE_URL: url,
    LOG_LEVEL: 'silent',
    WORKER_ENABLED: 'false',
    JOBS_ENABLED: 'false',
    DEMO_DATA: 'false',
    PORT: '0',
  });

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wecom-'));
  const url = `sqlite:${join(dir, 'db.sqlite')}`;
  const results: BenchResult[] = [];
  const dbs: DataSource[] = [];
  try {
    const db = await openDatabase({ url });
    dbs.push(db);
    const app = await build(config(url), { db, worker: false });
    await app.ready();
    await app.wecom.getUser('hz_chenjing'); // warm: token cached
    const token = await (app.wecom as unknown as { accessToken(k: 'agent'): Promise<string> }).accessToken('agent');

    let t = performance.now();
    await pool(N, () => app.inject({ url: `/sandbox/api/cgi-bin/user/get?access_token=${token}&userid=hz_chenjing` }));
    const direct = N / ((performance.now() - t) / 1000);
    t = performance.now();
    await pool(N, () => app.wecom.getUser('hz_chenjing'));
    const client = N / ((performance.now() - t) / 1000);
    await app.close();
    results.push({
      name: 'client call (cached token) vs direct inject',
      value: Math.round(client),
      unit: 'calls/s',
      baseline: `${Math.round(direct)} calls/s direct`,
      // Informational: the client's own cost (token cache, rate limiter, errcode policy, metrics,
      // axios) over the in-process fake; with real WeCom the network dominates. No issue sets a target.
      ratio: Math.round((client / direct) * 100) / 100,
    });

    // Cold start on 3 instances over real HTTP to one standalone fake.
    const fake = buildFakeWecom({
      corpId: 'wwbench00000001',
      agentId: '1000002',
      agentSecret: 'bench-agent-secret-0001',
      seed: demoFakeSeed(),
    });
    const base = await fake.listen();
    const url2 = `sqlite:${join(dir, 'db2.sqlite')}`;
    const apps = [];
    for (let i = 0; i < 3; i++) {
      const ds = await openDatabase({ url: url2 }, { migrate: i === 0 });
      dbs.push(ds);
      const c = config(url2);
      Object.assign(c.wecom, {
        corpId: 'wwbench00000001',
        agentSecret: 'bench-agent-secret-0001',
        contactSecret: 'bench-agent-secret-0001',
        apiBase: base,
      });
      apps.push(await build(c, { db: ds, worker: false }));
    }
    t = performance.now();
    await Promise.all(apps.flatMap((a) => Array.from({ length: 100 }, () => a.wecom.getUser('hz_chenjing'))));
    const cold = performance.now() - t;
    results.push({
      name: `300 concurrent first calls on 3 instances (${fake.count('gettoken')} gettoken)`,
      value: Math.round(cold),
      unit: 'ms',
      target: 'exactly 1 gettoken',
      pass: fake.count('gettoken') === 1,
    });
    await Promise.all(apps.map((a) => a.close()));
    await fake.close();
  } finally {
    await Promise.all(dbs.map((d) => (d.isInitialized ? d.destroy() : undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (require.main === module) {
  run().then(printTable, (err) => {
    console.error(err);
    process.exit(1);
  });
}
