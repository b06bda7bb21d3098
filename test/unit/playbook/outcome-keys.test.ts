// Outcome keys and bank times of `ops import outcomes`: the one-shot hash must give the keys already
// stored (a re-import dedupes against them), and remembered times must equal freshly parsed ones.
import { createHash } from 'node:crypto';
import { outcomeKey, parseBankTime } from '../../../server/imports/outcomes';

describe('outcome keys and bank times', () => {
  it('outcomeKey is the SHA-1 hex of customer, event, product and time joined by NUL', () => {
    const at = Date.UTC(2026, 10, 3, 6, 5, 9);
    for (const product of ['稳享理财', null]) {
      const expected = createHash('sha1')
        .update(`C000123\u0000购买理财\u0000${product ?? ''}\u0000${at}`)
        .digest('hex');
      expect(outcomeKey('C000123', '购买理财', product, at)).toBe(expected);
    }
    expect(outcomeKey('C1', '开户', null, 1)).not.toBe(outcomeKey('C1', '开户', '', 2));
  });

  it('parseBankTime gives the same answer the second time (UTC+8, invalid → null)', () => {
    const cases: [string, number | null][] = [
      ['2026-11-03', Date.UTC(2026, 10, 2, 16, 0, 0)],
      ['2026/11/3 14:05', Date.UTC(2026, 10, 3, 6, 5, 0)],
      ['20261103 14:05:09', Date.UTC(2026, 10, 3, 6, 5, 9)],
      ['2026-02-30', null],
      ['2026-11-03 24:00', null],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [raw, expected] of cases) expect(parseBankTime(raw)).toBe(expected);
    }
  });
});
