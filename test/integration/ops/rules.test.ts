import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allocateExplainCommand, allocateReplayCommand } from '../../../scripts/commands/allocate';
import { EXIT, UsageError } from '../../../scripts/commands/context';
import { importCommand } from '../../../scripts/commands/import';
import {
  rulesApplyCommand,
  rulesDryRunCommand,
  rulesHistoryCommand,
  rulesRollbackCommand,
  rulesValidateCommand,
} from '../../../scripts/commands/rules';
import { allocateCustomer } from '../../../server/allocation/service';
import type { Config } from '../../../server/config';
import { AuditEntry, RuleSetRow } from '../../../server/db/entities';
import { DB_TARGETS, testConfig } from '../../helpers/db';
import { useFreshDb } from '../../helpers/fixtures';
import { ctxFor, dbChecksum, fixture } from './helpers';

describe.each(DB_TARGETS)('ops rules and allocate on %s', (target) => {
  const db = useFreshDb(target, { tmp: 'ops-rules-' });
  let config: Config;
  const ctx = (apply = false) => ctxFor(db.ds, config, { apply });

  beforeAll(async () => {
    config = testConfig(db.url);
    for (const kind of ['branches', 'managers', 'customers'] as const) {
      const res = await importCommand({ kind, file: fixture(`${kind}.csv`) }, ctx(true));
      expect(res.json).toMatchObject({ applied: true });
    }
  });
  it('validate: a good file exits 0; schema errors and unknown or absent fallback managers exit 1 with paths', async () => {
    expect(await rulesValidateCommand({ file: fixture('rules-v2.json') }, ctx())).toMatchObject({
      exitCode: EXIT.ok,
      json: { valid: true, version: '2026-11-v2' },
    });
    const bad = await rulesValidateCommand({ file: fixture('rules-bad.json') }, ctx());
    expect(bad.exitCode).toBe(EXIT.findings);
    const paths = (bad.json as { issues: { path: string }[] }).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['maxDistanceMeters', '(document)']));
    const ghost = await rulesValidateCommand({ file: fixture('rules-unknown-fallback.json') }, ctx());
    expect(ghost.exitCode).toBe(EXIT.findings);
    expect(ghost.output).toContain('manager "nobody" does not exist');
    expect(ghost.output).toContain('manager "liuyang" is leave');
    expect(ghost.output).toContain('no manager has skill "payroll"');
    await expect(rulesValidateCommand({ file: join(db.tmp, 'missing.json') }, ctx())).rejects.toThrow(UsageError);
  });

  it('dry-run: summary per rule, branch and manager, the diff against the active set, per-customer CSV; writes nothing', async () => {
    const before = await dbChecksum(db.ds);
    const out = join(db.tmp, 'decisions.csv');
    const res = await rulesDryRunCommand({ file: fixture('rules-v3.json'), out }, ctx());
    expect(await dbChecksum(db.ds)).toBe(before);
    expect(res.exitCode).toBe(EXIT.ok);
    const r = res.json as {
      customers: number;
      changed: number;
      byRule: { active: Record<string, number>; candidate: Record<string, number> };
      byBranch: { code: string; active: number; candidate: number }[];
      samples: { customerId: string; candidate: { userid: string } }[];
    };
    expect(r.customers).toBe(5);
    expect(r.byRule.candidate).toEqual({ owner: 2, nearest_branch: 3 });
    // Closing PD01 moves C0005 (near Pudong, owner unknown) from lina to wangfang at XH01.
    expect(r.changed).toBe(1);
    expect(r.samples).toEqual([
      expect.objectContaining({ customerId: 'C0005', candidate: expect.objectContaining({ userid: 'wangfang' }) }),
    ]);
    expect(r.byBranch.find((b) => b.code === 'PD01')).toMatchObject({ active: 3, candidate: 2 });
    const lines = readFileSync(out, 'utf8')
      .replace(/^\ufeff/, '')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(6);
    expect(lines.find((l) => l.startsWith('C0005'))).toBe(
      'C0005,lina,nearest_branch,PD01,wangfang,nearest_branch,XH01,10844,1',
    );
  });

  it('dry-run with --customers reports unknown ids (exit 1); an invalid candidate is an input error', async () => {
    const res = await rulesDryRunCommand(
      { file: fixture('rules-v2.json'), customers: fixture('customer-ids.csv') },
      ctx(),
    );
    expect(res.exitCode).toBe(EXIT.findings);
    expect(res.json).toMatchObject({ customers: 2, unknownCustomers: ['NOPE9'] });
    await expect(rulesDryRunCommand({ file: fixture('rules-bad.json') }, ctx())).rejects.toThrow(
      /not a valid rule set/,
    );
  });

  it('apply: dry run by default, then activates with audit rows; applying again is a no-op', async () => {
    const dry = await rulesApplyCommand({ file: fixture('rules-v2.json') }, ctx());
    expect(dry.json).toMatchObject({ applied: false, action: 'save+activate' });
    expect(await db.ds.getRepository(RuleSetRow).count()).toBe(0);

    const applied = await rulesApplyCommand({ file: fixture('rules-v2.json') }, ctx(true));
    expect(applied.json).toMatchObject({ applied: true, action: 'save+activate', previous: 'default' });
    expect(await db.ds.getRepository(RuleSetRow).findOneByOrFail({ active: true })).toMatchObject({
      version: '2026-11-v2',
      author: 'op-test',
    });
    const audits = await db.ds.getRepository(AuditEntry).findBy({ subject: 'ruleset:2026-11-v2' });
    expect(audits.map((a) => a.action).sort()).toEqual(['ruleset.activate', 'ruleset.save']);

    const before = await dbChecksum(db.ds);
    const again = await rulesApplyCommand({ file: fixture('rules-v2.json') }, ctx(true));
    expect(again.json).toMatchObject({ applied: false, action: 'none' });
    expect(await dbChecksum(db.ds)).toBe(before);
  });

  it('history and rollback', async () => {
    await rulesApplyCommand({ file: fixture('rules-v3.json') }, ctx(true));
    const history = await rulesHistoryCommand({}, ctx());
    expect((history.json as { version: string; active: boolean }[]).map((h) => [h.version, h.active])).toEqual([
      ['2026-11-v3', true],
      ['2026-11-v2', false],
    ]);
    const dry = await rulesRollbackCommand({}, ctx());
    expect(dry.json).toMatchObject({ applied: false, version: '2026-11-v2', previous: '2026-11-v3' });
    expect((await db.ds.getRepository(RuleSetRow).findOneByOrFail({ active: true })).version).toBe('2026-11-v3');
    const done = await rulesRollbackCommand({ version: '2026-11-v2' }, ctx(true));
    expect(done.json).toMatchObject({ applied: true, version: '2026-11-v2' });
    expect((await db.ds.getRepository(RuleSetRow).findOneByOrFail({ active: true })).version).toBe('2026-11-v2');
    expect(await db.ds.getRepository(AuditEntry).countBy({ action: 'ruleset.rollback' })).toBe(1);
    await expect(rulesRollbackCommand({ version: 'nope' }, ctx(true))).rejects.toThrow(/no rule set version nope/);
  });

  it('apply refuses a known version with a different body', async () => {
    const file = join(db.tmp, 'v2-changed.json');
    writeFileSync(file, JSON.stringify({ version: '2026-11-v2', maxDistanceMeters: 9000 }));
    await expect(rulesApplyCommand({ file }, ctx(true))).rejects.toThrow(/already exists with a different body/);
  });

  it('allocate explain: a stored allocation in words with candidates, or what would happen for a new customer', async () => {
    const stored = await allocateCustomer(
      db.ds,
      { customerId: 'C0005' },
      { source: 'script', actor: 'op-test', now: Date.UTC(2026, 10, 23, 1, 0, 0), salt: config.phoneHashSalt },
    );
    const res = await allocateExplainCommand({ key: 'C0005' }, ctx());
    expect(res.exitCode).toBe(EXIT.ok);
    expect(res.json).toMatchObject({ stored: true, allocation: { customerId: 'C0005', ruleVersion: '2026-11-v2' } });
    expect(res.output).toContain(stored.decision.explanation.summaryZh.slice(0, 6));
    expect(res.output).toMatch(/branch\s+name\s+distance/);

    const fresh = await allocateExplainCommand({ key: 'C0002' }, ctx());
    expect(fresh.json).toMatchObject({ stored: false, decision: { reason: 'nearest_branch', userid: 'wangfang' } });
    expect(fresh.output).toContain('has no allocation yet');
    await expect(allocateExplainCommand({ key: 'nobody-here' }, ctx())).rejects.toThrow(UsageError);
  });

  it('allocate replay: what would move under another rule set, writing nothing', async () => {
    const before = await dbChecksum(db.ds);
    const same = await allocateReplayCommand({ since: '1d' }, ctx());
    expect(same.json).toMatchObject({ considered: 1, moved: [] });
    const moved = await allocateReplayCommand({ since: '1d', rules: fixture('rules-v3.json') }, ctx());
    expect(moved.json).toMatchObject({ ruleSetVersion: '2026-11-v3', moved: [{ customerId: 'C0005' }] });
    expect(await dbChecksum(db.ds)).toBe(before);
    await expect(allocateReplayCommand({ since: 'last tuesday' }, ctx())).rejects.toThrow(UsageError);
  });
});
