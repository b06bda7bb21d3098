import { parseRuleSet, RuleSetError } from '../../../server/allocation';
import { allocationContext } from '../../../server/allocation/cache';
import { allocationIdFromState } from '../../../server/allocation/ids';
import {
  activateRuleSet,
  getActiveRuleSet,
  listRuleSets,
  rollback,
  saveRuleSet,
} from '../../../server/allocation/ruleset-store';
import {
  allocateCustomer,
  confirmAllocation,
  explainAllocation,
  invalidateAllocationCache,
  replayAllocations,
} from '../../../server/allocation/service';
import { hashPhone } from '../../../server/customers/phone';
import { Allocation, AuditEntry, Customer, RuleSetRow } from '../../../server/db/entities';
import { DB_TARGETS, openFreshDb } from '../../helpers/db';
import { HZ_EAST, HZ_WEST, seedOrg } from './seed';

const SALT = 'test-salt-0123456789abcdef';

describe.each(DB_TARGETS)('allocation service on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;

  beforeAll(async () => {
    fresh = await openFreshDb(target);
    await seedOrg(fresh.ds);
  });
  afterAll(async () => {
    await fresh.ds.destroy();
    await fresh.drop();
  });

  test('rule sets: save validates, activation keeps exactly one active, rollback restores the previous', async () => {
    const db = fresh.ds;
    expect((await getActiveRuleSet(db)).version).toBe('default');
    await expect(saveRuleSet(db, { version: 'bad', maxDistance: 5 }, 'ops')).rejects.toBeInstanceOf(RuleSetError);
    await saveRuleSet(db, { version: 'v1', maxDistanceMeters: 30_000 }, 'ops');
    await saveRuleSet(db, JSON.stringify({ version: 'v2', mismatchPolicy: 'transfer_to_owner' }), 'ops');
    await expect(saveRuleSet(db, { version: 'v1' }, 'ops')).rejects.toMatchObject({ code: 'rule_set_exists' });

    await activateRuleSet(db, 'v1', 'ops', 1000);
    await activateRuleSet(db, 'v2', 'ops', 2000);
    expect(await db.manager.count(RuleSetRow, { where: { active: true } })).toBe(1);
    expect((await getActiveRuleSet(db)).version).toBe('v2');

    const back = await rollback(db, 'ops', 3000);
    expect(back.version).toBe('v1');
    const list = await listRuleSets(db);
    expect(list.filter((r) => r.active).map((r) => r.version)).toEqual(['v1']);
    expect(await db.manager.count(AuditEntry, { where: { action: 'ruleset.activate' } })).toBe(3);
    await expect(activateRuleSet(db, 'nope', 'ops')).rejects.toMatchObject({ code: 'rule_set_not_found' });
  });

  test('owner wins; nearest branch by distance with least-loaded manager; row + audit persisted', async () => {
    const db = fresh.ds;
    invalidateAllocationCache(db);
    const owned = await allocateCustomer(
      db,
      { customerId: 'C001', lat: HZ_WEST.lat, lng: HZ_WEST.lng },
      {
        source: 'script',
        actor: 'test',
        salt: SALT,
      },
    );
    expect(owned.allocation.userid).toBe('zhao_hz02');
    expect(owned.allocation.reason).toBe('owner');

    // Near the west branch: li already has one follow, wang has none.
    const near = await allocateCustomer(
      db,
      { customerId: 'C002', lat: HZ_WEST.lat + 0.001, lng: HZ_WEST.lng },
      {
        source: 'entry',
        campaign: 'spring',
        actor: 'test',
        salt: SALT,
      },
    );
    expect(near.allocation).toMatchObject({ userid: 'wang_hz01', branchCode: 'HZ01', reason: 'nearest_branch' });
    expect(near.allocation.distanceMeters).toBeGreaterThan(50);
    expect(near.allocation.distanceMeters).toBeLessThan(200);
    expect(allocationIdFromState(near.allocation.state)).toBe(near.allocation.id);

    const stored = await db.manager.findOneByOrFail(Allocation, { id: near.allocation.id });
    expect(stored.ruleVersion).toBe('v1');
    expect(stored.status).toBe('open');
    expect(stored.expiresAt).toBeGreaterThan(stored.createdAt);
    expect((stored.explanation as { rule: string }).rule).toBe('nearest_branch');
    const auditRow = await db.manager.findOneByOrFail(AuditEntry, { subject: `allocation:${near.allocation.id}` });
    expect(auditRow.action).toBe('allocation.decide');

    // The in-process index counted wang's new customer: the next one near HZ01 goes to li (1 vs 1, li < wang).
    const ctx = await allocationContext(db);
    expect(ctx.index.loadOf('wang_hz01')).toBe(1);
  });

  test('phone-only customers get a stable prospect id and no clear phone is stored', async () => {
    const db = fresh.ds;
    const phone = '+86 138-0013-8000';
    const a = await allocateCustomer(
      db,
      { phone, lat: HZ_EAST.lat, lng: HZ_EAST.lng },
      {
        source: 'entry',
        actor: 'test',
        salt: SALT,
      },
    );
    expect(a.allocation.customerId).toMatch(/^p_[0-9a-f]{32}$/);
    const prospect = await db.manager.findOneByOrFail(Customer, { id: a.allocation.customerId! });
    expect(prospect.phoneHash).toBe(hashPhone('13800138000', SALT));
    const everything =
      JSON.stringify(await db.manager.find(AuditEntry)) + JSON.stringify(await db.manager.find(Allocation));
    expect(everything).not.toContain('13800138000');
  });

  test('confirm is idempotent; explain finds the allocation by id, customer and external contact', async () => {
    const db = fresh.ds;
    const { allocation } = await allocateCustomer(
      db,
      { customerId: 'C002', lat: HZ_EAST.lat, lng: HZ_EAST.lng },
      {
        source: 'entry',
        actor: 'test',
        salt: SALT,
      },
    );
    expect(await confirmAllocation(db, allocation.id, 'wm_c002', 'test')).toBe(true);
    expect(await confirmAllocation(db, allocation.id, 'wm_c002', 'test')).toBe(false);
    // The earlier open allocation of C002 is superseded by the confirmed one.
    const statuses = (await db.manager.findBy(Allocation, { customerId: 'C002' })).map((r) => r.status).sort();
    expect(statuses).toEqual(['confirmed', 'superseded']);

    for (const key of [allocation.id, 'C002', 'wm_c002']) {
      const ex = await explainAllocation(db, key);
      expect(ex?.allocation.id).toBe(allocation.id);
      expect(ex?.text).toContain('nearest_branch');
    }
    expect(await explainAllocation(db, 'unknown')).toBeNull();
  });

  test('replay reports what a different rule set would move, without writing', async () => {
    const db = fresh.ds;
    await allocateCustomer(
      db,
      { phone: '13900001111', lat: HZ_WEST.lat, lng: HZ_WEST.lng + 0.002 },
      {
        source: 'entry',
        actor: 'test',
        salt: SALT,
      },
    );
    const before = await db.manager.count(Allocation);
    // Close the west branch: allocations made there would move east.
    const closed = parseRuleSet({ version: 'closed-hz01', closedBranches: ['HZ01'] });
    const result = await replayAllocations(db, 0, closed);
    expect(result.considered).toBeGreaterThanOrEqual(3);
    const fromWest = result.moved.filter((m) => m.fromUserid?.endsWith('_hz01'));
    expect(fromWest.length).toBeGreaterThan(0);
    for (const m of fromWest) expect(m.toBranchCode).toBe('HZ02');
    // The owner allocation does not move.
    expect(result.moved.find((m) => m.customerId === 'C001')).toBeUndefined();
    expect(await db.manager.count(Allocation)).toBe(before);
  });
});
