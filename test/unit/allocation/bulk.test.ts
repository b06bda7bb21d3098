import {
  buildIndex,
  commit,
  DEFAULT_RULE_SET,
  decide,
  decideBulk,
  type EngineCustomer,
  parseRuleSet,
} from '../../../server/allocation';
import { branch, manager, northBy } from './helpers';

const LAT = 31.23;
const LNG = 121.47;

function twoBranches() {
  return buildIndex(
    [branch('B1', northBy(LAT, 1), LNG), branch('B2', northBy(LAT, 5), LNG)],
    [
      manager('a', 'B1', { capacity: 2, load: 0 }),
      manager('b', 'B1', { capacity: 2, load: 1 }),
      manager('c', 'B2', { capacity: 10, load: 0 }),
    ],
  );
}

describe('bulk decisions account for the load they add', () => {
  it('spreads customers by load and overflows to the next branch when full', () => {
    const index = twoBranches();
    const customers: EngineCustomer[] = Array.from({ length: 5 }, (_, i) => ({
      customerId: `c${i}`,
      lat: LAT,
      lng: LNG,
    }));
    const chosen = [...decideBulk(customers, index, DEFAULT_RULE_SET)].map((d) => d.userid);
    // a(0) → a(1) ties b(1) and wins on userid → b(1) → b(2) full, a(2) full → c.
    expect(chosen).toEqual(['a', 'a', 'b', 'c', 'c']);
    expect([index.loadOf('a'), index.loadOf('b'), index.loadOf('c')]).toEqual([2, 2, 2]);
  });

  it('decide alone does not change loads; commit does', () => {
    const index = twoBranches();
    const d = decide({ lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET);
    expect(decide({ lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET).userid).toBe(d.userid);
    expect(index.loadOf('a')).toBe(0);
    expect(commit(index, d)).toBe(true);
    expect(index.loadOf('a')).toBe(1);
    expect(index.getManager('a')).toMatchObject({ userid: 'a', load: 1, capacity: 2 });
  });

  it('adds owner loads even past capacity, and none for an existing follow or no decision', () => {
    const index = twoBranches();
    index.setLoad('a', 2);
    expect(commit(index, decide({ ownerUserid: 'a' }, index, DEFAULT_RULE_SET))).toBe(true);
    expect(index.loadOf('a')).toBe(3);

    const keepAdded = parseRuleSet({ version: 't', noLocationPolicy: 'added_manager' });
    const kept = decide({ addedUserid: 'c' }, index, keepAdded);
    expect(kept.reason).toBe('added_manager');
    expect(commit(index, kept)).toBe(false);
    expect(index.loadOf('c')).toBe(0);

    expect(commit(index, decide({}, index, DEFAULT_RULE_SET))).toBe(false);
  });

  it('reopens a full manager when a follow is released', () => {
    const index = twoBranches();
    index.setLoad('a', 2);
    index.setLoad('b', 2);
    expect(decide({ lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET).userid).toBe('c');
    expect(index.releaseAssignment('b')).toBe(true);
    expect(decide({ lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET).userid).toBe('b');
    expect(index.releaseAssignment('nobody')).toBe(false);
    index.setLoad('b', 0);
    expect(index.releaseAssignment('b')).toBe(true);
    expect(index.loadOf('b')).toBe(0);
  });
});

describe('buildIndex', () => {
  it('reports data problems as warnings instead of throwing', () => {
    const index = buildIndex(
      [branch('B1', LAT, LNG), branch('B1', LAT, LNG), branch('NOWHERE', Number.NaN, LNG)],
      [manager('a', 'B1'), manager('a', 'B1'), manager('lost', 'B9')],
    );
    expect(index.warnings).toEqual([
      'duplicate branch code B1: the last record wins',
      'branch NOWHERE has no valid coordinates: it is never chosen as nearest',
      'duplicate manager a: the last record wins',
      'manager lost belongs to unknown branch B9',
    ]);
    expect([index.branchCount, index.managerCount]).toEqual([2, 2]);
    // A manager of an unknown branch can still be an owner.
    expect(decide({ ownerUserid: 'lost' }, index, DEFAULT_RULE_SET)).toMatchObject({
      userid: 'lost',
      branchCode: 'B9',
    });
  });

  it('copies its input so later edits of the records do not leak in', () => {
    const m = manager('a', 'B1');
    const index = buildIndex([branch('B1', LAT, LNG)], [m]);
    m.status = 'resigned';
    expect(decide({ lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET).userid).toBe('a');
  });

  it('works with no branches at all', () => {
    const index = buildIndex([], []);
    expect(decide({ lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET)).toMatchObject({ userid: null, reason: 'none' });
  });
});
