import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { EXIT, UsageError } from '../../../scripts/commands/context';
import { reportCommand } from '../../../scripts/commands/report';
import type { Config } from '../../../server/config';
import { WelcomeMessage } from '../../../server/db/entities';
import type { OperatingReport } from '../../../server/reports/queries';
import { DB_TARGETS, testConfig } from '../../helpers/db';
import { useFreshDb } from '../../helpers/fixtures';
import { ctxFor, dbChecksum } from './helpers';
import { NOW, seedActivity, seedOrg } from './seed';

describe.each(DB_TARGETS)('ops report on %s', (target) => {
  const db = useFreshDb(target, { tmp: 'ops-report-' });
  let config: Config;
  const ctx = () => ctxFor(db.ds, config, { now: () => NOW });

  beforeAll(async () => {
    config = testConfig(db.url);
    await seedOrg(db.ds);
    await seedActivity(db.ds);
  });
  it('computes the totals and flags churn above the 10% target (exit 1), without writing', async () => {
    const before = await dbChecksum(db.ds);
    const res = await reportCommand({}, ctx());
    const r = res.json as OperatingReport;
    expect(await dbChecksum(db.ds)).toBe(before);
    expect(res.exitCode).toBe(EXIT.findings);
    expect(r.total).toMatchObject({
      adds: 19,
      churned: 4,
      deletedByManager: 1,
      activeFollows: 19,
      active7: 7,
      active30: 9,
      welcomeSent: 5,
      welcomeFailed: 1,
      welcomeSkipped: { no_template: 2, code_expired: 0 },
      allocations: { owner: 3, nearest_branch: 6, fallback: 1, none: 1 },
      transfers: { success: 2, refused: 1, waiting: 1 },
    });
    expect(r.total.churnRate).toBeCloseTo(4 / 19);
    expect(r.total.activity30).toBeCloseTo(9 / 19);
    expect(r.total.welcomeRate).toBeCloseTo(5 / 6);
    expect(r.findings).toEqual(['churn 21.1% is above the 10% target']);
    expect(res.output).toContain('MISSED: churn 21.1%');
  });

  it('shows how many welcomes were skipped and why (no approved script, code ran out before a try)', async () => {
    const rows = [
      // ran out before anything was tried: a skip; ran out while retrying a chosen script: a failure
      { codeHash: 'skip-exp-1', status: 'expired' as const, templateId: null },
      { codeHash: 'skip-exp-2', status: 'expired' as const, templateId: 1 },
    ].map((r, i) => ({
      ...r,
      externalUserid: `xs${i}`,
      userid: 'lina',
      errcode: null,
      eventAt: NOW - 2 * 86_400_000,
      sentAt: null,
    }));
    await db.ds.getRepository(WelcomeMessage).insert(rows);
    try {
      const res = await reportCommand({ by: 'manager' }, ctx());
      const r = res.json as OperatingReport;
      expect(r.total.welcomeSkipped).toEqual({ no_template: 2, code_expired: 1 });
      expect(r.total.welcomeFailed).toBe(2);
      expect(r.rows.find((row) => row.key === 'zhangwei')?.welcomeSkipped).toEqual({ no_template: 2, code_expired: 0 });
      expect(r.rows.find((row) => row.key === 'lina')?.welcomeSkipped).toEqual({ no_template: 0, code_expired: 1 });
      expect(res.output).toContain('welcome skipped');
      expect(res.output).toContain('2 (无可用欢迎语 2)');
      expect(res.output).toContain('welcomes skipped: 3 — no_template (无可用欢迎语) 2, code_expired (超时未发) 1');
      const out = join(db.tmp, 'skips.csv');
      await reportCommand({ format: 'csv', out }, ctx());
      const csv = parse(readFileSync(out, 'utf8'), { bom: true, columns: true }) as Record<string, string>[];
      expect(csv.find((row) => row.group === 'total')).toMatchObject({
        welcome_skipped_no_template: '2',
        welcome_skipped_code_expired: '1',
      });
      const html = join(db.tmp, 'skips.html');
      await reportCommand({ format: 'html', out: html }, ctx());
      expect(readFileSync(html, 'utf8')).toContain('跳过 3（无可用欢迎语 2，超时未发 1）');
    } finally {
      await db.ds.getRepository(WelcomeMessage).delete(rows.map((r) => ({ codeHash: r.codeHash })));
    }
  });

  it('groups by manager and by branch', async () => {
    const byManager = (await reportCommand({ by: 'manager' }, ctx())).json as OperatingReport;
    const zw = byManager.rows.find((row) => row.key === 'zhangwei')!;
    expect(zw).toMatchObject({
      label: '张伟 (zhangwei)',
      adds: 10,
      churned: 2,
      activeFollows: 12,
      active7: 6,
      active30: 8,
    });
    expect(byManager.rows.find((row) => row.key === 'lina')).toMatchObject({ activeFollows: 5, active7: 1, adds: 5 });
    const byBranch = await reportCommand({ by: 'branch' }, ctx());
    const rows = (byBranch.json as OperatingReport).rows;
    expect(rows.find((row) => row.key === 'PD01')).toMatchObject({ label: '浦东支行 (PD01)', adds: 15, churned: 2 });
    expect(rows.find((row) => row.key === 'XH01')).toMatchObject({ adds: 4, churned: 2, churnRate: 0.5 });
    expect(byBranch.output).toContain('浦东支行 (PD01)');
  });

  it('a period with no activity has no findings and exit 0', async () => {
    const res = await reportCommand({ from: '2020-01-01', to: '2020-02-01' }, ctx());
    expect(res.exitCode).toBe(EXIT.ok);
    expect((res.json as OperatingReport).total).toMatchObject({ adds: 0, churnRate: null });
  });

  it('writes CSV with a BOM and one line per group plus the total', async () => {
    const out = join(db.tmp, 'r.csv');
    const res = await reportCommand({ by: 'manager', format: 'csv', out }, ctx());
    expect(res.output).toContain(`csv report written to ${out}`);
    const text = readFileSync(out, 'utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const rows = parse(text, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row.group)).toEqual(expect.arrayContaining(['zhangwei', 'lina', 'wangfang', 'total']));
    expect(rows.find((row) => row.group === 'total')).toMatchObject({ adds: '19', churned: '4', alloc_owner: '3' });
  });

  it('writes one self-contained HTML page with charts, Chinese labels and target lines', async () => {
    const out = join(db.tmp, 'r.html');
    await reportCommand({ by: 'branch', format: 'html', out }, ctx());
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html.match(/<svg /g)?.length).toBe(4);
    for (const label of ['流失率', '30日活跃率', '目标 10%', '目标 40%', '就近网点', '浦东支行 (PD01)', '未达标']) {
      expect(html).toContain(label);
    }
    expect(html).not.toMatch(/<script|<link|src=|url\(/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toContain('http');
  });

  it('rejects bad options as usage errors', async () => {
    await expect(reportCommand({ from: 'yesterday' }, ctx())).rejects.toThrow(UsageError);
    await expect(reportCommand({ from: '2026-11-10', to: '2026-11-01' }, ctx())).rejects.toThrow(/before/);
    await expect(reportCommand({ by: 'region' }, ctx())).rejects.toThrow(/branch, manager/);
  });
});
