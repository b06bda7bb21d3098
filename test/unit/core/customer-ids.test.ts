import { canonicalCustomerId, parseCustomerId } from '../../../server/customers/ids';
import { customersSpec } from '../../../server/imports/specs';

describe('customer ids: one canonical form', () => {
  it('trims and upper-cases bank ids; prospect ids keep their lower-case hex', () => {
    expect(canonicalCustomerId('c1')).toBe('C1');
    expect(canonicalCustomerId(' C1 ')).toBe('C1');
    expect(canonicalCustomerId('\tcn-0042.a@x ')).toBe('CN-0042.A@X');
    const prospect = `p_${'ab12'.repeat(8)}`;
    expect(canonicalCustomerId(prospect)).toBe(prospect);
    expect(canonicalCustomerId(` P_${'AB12'.repeat(8)}`)).toBe(prospect);
    expect(canonicalCustomerId(canonicalCustomerId(' c1 '))).toBe('C1');
  });

  it('parseCustomerId refuses what is not an id', () => {
    expect(parseCustomerId(' c1 ')).toBe('C1');
    for (const bad of ['', '   ', 'C 1', 'C1;', '客户1', 'x'.repeat(65), null, undefined]) {
      expect(parseCustomerId(bad)).toBeNull();
    }
  });

  it('imports store the canonical id', () => {
    const row = customersSpec.parse(
      (c) => ({ customer_id: 'c1', name: '张三明', lat: '31.2', lng: '121.5' })[c] ?? '',
      () => undefined,
      { phoneSalt: 'unit-salt-0123456789' },
    );
    expect(row?.id).toBe('C1');
  });
});
