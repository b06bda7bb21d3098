import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../../../scripts/commands/context';
import { importCommand } from '../../../scripts/commands/import';
import type { Config } from '../../../server/config';
import { Customer, CustomerHolding } from '../../../server/db/entities';
import type { ImportReport } from '../../../server/imports/service';
import { DB_TARGETS, testConfig } from '../../helpers/db';
import { useFreshDb } from '../../helpers/fixtures';
import { ctxFor, dbChecksum, fixture } from './helpers';

/** Bank data for the 360° card: profile columns on customers, and `import holdings`. */
describe.each(DB_TARGETS)('ops import of card data on %s', (target) => {
  const db = useFreshDb(target, { tmp: 'ops-import-card-' });
  let config: Config;

  const run = (kind: 'branches' | 'managers' | 'customers' | 'holdings', file: string, apply = false) =>
    importCommand({ kind, file }, ctxFor(db.ds, config, { apply }));
  const write = (name: string, text: string, encoding: 'utf-8' | 'gbk' = 'utf-8') => {
    const iconv = require('iconv-lite') as typeof import('iconv-lite');
    const file = join(db.tmp, name);
    writeFileSync(file, encoding === 'gbk' ? iconv.encode(text, 'gbk') : text);
    return file;
  };

  beforeAll(async () => {
    config = testConfig(db.url);
    await run('branches', fixture('branches.csv'), true);
    await run('managers', fixture('managers.csv'), true);
  });
  it('imports the optional profile columns; a full birthdate keeps only month and day', async () => {
    const file = write(
      'customers-profile.csv',
      'customer_id,name,phone,segment,owner_userid,lat,lng,region_code,tags,asset_tier,risk_rating,risk_rating_date,birthday,preferred_branch\n' +
        'P001,张三明,13800138000,代发,zhangwei,31.22,121.54,310115,,金卡,C3,2026-03-01,1985-12-03,PD01\n' +
        'P002,李四,,高潜,lina,,,310104,,钻石,稳健型,2025/11/30,02-29,\n' +
        'P003,王五,,代发,,,,310106,,,,,,\n',
      'gbk',
    );
    const res = await run('customers', file, true);
    expect(res.exitCode).toBe(EXIT.ok);
    expect(res.json).toMatchObject({ encoding: 'gbk', inserted: 3, errorRows: 0 });
    const repo = db.ds.getRepository(Customer);
    expect(await repo.findOneByOrFail({ id: 'P001' })).toMatchObject({
      assetTier: '金卡',
      riskRating: 'C3',
      riskRatedOn: '2026-03-01',
      birthdayMd: '12-03',
      preferredBranch: 'PD01',
    });
    expect(await repo.findOneByOrFail({ id: 'P002' })).toMatchObject({
      riskRating: 'C2',
      riskRatedOn: '2025-11-30',
      birthdayMd: '02-29',
      preferredBranch: null,
    });
    const all = JSON.stringify(await db.ds.query('SELECT * FROM customers'));
    expect(all).not.toContain('1985');

    // A file without the optional columns leaves them as they are.
    const plain = write(
      'customers-plain.csv',
      'customer_id,name,phone,segment,owner_userid,lat,lng,region_code,tags\nP001,张三明,13800138000,代发,zhangwei,31.22,121.54,310115,\n',
    );
    expect((await run('customers', plain, true)).json).toMatchObject({ unchanged: 1 });
    expect((await repo.findOneByOrFail({ id: 'P001' })).assetTier).toBe('金卡');
  });

  it('reports bad profile values by line without echoing a birthdate', async () => {
    const file = write(
      'customers-bad-profile.csv',
      'customer_id,name,phone,segment,owner_userid,lat,lng,region_code,tags,risk_rating,risk_rating_date,birthday,preferred_branch\n' +
        'Q001,甲,,代发,,,,1,,C9,2026-01-01,,\n' +
        'Q002,乙,,代发,,,,1,,C1,2026-02-30,,\n' +
        'Q003,丙,,代发,,,,1,,,,1990-13-45,\n' +
        'Q004,丁,,代发,,,,1,,C2,2026-01-01,,ZZ99\n',
    );
    const res = await run('customers', file);
    const r = res.json as ImportReport;
    expect(res.exitCode).toBe(EXIT.findings);
    expect(r.issues.map((i) => [i.line, i.column, i.severity])).toEqual([
      [2, 'risk_rating', 'error'],
      [3, 'risk_rating_date', 'error'],
      [4, 'birthday', 'error'],
      [5, 'preferred_branch', 'warning'],
    ]);
    expect(JSON.stringify(r)).not.toContain('1990');
  });

  it('imports holdings from GBK: bands only, one row per lot, and again unchanged', async () => {
    const text =
      'customer_id,product,product_type,amount_band,open_date,maturity_date\n' +
      'P001,稳盈90天,理财,20-50万,2026-09-01,2026-11-30\n' +
      'P001,三年期大额存单,大额存单,50-100万,2024-01-15,2027-01-15\n' +
      'P002,沪深300指数,基金,5万以下,2025-06-01,\n';
    const file = write('holdings.csv', text, 'gbk');
    const before = await dbChecksum(db.ds);
    const dry = await run('holdings', file);
    expect(dry.json).toMatchObject({ encoding: 'gbk', rows: 3, inserted: 3, applied: false });
    expect(await dbChecksum(db.ds)).toBe(before);

    const res = await run('holdings', file, true);
    expect(res.exitCode).toBe(EXIT.ok);
    expect(res.json).toMatchObject({ inserted: 3, applied: true });
    const rows = await db.ds.getRepository(CustomerHolding).find({ order: { id: 'ASC' } });
    expect(rows.map((r) => [r.customerId, r.product, r.productType, r.amountBand, r.openedOn, r.maturesOn])).toEqual([
      ['P001', '三年期大额存单', '存款', '50-100万', '2024-01-15', '2027-01-15'],
      ['P001', '稳盈90天', '理财', '20-50万', '2026-09-01', '2026-11-30'],
      ['P002', '沪深300指数', '基金', '5万以下', '2025-06-01', null],
    ]);
    expect((await run('holdings', file, true)).json).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });

    const changed = write('holdings-changed.csv', text.replace('20-50万,2026-09-01', '50-100万,2026-09-01'));
    expect((await run('holdings', changed, true)).json).toMatchObject({ updated: 1, unchanged: 2 });
  });

  it('refuses a holdings file with any bad row, writes nothing, and never repeats an amount', async () => {
    const file = write(
      'holdings-bad.csv',
      'customer_id,product,product_type,amount_band,open_date,maturity_date\n' +
        'P003,七天通知存款,存款,5-20万,2026-10-01,2026-12-01\n' +
        'NOPE,稳盈90天,理财,20-50万,2026-09-01,2026-11-30\n' +
        'P003,稳盈180天,理财,"123,456.78",2026-09-01,2027-03-01\n' +
        'P003,黄金,贵金属,5万以下,2026-09-01,\n' +
        'P003,稳盈30天,理财,5万以下,2026-09-31,2026-10-01\n' +
        'P003,稳盈60天,理财,5万以下,2026-09-01,2026-08-01\n' +
        'P003,七天通知存款,存款,5-20万,2026-10-01,2026-12-01\n',
    );
    const before = await dbChecksum(db.ds);
    const res = await run('holdings', file, true);
    const r = res.json as ImportReport;
    expect(res.exitCode).toBe(EXIT.findings);
    expect(r).toMatchObject({ refused: true, applied: false, errorRows: 6 });
    expect(r.issues.map((i) => [i.line, i.column])).toEqual([
      [3, 'customer_id'],
      [4, 'amount_band'],
      [5, 'product_type'],
      [6, 'open_date'],
      [7, 'maturity_date'],
      [8, 'customer_id'],
    ]);
    expect(r.issues[1].reason).toMatch(/holds an amount, not a band/);
    expect(r.issues[5].reason).toMatch(/duplicate key: row .* already on line 2/);
    expect(JSON.stringify(r)).not.toMatch(/123,456|123456/);
    expect(await dbChecksum(db.ds)).toBe(before);
    expect(await db.ds.getRepository(CustomerHolding).countBy({ customerId: 'P003' })).toBe(0);
  });
});
