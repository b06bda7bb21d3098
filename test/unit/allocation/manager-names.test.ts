import { managersInSummary, withManagerNames } from '../../../server/allocation/explain';

describe('allocation summary with manager names', () => {
  const summary = '管户客户经理 hz_sunlei 不可分配；最近网点 西湖支行 (1.2 km)，该网点负载最低的客户经理 wang.hz01';

  it('finds the userids a summary names', () => {
    expect(managersInSummary(summary)).toEqual(['hz_sunlei', 'wang.hz01']);
  });

  it('names every manager, and a userid gone from the table becomes a role, never a code', () => {
    const out = withManagerNames(summary, new Map([['wang.hz01', '王强']]));
    expect(out).toBe(
      '管户客户经理 （已不在名单中） 不可分配；最近网点 西湖支行 (1.2 km)，该网点负载最低的客户经理 王强',
    );
    expect(out).not.toMatch(/hz_sunlei|wang\.hz01/);
  });
});
