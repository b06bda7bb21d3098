import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { EXIT } from '../../../scripts/commands/context';
import { importCommand } from '../../../scripts/commands/import';
import { reportTemplatesCommand } from '../../../scripts/commands/report-templates';
import type { Config } from '../../../server/config';
import { loadPerformance } from '../../../server/playbook';
import { wilson } from '../../../server/playbook/variant-performance';
import type { TemplateReport } from '../../../server/reports/templates';
import { DB_TARGETS, type FreshDb, openFreshDb, testConfig } from '../../helpers/db';
import { ctxFor } from '../ops/helpers';
import { OUTCOMES_CSV, seedLearning } from './learning-seed';

/** `report templates` (复盘) and the ranking's statistics on a small seeded dataset. */
describe.each(DB_TARGETS)('report templates on %s', (target) => {
  let db: FreshDb & { ds: DataSource };
  let config: Config;
  let tmp: string;
  let seed: Awaited<ReturnType<typeof seedLearning>>;
  const period = { from: '2026-10-15', to: '2026-11-22' };
  const report = async (by: string, format = 'table') =>
    reportTemplatesCommand({ ...period, by, format }, ctxFor(db.ds, config));

  beforeAll(async () => {
    db = await openFreshDb(target);
    config = testConfig(db.url);
    tmp = mkdtempSync(join(tmpdir(), 'report-templates-'));
    seed = await seedLearning(db.ds);
    const file = join(tmp, 'outcomes.csv');
    writeFileSync(file, OUTCOMES_CSV);
    const res = await importCommand({ kind: 'outcomes', file }, ctxFor(db.ds, config, { apply: true }));
    expect(res.exitCode).toBe(EXIT.ok);
  });
  afterAll(async () => {
    await db.ds.destroy();
    await db.drop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('by template: sends, customers, conversions with a Wilson interval, churn after touch, best variant', async () => {
    const res = await report('template');
    expect(res.exitCode).toBe(EXIT.ok);
    const r = res.json as TemplateReport;
    const by = Object.fromEntries(r.rows.map((x) => [x.templateId, x]));
    // The unconfirmed copy to C1 is not a send; the copy C2's manager confirmed is.
    expect(by[seed.templates.c]).toMatchObject({ sends: 2, customers: 2, conversions: 1, churns: 0, best: false });
    // Two outcomes credited to the same send count as one converted send.
    expect(by[seed.templates.a]).toMatchObject({ sends: 1, customers: 1, conversions: 1, churns: 0, best: true });
    // C4 deleted the manager 2 days after the wording-B send: churn after touch.
    expect(by[seed.templates.b]).toMatchObject({ sends: 3, customers: 3, conversions: 1, churns: 1, best: false });
    expect(by[seed.templates.b]!.rate).toBeCloseTo(1 / 3, 6);
    expect(by[seed.templates.b]!.low).toBeCloseTo(wilson(1, 3).low, 6);
    expect(by[seed.templates.b]!.high).toBeCloseTo(wilson(1, 3).high, 6);
    expect(r.total).toMatchObject({ sends: 6, customers: 4, conversions: 3, churns: 1 });
    expect(res.output).toContain('★');
  });

  it('by stage and by variant', async () => {
    const stage = (await report('stage')).json as TemplateReport;
    expect(stage.rows.map((x) => [x.label, x.sends, x.conversions])).toEqual([['第1次触达', 6, 3]]);
    const variant = (await report('variant')).json as TemplateReport;
    expect(variant.rows.map((x) => [x.templateId, x.variant, x.best])).toEqual([
      [seed.templates.a, 'A', true],
      [seed.templates.b, 'B', false],
    ]);
  });

  it('a period without the sends is empty', async () => {
    const res = await reportTemplatesCommand({ from: '2026-01-01', to: '2026-02-01' }, ctxFor(db.ds, config));
    expect((res.json as TemplateReport).total.sends).toBe(0);
  });

  it('CSV through the shared writer and HTML with charts', async () => {
    const csv = (await report('template', 'csv')).output as string;
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe(
      'group,label,stage,template_id,variant_group,variant,sends,customers,conversions,conversion_rate,rate_low_95,rate_high_95,churn_after_touch,churn_rate,best_in_group',
    );
    expect(lines.at(-1)).toMatch(/^total,合计,,,,,6,4,3,0\.5,/);
    const html = (await report('variant', 'html')).output as string;
    expect(html).toContain('<svg');
    expect(html).toContain('★ 稳享理财 A');
    expect(html).not.toContain('<script');
  });

  it('the ranking reads the same statistics', async () => {
    const perf = await loadPerformance(db.ds);
    expect(perf.byTemplate.get(seed.templates.a)).toEqual({ sends: 1, conversions: 1, churns: 0 });
    expect(perf.byTemplate.get(seed.templates.b)).toEqual({ sends: 3, conversions: 1, churns: 1 });
    expect(perf.byTemplate.get(seed.templates.c)).toEqual({ sends: 2, conversions: 1, churns: 0 });
    expect(perf.baseline).toBeCloseTo(3 / 6, 6);
  });
});
