import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { sha256Hex, WecomCrypto } from '../../server/wecom/crypto';
import { BenchResult, LoadResult, loadTest, printTable, startTarget } from './lib';

const CORP = 'wwbench0000000001';
const TOKEN = 'BenchToken0123456789';
const AES = 'bAnK7cRm9QxW2eTz5yHu8jPk3LnV6sDf4gJa1oIq0Zd';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 50;

const ENV = {
  WECOM_CORP_ID: CORP,
  WECOM_CALLBACK_TOKEN: TOKEN,
  WECOM_CALLBACK_AES_KEY: AES,
  WECOM_AGENT_ID: '1000002',
  WECOM_AGENT_SECRET: 'bench-agent-secret-0000',
  SESSION_SECRET: 'bench-session-secret-000000000000',
  ENTRY_SECRET: 'bench-entry-secret-0000000000000',
  PHONE_HASH_SALT: 'bench-phone-salt-00000000000000',
  PUBLIC_BASE_URL: 'http://127.0.0.1',
  LOG_LEVEL: 'warn',
  WORKER_ENABLED: 'false',
  JOBS_ENABLED: 'false',
  DEMO_DATA: 'false',
};

/** Distinct, validly signed add-contact events (each a different customer, so no dedup hits). */
function buildRequests(n: number) {
  const c = new WecomCrypto(TOKEN, AES, CORP);
  const ts = String(Math.floor(Date.now() / 1000));
  const run = sha256Hex(String(Date.now())).slice(0, 8);
  const out: { path: string; body: string }[] = [];
  for (let i = 0; i < n; i++) {
    const xml =
      `<xml><ToUserName><![CDATA[${CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${ts}</CreateTime>` +
      `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>` +
      `<UserID><![CDATA[mgr${i % 500}]]></UserID><ExternalUserID><![CDATA[wm${run}${i.toString(36).padStart(8, '0')}]]></ExternalUserID>` +
      `<State><![CDATA[bench]]></State></xml>`;
    const s = c.sealedCallback(xml, { timestamp: ts, nonce: String(100000 + i), agentId: '1000002' });
    const q = `msg_signature=${s.query.msg_signature}&timestamp=${ts}&nonce=${s.query.nonce}`;
    out.push({ path: `/wecom/callback?${q}`, body: s.body });
  }
  return out;
}

const WARM = 40_000;

async function counters(port: number) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text().catch(() => '');
  const read = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return {
    duplicates: read(/wecom_callbacks_duplicate_total (\d+)/),
    batches: read(/wecom_inbox_batch_rows_count (\d+)/),
    rows: read(/wecom_inbox_batch_rows_sum (\d+)/),
  };
}

async function measure(env: Record<string, string>, requests: { path: string; body: string }[]) {
  const t = await startTarget('test/bench/callback-target.ts', env);
  try {
    // Warm-up on a disjoint slice so the JIT is hot and the measured run still sees new events.
    await loadTest({
      port: t.port,
      requests: requests.slice(requests.length - WARM),
      connections: CONNECTIONS,
      durationS: 2,
    });
    const before = await counters(t.port);
    const measured = await loadTest({
      port: t.port,
      requests: requests.slice(0, requests.length - WARM),
      connections: CONNECTIONS,
      durationS: DURATION,
    });
    const after = await counters(t.port);
    const batches = after.batches - before.batches;
    return {
      ...measured,
      duplicates: after.duplicates - before.duplicates,
      rowsPerBatch: batches > 0 ? (after.rows - before.rows) / batches : 0,
    };
  } finally {
    await t.stop();
  }
}

export async function run(): Promise<BenchResult[]> {
  const requests = buildRequests(Number(process.env.BENCH_EVENTS ?? 300_000));
  const dir = mkdtempSync(join(tmpdir(), 'bench-cb-'));
  const results: BenchResult[] = [];
  let bare: LoadResult | undefined;
  try {
    bare = await measure({ BENCH_MODE: 'bare' }, requests);
    results.push({
      name: `callback ack: bare Fastify route (${bare.tool} -c${CONNECTIONS})`,
      value: bare.rps,
      unit: 'req/s',
      baseline: 'baseline',
    });
    results.push({ name: 'callback ack: bare p99', value: bare.p99ms, unit: 'ms' });

    const sqlite = await measure({ ...ENV, DATABASE_URL: `sqlite:${join(dir, 'bench.sqlite')}` }, requests);
    report(results, 'SQLite', sqlite, bare, 0.3);

    const name = `bench_${Date.now()}`;
    const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    try {
      const maria = await measure({ ...ENV, DATABASE_URL: `mariadb://root@127.0.0.1:3306/${name}` }, requests);
      report(results, 'MariaDB', maria, bare, 0.25);
    } finally {
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

function report(
  results: BenchResult[],
  db: string,
  r: LoadResult & { duplicates: number; rowsPerBatch: number },
  bare: LoadResult,
  target: number,
) {
  const ratio = r.rps / bare.rps;
  results.push({
    name: `callback ack: verify+decrypt+durable insert, ${db}`,
    value: r.rps,
    unit: 'req/s',
    baseline: 'of bare',
    ratio,
    target: `≥ ${target.toFixed(2)}× bare`,
    pass: ratio >= target && r.non2xx === 0,
  });
  results.push({ name: `callback ack: ${db} p50`, value: r.p50ms, unit: 'ms' });
  results.push({ name: `callback ack: ${db} p99`, value: r.p99ms, unit: 'ms', target: '< 25 ms', pass: r.p99ms < 25 });
  results.push({ name: `callback ack: ${db} rows per inbox transaction`, value: r.rowsPerBatch, unit: 'rows' });
  results.push({
    name: `callback ack: ${db} non-2xx + duplicate answers`,
    value: r.non2xx + r.duplicates,
    unit: 'responses',
    target: '0',
    pass: r.non2xx + r.duplicates === 0,
  });
}

if (require.main === module) {
  run()
    .then(printTable)
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
