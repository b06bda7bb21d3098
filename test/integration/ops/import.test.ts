import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, UsageError } from '../../../scripts/commands/context';
import { importCommand } from '../../../scripts/commands/import';
import { recordingProgress } from '../../../scripts/commands/progress';
import type { Config } from '../../../server/config';
import { hashPhone } from '../../../server/customers/phone';
import { AuditEntry, Branch, Customer, Manager } from '../../../server/db/entities';
import type { ImportReport } from '../../../server/imports/service';
import { DB_TARGETS, testConfig } from '../../helpers/db';
import { useFreshDb } from '../../helpers/fixtures';
import { ctxFor, dbChecksum, fixture, sqliteFilesChecksum } from './helpers';

describe.each(DB_TARGETS)('ops import on %s', (target) => {
  const db = useFreshDb(target, { tmp: 'ops-import-' });
  let config: Config;

  beforeAll(async () => {
    config = testConfig(db.url);
  });
  const run = (kind: 'branches' | 'managers' | 'customers', file: string, apply = false, extra = {}) =>
    importCommand({ kind, file, ...extra }, ctxFor(db.ds, config, { apply }));

  it('dry run of a good branches file reports inserts and leaves the database byte-for-byte unchanged', async () => {
    const before = await dbChecksum(db.ds);
    const files = target === 'sqlite' ? sqliteFilesChecksum(db.url) : '';
    const res = await run('branches', fixture('branches.csv'));
    const r = res.json as ImportReport;
    expect(res.exitCode).toBe(EXIT.ok);
    expect(r).toMatchObject({ rows: 4, inserted: 4, updated: 0, unchanged: 0, applied: false, errorRows: 0 });
    expect(res.output).toContain('dry run');
    expect(await dbChecksum(db.ds)).toBe(before);
    if (target === 'sqlite') expect(sqliteFilesChecksum(db.url)).toBe(files);
    expect(await db.ds.getRepository(Branch).count()).toBe(0);
  });

  it('--apply writes branches with an audit row, and a second apply changes nothing', async () => {
    const res = await run('branches', fixture('branches.csv'), true);
    expect(res.exitCode).toBe(EXIT.ok);
    expect(res.json).toMatchObject({ inserted: 4, applied: true });
    const pd = await db.ds.getRepository(Branch).findOneByOrFail({ code: 'PD01' });
    expect(pd).toMatchObject({ name: '浦东支行', parentCode: 'HQ', lat: 31.2215, lng: 121.544, active: true });
    const auditRow = await db.ds.getRepository(AuditEntry).findOneByOrFail({ action: 'import.branches' });
    expect(auditRow.actor).toBe('op-test');
    expect(auditRow.detail).toMatchObject({ inserted: 4, updated: 0, rows: 4 });

    const before = await dbChecksum(db.ds, ['audit_log']);
    const again = await run('branches', fixture('branches.csv'), true);
    expect(again.json).toMatchObject({ inserted: 0, updated: 0, unchanged: 4, applied: true });
    expect(await dbChecksum(db.ds, ['audit_log'])).toBe(before);
  });

  it('reads a UTF-8 file with BOM and CRLF line ends', async () => {
    const res = await run('branches', fixture('branches-bom.csv'), true);
    expect(res.json).toMatchObject({ encoding: 'utf-8', rows: 1, inserted: 1 });
    expect(await db.ds.getRepository(Branch).findOneByOrFail({ code: 'BOM1' })).toMatchObject({ name: '带BOM网点' });
  });

  it('reports every bad branch row with its line number and reason', async () => {
    const res = await run('branches', fixture('branches-broken.csv'));
    const r = res.json as ImportReport;
    expect(res.exitCode).toBe(EXIT.findings);
    const byLine = Object.fromEntries(r.issues.map((i) => [i.line, i.reason]));
    expect(Object.keys(byLine).map(Number)).toEqual([4, 5, 6]);
    expect(byLine[4]).toMatch(/unknown branch: parent_code "ZZ"/);
    expect(byLine[5]).toMatch(/lat 95 is outside -90..90/);
    expect(byLine[6]).toMatch(/duplicate key: code "B4" already on line 5/);
    // B1's parent B2 is defined later in the same file: not an error.
    expect(r.issues.some((i) => i.key === 'B1')).toBe(false);
  });

  it('imports managers, validating branch, capacity and status', async () => {
    const broken = await run('managers', fixture('managers-broken.csv'));
    const r = broken.json as ImportReport;
    expect(broken.exitCode).toBe(EXIT.findings);
    expect(r.issues.filter((i) => i.severity === 'error').map((i) => [i.line, i.column])).toEqual([
      [3, 'branch_code'],
      [4, 'capacity'],
      [5, 'status'],
    ]);
    expect(r.issues.find((i) => i.line === 6)).toMatchObject({ severity: 'warning', column: 'branch_code' });

    const good = await run('managers', fixture('managers.csv'), true);
    expect(good).toMatchObject({ exitCode: EXIT.ok, json: { inserted: 5 } });
    const lina = await db.ds.getRepository(Manager).findOneByOrFail({ userid: 'lina' });
    expect(lina).toMatchObject({ name: '李娜', branchCode: 'PD01', capacity: 150, status: 'active' });
  });

  it('imports a GBK customers file: names masked, phones only as salted hashes, unknown owner a warning', async () => {
    const res = await run('customers', fixture('customers-gbk.csv'), true);
    const r = res.json as ImportReport;
    expect(res.exitCode).toBe(EXIT.ok);
    expect(r).toMatchObject({ encoding: 'gbk', rows: 5, inserted: 5, errorRows: 0, warningRows: 1 });
    expect(r.issues[0]).toMatchObject({ line: 6, column: 'owner_userid', severity: 'warning' });
    const repo = db.ds.getRepository(Customer);
    const c1 = await repo.findOneByOrFail({ id: 'C0001' });
    expect(c1).toMatchObject({
      maskedName: '张*明',
      segment: '代发',
      ownerUserid: 'zhangwei',
      bankTags: ['高净值', '理财'],
    });
    expect(c1.phoneHash).toBe(hashPhone('13800138000', config.phoneHashSalt));
    expect((await repo.findOneByOrFail({ id: 'C0002' })).phoneHash).toBe(
      hashPhone('13900139000', config.phoneHashSalt),
    );
    expect((await repo.findOneByOrFail({ id: 'C0003' })).maskedName).toBe('欧**娜');
    expect((await repo.findOneByOrFail({ id: 'C0004' })).phoneHash).toBeNull();
    const all = JSON.stringify(await db.ds.query('SELECT * FROM customers'));
    for (const secret of ['13800138000', '13900139000', '张三明', '欧阳娜娜']) expect(all).not.toContain(secret);
    const audit = JSON.stringify(await db.ds.query('SELECT * FROM audit_log'));
    expect(audit).not.toContain('1380013');

    // Same data as UTF-8: every row unchanged.
    const utf8 = await run('customers', fixture('customers.csv'), true);
    expect(utf8.json).toMatchObject({ encoding: 'utf-8', inserted: 0, updated: 0, unchanged: 5 });
  });

  it('detects updates and writes only changed rows', async () => {
    const file = join(db.tmp, 'customers-changed.csv');
    writeFileSync(
      file,
      'customer_id,name,phone,segment,owner_userid,lat,lng,region_code,tags\n' +
        'C0001,张三明,138 0013 8000,高潜,zhangwei,31.2200,121.5400,310115,高净值|理财\n' +
        'C0004,王五,,代发,,31.2300,121.4500,310106,\n' +
        'C0099,新客户,,代发,,,,310106,\n',
    );
    const dry = await run('customers', file);
    expect(dry.json).toMatchObject({ inserted: 1, updated: 1, unchanged: 1 });
    expect((dry.json as ImportReport).samples).toContainEqual({ key: 'C0001', action: 'update', columns: ['segment'] });
    const applied = await run('customers', file, true);
    expect(applied.json).toMatchObject({ inserted: 1, updated: 1, unchanged: 1, applied: true });
    expect((await db.ds.getRepository(Customer).findOneByOrFail({ id: 'C0001' })).segment).toBe('高潜');
  });

  it('refuses a broken customers file with --apply, then imports the valid rows with --skip-invalid', async () => {
    const before = await dbChecksum(db.ds);
    const refused = await run('customers', fixture('customers-broken.csv'), true);
    const r = refused.json as ImportReport;
    expect(refused.exitCode).toBe(EXIT.findings);
    expect(r).toMatchObject({ refused: true, applied: false, rows: 10, errorRows: 8 });
    expect([...new Set(r.issues.map((i) => i.line))]).toEqual([3, 4, 5, 6, 7, 8, 9, 11]);
    expect(r.issues.find((i) => i.line === 3)!.reason).toBe('phone is not a valid phone number');
    expect(r.issues.find((i) => i.line === 4)!.reason).toMatch(/look swapped/);
    expect(r.issues.find((i) => i.line === 11)!.reason).toBe('expected 9 fields, found 3');
    expect(JSON.stringify(r)).not.toContain('12345');
    expect(refused.output).toContain('REFUSED');
    expect(await dbChecksum(db.ds)).toBe(before);

    const partial = await run('customers', fixture('customers-broken.csv'), true, { skipInvalid: true });
    expect(partial.exitCode).toBe(EXIT.findings);
    expect(partial.json).toMatchObject({ applied: true, inserted: 2, skipped: 8 });
    const ids = (await db.ds.getRepository(Customer).find({ select: { id: true } })).map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['C1001', 'C1009']));
    expect(ids).not.toContain('C1002');
  });

  it('detects GBK even when the first megabytes are plain ASCII', async () => {
    const iconv = require('iconv-lite') as typeof import('iconv-lite');
    const file = join(db.tmp, 'late-gbk.csv');
    const ascii = Array.from({ length: 60_000 }, (_, i) => `A${i},,,,,,,,`).join('\n');
    const header = 'customer_id,name,phone,segment,owner_userid,lat,lng,region_code,tags\n';
    writeFileSync(file, Buffer.concat([Buffer.from(`${header}${ascii}\n`), iconv.encode('Z1,诸葛亮,,,,,,,\n', 'gbk')]));
    const res = await run('customers', file);
    expect(res.json).toMatchObject({ encoding: 'gbk', rows: 60_001, errorRows: 0 });
  });

  it('treats an unusable file as an input error', async () => {
    const noHeader = join(db.tmp, 'no-owner.csv');
    writeFileSync(noHeader, 'customer_id,name\nC1,张三\n');
    await expect(run('customers', noHeader)).rejects.toThrow(UsageError);
    await expect(run('customers', noHeader)).rejects.toThrow(/lacks required column\(s\) phone, segment/);
    const empty = join(db.tmp, 'empty.csv');
    writeFileSync(empty, '');
    await expect(run('branches', empty)).rejects.toThrow(/header row is required/);
    await expect(run('branches', join(db.tmp, 'missing.csv'))).rejects.toThrow(/cannot read/);
  });

  it('imports 100,000 customers with progress, then finds them all unchanged', async () => {
    const file = join(db.tmp, 'customers-100k.csv');
    const lines = ['customer_id,name,phone,segment,owner_userid,lat,lng,region_code,tags'];
    for (let i = 0; i < 100_000; i++) {
      const lat = (30 + (i % 1000) / 1000).toFixed(4);
      const lng = (120 + (i % 997) / 997).toFixed(4);
      lines.push(
        `K${String(i).padStart(7, '0')},客户${i},1${String(3e9 + i)},代发,zhangwei,${lat},${lng},310115,标签${i % 7}`,
      );
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const progress = recordingProgress();
    const res = await importCommand({ kind: 'customers', file }, ctxFor(db.ds, config, { apply: true, progress }));
    expect(res.exitCode).toBe(EXIT.ok);
    expect(res.json).toMatchObject({ rows: 100_000, inserted: 100_000, applied: true });
    const validate = progress.events.filter((e) => e.label === 'validate');
    const write = progress.events.filter((e) => e.label === 'import');
    expect(validate.length).toBeGreaterThan(10);
    expect(write.length).toBeGreaterThan(10);
    expect(validate.at(-1)).toMatchObject({ rows: 100_000 });
    expect(validate.at(-1)!.value).toBe(validate.at(-1)!.total);
    expect(await db.ds.getRepository(Customer).countBy({ ownerUserid: 'zhangwei' })).toBeGreaterThanOrEqual(100_000);

    const again = await importCommand({ kind: 'customers', file }, ctxFor(db.ds, config, { apply: true }));
    expect(again.json).toMatchObject({ inserted: 0, updated: 0, unchanged: 100_000 });
  }, 120_000);
});
