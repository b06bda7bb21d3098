import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { EXIT } from '../../../scripts/commands/context';
import { importCommand } from '../../../scripts/commands/import';
import type { Config } from '../../../server/config';
import { type OutcomeImportReport, runOutcomeImport } from '../../../server/imports/outcomes';
import { DB_TARGETS, type FreshDb, openFreshDb, testConfig } from '../../helpers/db';
import { ctxFor } from '../ops/helpers';
import { OUTCOME_AT, OUTCOMES_CSV, seedLearning } from './learning-seed';

/** `ops import outcomes`: validation, all-or-nothing apply, and which touch gets the credit. */
describe.each(DB_TARGETS)('ops import outcomes on %s', (target) => {
  let db: FreshDb & { ds: DataSource };
  let config: Config;
  let tmp: string;
  let seed: Awaited<ReturnType<typeof seedLearning>>;

  const run = (file: string, apply = false) =>
    importCommand({ kind: 'outcomes', file }, ctxFor(db.ds, config, { apply }));
  const write = (name: string, text: string, encoding: 'utf-8' | 'gbk' = 'utf-8') => {
    const iconv = require('iconv-lite') as typeof import('iconv-lite');
    const file = join(tmp, name);
    writeFileSync(file, encoding === 'gbk' ? iconv.encode(text, 'gbk') : text);
    return file;
  };
  const count = async () => Number((await db.ds.query('SELECT COUNT(*) AS n FROM outcomes'))[0].n);

  beforeAll(async () => {
    db = await openFreshDb(target);
    config = testConfig(db.url);
    tmp = mkdtempSync(join(tmpdir(), 'ops-import-outcomes-'));
    seed = await seedLearning(db.ds);
  });
  afterAll(async () => {
    await db.ds.destroy();
    await db.drop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses a file with a bad row whole, naming the line, and writes nothing', async () => {
    const file = write('bad.csv', `${OUTCOMES_CSV}C1,开户,,-5,2026-11-20\nC2,,,,2026-13-01\n`);
    const res = await run(file, true);
    expect(res.exitCode).toBe(EXIT.findings);
    const r = res.json as OutcomeImportReport;
    expect(r.refused).toBe(true);
    expect(r.issues.filter((i) => i.severity === 'error').map((i) => [i.line, i.column])).toEqual([
      [8, 'amount'],
      [9, 'event'],
      [9, 'occurred_at'],
    ]);
    expect(res.output).toContain('REFUSED');
    expect(await count()).toBe(0);
  });

  it('a dry run attributes without writing', async () => {
    const res = await run(write('dry.csv', OUTCOMES_CSV));
    expect(res.exitCode).toBe(EXIT.ok);
    expect(res.json).toMatchObject({ inserted: 6, attributed: 4, unattributed: 2, applied: false });
    expect(await count()).toBe(0);
  });

  it('credits the right touch: product match, last real send, confirmed copies, window', async () => {
    const res = await run(write('outcomes.csv', OUTCOMES_CSV, 'gbk'), true);
    expect(res.exitCode).toBe(EXIT.ok);
    const r = res.json as OutcomeImportReport;
    expect(r).toMatchObject({ encoding: 'gbk', inserted: 6, attributed: 4, unattributed: 2, applied: true });
    // The unknown customer is a warning: kept, credited to nothing.
    expect(r.issues).toEqual([expect.objectContaining({ line: 7, severity: 'warning', column: 'customer_id' })]);
    const rows: {
      customer_id: string;
      event: string;
      touch_id: number | null;
      template_id: number | null;
      amount_band: string | null;
      userid: string | null;
      occurred_at: number | string;
    }[] = await db.ds.query(
      'SELECT customer_id, event, touch_id, template_id, amount_band, userid, occurred_at FROM outcomes ORDER BY id',
    );
    const credit = Object.fromEntries(
      rows.map((x) => [`${x.customer_id}/${x.event}`, x.touch_id === null ? null : Number(x.touch_id)]),
    );
    expect(credit).toEqual({
      // Names the product: the wealth send 5 days before, not the later greeting.
      'C1/购买理财': seed.touches.c1WealthA,
      // No product: the last real send; the unconfirmed copy 2 days before does not count.
      'C1/签约手机银行': seed.touches.c1WealthA,
      // A copy confirmed as sent counts.
      'C2/开户': seed.touches.c2ConfirmedCopy,
      // The only wealth send was 20 days before: outside the 14-day window.
      'C2/购买理财': null,
      'C3/购买理财': seed.touches.c3WealthB,
      'C9/开户': null,
    });
    expect(rows.find((x) => x.customer_id === 'C1' && x.event === '购买理财')).toMatchObject({
      amount_band: '5-20万',
      userid: 'mgr1',
    });
    expect(Number(rows[0]!.template_id)).toBe(seed.templates.a);
    expect(rows.find((x) => x.customer_id === 'C3')!.amount_band).toBe('300万以上');
    expect(Number(rows[0]!.occurred_at)).toBe(OUTCOME_AT);
    // The amount itself is nowhere.
    expect(JSON.stringify(await db.ds.query('SELECT * FROM outcomes'))).not.toMatch(/150000|3500000/);
    const auditRows = await db.ds.query("SELECT action FROM audit_log WHERE action = 'import.outcomes'");
    expect(auditRows).toHaveLength(1);
  });

  it('importing the same file again adds nothing', async () => {
    const res = await run(write('again.csv', OUTCOMES_CSV), true);
    expect(res.json).toMatchObject({ inserted: 0, alreadyImported: 6 });
    expect(await count()).toBe(6);
  });

  it('a file of several batches, committed in small transactions, goes in whole; a re-run after a partial import adds the rest', async () => {
    // 2,500 outcomes over the three seeded customers and an unknown one: three insert batches,
    // looked up while the previous batch is written, and a commit every 700 rows.
    const line = (i: number) =>
      `C${1 + (i % 4)},开户,,${i},2026-11-${String(1 + (i % 20)).padStart(2, '0')} ${String(Math.floor(i / 60) % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:${String(Math.floor(i / 1440) % 60).padStart(2, '0')}`;
    const lines = Array.from({ length: 2500 }, (_, i) => line(i));
    const head = 'customer_id,event,product,amount,occurred_at\n';
    const before = await count();
    const auditCount = async () =>
      Number((await db.ds.query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'import.outcomes'"))[0].n);
    const auditsBefore = await auditCount();
    const part = await runOutcomeImport(db.ds, {
      path: write('part.csv', `${head}${lines.slice(0, 1200).join('\n')}\n`),
      apply: true,
      operator: 'test',
      now: OUTCOME_AT + 86_400_000,
      commitEvery: 700,
    });
    expect(part).toMatchObject({ inserted: 1200, alreadyImported: 0, applied: true, errorRows: 0 });
    const all = await runOutcomeImport(db.ds, {
      path: write('all.csv', `${head}${lines.join('\n')}\n`),
      apply: true,
      operator: 'test',
      now: OUTCOME_AT + 86_400_000,
      commitEvery: 700,
    });
    expect(all).toMatchObject({ inserted: 1300, alreadyImported: 1200, applied: true });
    expect(all.attributed + all.unattributed).toBe(1300);
    expect(await count()).toBe(before + 2500);
    const keys: { n: number | string }[] = await db.ds.query('SELECT COUNT(DISTINCT dedup_key) AS n FROM outcomes');
    expect(Number(keys[0]!.n)).toBe(before + 2500);
    expect(await auditCount()).toBe(auditsBefore + 2);
  });

  it('a file without a required column is unusable (exit 2)', async () => {
    await expect(run(write('nohead.csv', 'customer_id,event\nC1,开户\n'))).rejects.toThrow(/occurred_at/);
  });
});
