/**
 * Customer CSV import benchmark: 1,000,000 generated rows (written to a temp dir, never committed)
 * imported with --apply into a fresh SQLite file and a fresh MariaDB schema through the same
 * service the CLI uses (validate pass + compare/upsert pass in one transaction).
 *
 *   npx tsx test/bench/import.bench.ts            (IMPORT_BENCH_ROWS=200000 for a quicker run)
 *
 * Target (issue 6): 1,000,000 customer rows in under 2 minutes on MySQL/MariaDB.
 */

import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../../server/imports/service';
import { type DbTarget, openFreshDb } from '../helpers/db';
import { type BenchResult, printTable } from './lib';

const ROWS = Number(process.env.IMPORT_BENCH_ROWS ?? 1_000_000);
const TARGET_SECONDS = 120;

async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('customer_id,name,phone,segment,owner_userid,lat,lng,region_code,tags\n');
  const segments = ['代发', '高潜', '流降', ''];
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const lat = (22 + (i % 9973) / 500).toFixed(5);
    const lng = (104 + (i % 9967) / 600).toFixed(5);
    const owner = i % 3 === 0 ? `m${i % 5000}` : '';
    chunk += `C${String(i).padStart(9, '0')},客户${i % 1000}号,1${String(3_000_000_000 + i)},${segments[i % 4]},${owner},${lat},${lng},${310100 + (i % 20)},标签${i % 9}|代发\n`;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  out.end();
  await once(out, 'finish');
}

async function importInto(target: DbTarget, file: string): Promise<{ seconds: number; validateSeconds: number }> {
  const db = await openFreshDb(target);
  try {
    const t0 = performance.now();
    let validated = 0;
    const report = await runImport(db.ds, {
      onProgress: (p) => {
        if (p.phase === 'validate' && p.bytesRead === p.totalBytes && !validated) validated = performance.now();
      },
      kind: 'customers',
      path: file,
      apply: true,
      operator: 'bench',
      now: Date.now(),
      phoneSalt: 'bench-salt-0123456789',
    });
    const seconds = (performance.now() - t0) / 1000;
    if (report.inserted !== ROWS) throw new Error(`expected ${ROWS} inserted, got ${report.inserted}`);
    return { seconds, validateSeconds: (validated - t0) / 1000 };
  } finally {
    await db.ds.destroy();
    await db.drop();
  }
}

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'import-bench-'));
  const file = join(dir, 'customers.csv');
  try {
    await writeCsv(file, ROWS);
    const results: BenchResult[] = [];
    const scaled = ROWS / 1_000_000;
    for (const target of ['sqlite', 'mariadb'] as const) {
      const { seconds, validateSeconds } = await importInto(target, file);
      results.push({ name: `import ${ROWS} customers, ${target}: validate pass`, value: validateSeconds, unit: 's' });
      results.push({ name: `import ${ROWS} customers, ${target}: rate`, value: ROWS / seconds, unit: 'rows/s' });
      results.push({
        name: `import ${ROWS} customers, ${target}: time`,
        value: seconds,
        unit: 's',
        ...(target === 'mariadb'
          ? { target: `< ${TARGET_SECONDS * scaled} s`, pass: seconds < TARGET_SECONDS * scaled }
          : {}),
      });
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().then(printTable, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
