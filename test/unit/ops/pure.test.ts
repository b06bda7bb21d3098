import { formatTime, parseTime } from '../../../scripts/commands/args';
import { UsageError } from '../../../scripts/commands/context';
import { displayWidth, pad, renderTable } from '../../../scripts/commands/table';
import { hashPhone, isPlausiblePhone, normalizePhone, redactPhones } from '../../../server/customers/phone';
import { maskName } from '../../../server/imports/mask';
import { customersSpec, type DbRow } from '../../../server/imports/specs';
import { batchSize, selectByKeysSql, upsertSql } from '../../../server/imports/upsert';

describe('table output', () => {
  it('counts CJK and full-width characters as two columns', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('浦东支行')).toBe(8);
    expect(displayWidth('张伟 (zhangwei)')).toBe(15);
    expect(displayWidth('ＡＢ，')).toBe(6);
    expect(pad('支行', 6)).toBe('支行  ');
    expect(pad('7', 3, 'right')).toBe('  7');
  });

  it('aligns mixed Chinese/ASCII columns and right-aligns numbers', () => {
    const lines = renderTable(
      ['网点', 'n'],
      [
        ['浦东支行', 15],
        ['HQ', 4],
      ],
    ).split('\n');
    expect(lines).toEqual(['网点       n', '────────  ──', '浦东支行  15', 'HQ         4']);
    expect(new Set(lines.map(displayWidth)).size).toBe(1);
  });
});

describe('phones and names', () => {
  it('normalises +86, spaces and dashes before hashing with the salt', () => {
    expect(normalizePhone('+86 138-0013-8000')).toBe('13800138000');
    expect(normalizePhone('0086 13800138000')).toBe('13800138000');
    expect(hashPhone('+86 138 0013 8000', 'salt-a')).toBe(hashPhone('13800138000', 'salt-a'));
    expect(hashPhone('13800138000', 'salt-a')).not.toBe(hashPhone('13800138000', 'salt-b'));
    expect(hashPhone('13800138000', 'salt-a')).toMatch(/^[0-9a-f]{64}$/);
    expect(isPlausiblePhone('12345')).toBe(false);
    expect(isPlausiblePhone('138 0013 8000')).toBe(true);
  });

  it('redacts phone-like numbers from messages that echo input', () => {
    expect(redactPhones('lat 13800138000 is outside -90..90')).toBe('lat [phone] is outside -90..90');
    expect(redactPhones('owner "+86 138-0013-8000" unknown')).toBe('owner "[phone]" unknown');
    expect(redactPhones('customer C10000000001 at 31.2304')).toBe('customer C10000000001 at 31.2304');
    expect(redactPhones('id 123456789012')).toBe('id 123456789012');
  });

  it('masks names as 张*明 keeping first and last characters', () => {
    expect(maskName('张三明')).toBe('张*明');
    expect(maskName('李四')).toBe('李*');
    expect(maskName('欧阳娜娜')).toBe('欧**娜');
    expect(maskName('王')).toBe('*');
    expect(maskName('')).toBe('');
    expect(maskName('张*明')).toBe('张*明');
  });
});

describe('customer row validation', () => {
  const parse = (fields: Record<string, string>) => {
    const issues: string[] = [];
    const row = customersSpec.parse(
      (c) => fields[c] ?? '',
      (column, reason, warn) => issues.push(`${warn ? 'W' : 'E'} ${column}: ${reason}`),
      { phoneSalt: 'unit-salt-0123456789' },
    );
    return { row, issues };
  };

  it('turns a good row into database form without the phone or the full name', () => {
    const { row, issues } = parse({
      customer_id: 'C1',
      name: '张三明',
      phone: '13800138000',
      lat: '31.2',
      lng: '121.5',
      tags: '理财|基金，理财',
    });
    expect(issues).toEqual([]);
    expect(row).toMatchObject({
      id: 'C1',
      masked_name: '张*明',
      lat: 31.2,
      lng: 121.5,
      bank_tags: '["理财","基金"]',
    } satisfies DbRow);
    expect(JSON.stringify(row)).not.toMatch(/13800138000|张三明/);
  });

  it('explains bad coordinates, swapped ones and placeholders', () => {
    expect(parse({ customer_id: 'C1', lat: '121.5', lng: '31.2' }).issues[0]).toMatch(/look swapped/);
    expect(parse({ customer_id: 'C1', lat: '0', lng: '0' }).issues[0]).toMatch(/placeholder/);
    expect(parse({ customer_id: 'C1', lat: '31.2' }).issues[0]).toMatch(/both lat and lng/);
    const abroad = parse({ customer_id: 'C1', lat: '48.85', lng: '2.35' });
    expect(abroad.row).not.toBeNull();
    expect(abroad.issues[0]).toMatch(/^W lat: .*outside mainland China/);
  });
});

describe('upsert SQL', () => {
  it('uses ON DUPLICATE KEY UPDATE on MySQL and ON CONFLICT on SQLite', () => {
    expect(upsertSql('mysql', 'branches', ['code', 'name'], ['code'], ['name'], 2)).toBe(
      'INSERT INTO `branches` (`code`,`name`) VALUES (?,?),(?,?) ON DUPLICATE KEY UPDATE `name`=VALUES(`name`)',
    );
    expect(upsertSql('sqlite', 'branches', ['code', 'name'], ['code'], ['name'], 1)).toBe(
      'INSERT INTO "branches" ("code","name") VALUES (?,?) ON CONFLICT("code") DO UPDATE SET "name"=excluded."name"',
    );
    expect(selectByKeysSql('sqlite', 'customers', ['id'], 'id', 3)).toBe(
      'SELECT "id" FROM "customers" WHERE "id" IN (?,?,?)',
    );
    expect(() => upsertSql('mysql', 'x; DROP', ['a'], ['a'], ['a'], 1)).toThrow(/unsafe identifier/);
    expect(batchSize(11) * 11).toBeLessThanOrEqual(30_000);
  });
});

describe('time arguments', () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  it('reads dates, date-times, epoch ms and spans', () => {
    expect(parseTime('7d', now)).toBe(now - 7 * 86_400_000);
    expect(parseTime('12h', now)).toBe(now - 12 * 3_600_000);
    expect(parseTime('1763856000000', now)).toBe(1763856000000);
    expect(parseTime('2026-11-01T08:00Z', now)).toBe(Date.UTC(2026, 10, 1, 8, 0, 0));
    expect(formatTime(new Date(2026, 10, 1, 8, 5).getTime())).toBe('2026-11-01 08:05');
    expect(() => parseTime('soon', now, 'since')).toThrow(UsageError);
  });
});
