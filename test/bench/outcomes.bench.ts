/**
 * Outcome import with attribution (`ops import outcomes`): OUTCOMES_BENCH_ROWS (default 1,000,000)
 * generated outcomes for 200,000 customers with 200,000 sends in the window, imported with --apply
 * into a fresh MariaDB schema through the service the CLI uses (validate pass, load of the sends
 * in the window, attribute + insert pass in one transaction).
 *
 *   npx tsx test/bench/outcomes.bench.ts      (OUTCOMES_BENCH_ROWS=100000 for a quicker run)
 *
 * Target (issue 12): 1,000,000 rows with attribution in under 2 minutes. Baseline in the same run:
 * the validate pass alone (reading and checking the file), so the ratio shows what attribution and
 * writing add.
 */
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { runOutcomeImport } from '../../server/imports/outcomes';
import { openFreshDb } from '../helpers/db';
import { type BenchResult, printTable } from './lib';

const ROWS = Number(process.env.OUTCOMES_BENCH_ROWS ?? 1_000_000);
const CUSTOMERS = 200_000;
const TARGET_SECONDS = 120;
const DAY = 86_400_000;
/** 2026-11-20 00:00 bank time. */
const BASE = Date.UTC(2026, 10, 19, 16, 0, 0);
const EVENTS = ['开户', '绑卡', '签约手机银行', '购买理财', '资产提升'];
const PRODUCTS = ['稳享理财', '基金定投', '手机银行', ''];

const cust = (i: number) => `C${String(i).padStart(9, '0')}`;

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

async function seed(db: DataSource): Promise<void> {
  const now = BASE;
  await db.transaction(async (tx) => {
    const q = tx as unknown as DataSource;
    await bulkInsert(q, 'customers', ['id', 'masked_name', 'segment', 'created_at', 'updated_at'], CUSTOMERS, (i) => [
      cust(i),
      '王*',
      '高潜',
      now,
      now,
    ]);
    await bulkInsert(
      q,
      'external_contacts',
      ['external_userid', 'customer_id', 'name', 'type', 'gender', 'matched_by', 'created_at', 'updated_at'],
      CUSTOMERS,
      (i) => [`wm${i}`, cust(i), '', 1, 0, 'state', now, now],
    );
    await bulkInsert(
      q,
      'script_templates',
      [
        'title',
        'content',
        'stage',
        'segments',
        'product',
        'status',
        'channel',
        'created_by',
        'created_at',
        'updated_at',
      ],
      40,
      (i) => [`话术${i}`, '您好', 1 + (i % 4), '', PRODUCTS[i % 4] || null, 'approved', 'chat', 'bench', now, now],
    );
    await bulkInsert(
      q,
      'touches',
      ['external_userid', 'userid', 'template_id', 'stage', 'channel', 'sent_at', 'confirmed_at'],
      CUSTOMERS,
      (i) => [
        `wm${i}`,
        `m${i % 5000}`,
        1 + (i % 40),
        1,
        i % 5 === 0 ? 'copy' : 'send',
        BASE - (i % 20) * DAY,
        i % 10 === 0 ? BASE : null,
      ],
    );
  });
}

async function writeCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('customer_id,event,product,amount,occurred_at\n');
  let chunk = '';
  for (let i = 0; i < ROWS; i++) {
    const minute = i % 1440;
    const day = 1 + ((i >> 3) % 28);
    chunk += `${cust(i % CUSTOMERS)},${EVENTS[i % 5]},${PRODUCTS[(i >> 2) % 4]},${(i % 97) * 3100},2026-11-${String(day).padStart(2, '0')} ${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}\n`;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  out.end();
  await once(out, 'finish');
}

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'outcomes-bench-'));
  const file = join(dir, 'outcomes.csv');
  const db = await openFreshDb('mariadb');
  try {
    await writeCsv(file);
    await seed(db.ds);
    const t0 = performance.now();
    let validated = 0;
    const report = await runOutcomeImport(db.ds, {
      path: file,
      apply: true,
      operator: 'bench',
      now: Date.UTC(2026, 11, 1),
      onProgress: (p) => {
        if (p.phase === 'validate' && p.bytesRead === p.totalBytes && !validated) validated = performance.now();
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const validateSeconds = (validated - t0) / 1000;
    if (report.inserted + report.alreadyImported !== ROWS - report.warningRows) {
      throw new Error(`expected ${ROWS} outcomes, got ${report.inserted} (+${report.alreadyImported} already)`);
    }
    const scaled = ROWS / 1_000_000;
    return [
      { name: `outcomes ${ROWS}: validate pass (baseline)`, value: validateSeconds, unit: 's' },
      { name: `outcomes ${ROWS}: credited to a send`, value: report.attributed, unit: 'rows' },
      {
        name: `outcomes ${ROWS}: import with attribution, mariadb`,
        value: seconds,
        unit: 's',
        baseline: 'validate pass',
        ratio: seconds / validateSeconds,
        target: `< ${TARGET_SECONDS * scaled} s`,
        pass: seconds < TARGET_SECONDS * scaled,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.ds.destroy();
    await db.drop();
  }
}

if (require.main === module) {
  run().then(printTable, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
