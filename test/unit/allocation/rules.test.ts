import {
  buildIndex,
  DEFAULT_RULE_SET,
  type Decision,
  decide,
  explainInWords,
  haversineMeters,
  parseRuleSet,
} from '../../../server/allocation';
import { branch, manager, northBy } from './helpers';

// West Lake, Hangzhou: branches are placed north of it at known distances.
const LAT = 30.25;
const LNG = 120.15;

describe('rule 1: owner first', () => {
  const index = buildIndex(
    [branch('NEAR', northBy(LAT, 1), LNG), branch('FAR', northBy(LAT, 30), LNG)],
    [
      manager('near1', 'NEAR'),
      manager('owner', 'FAR', { capacity: 10, load: 25 }),
      manager('gone', 'FAR', { status: 'resigned' }),
      manager('away', 'FAR', { status: 'leave' }),
    ],
  );

  it('gives the customer to an active owner even over capacity and far away', () => {
    const d = decide({ ownerUserid: 'owner', lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET);
    expect(d).toMatchObject({ userid: 'owner', branchCode: 'FAR', reason: 'owner' });
    expect(d.explanation.rule).toBe('owner');
    expect(d.explanation.steps).toEqual([{ rule: 'owner', outcome: 'chosen', detail: 'owner owner is active' }]);
  });

  it.each([
    ['gone', 'resigned'],
    ['away', 'on_leave'],
    ['nobody', 'unknown_manager'],
  ])('falls through to the nearest branch when the owner %s is %s', (owner, why) => {
    const d = decide({ ownerUserid: owner, lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET);
    expect(d).toMatchObject({ userid: 'near1', branchCode: 'NEAR', reason: 'nearest_branch' });
    expect(d.explanation.steps[0]).toEqual({ rule: 'owner', outcome: 'skipped', detail: `owner ${owner}: ${why}` });
    expect(d.explanation.summary).toContain(`Owner ${owner} is not available`);
  });

  it('keeps an owner who paused new customers or whose branch is closed', () => {
    const closedBranch = buildIndex(
      [branch('NEAR', northBy(LAT, 1), LNG), branch('SHUT', northBy(LAT, 3), LNG, { active: false })],
      [manager('near1', 'NEAR'), manager('owner', 'SHUT', { accepting: false })],
    );
    const rs = parseRuleSet({ version: 't', closedBranches: ['SHUT'] });
    expect(decide({ ownerUserid: 'owner', lat: LAT, lng: LNG }, closedBranch, rs)).toMatchObject({
      userid: 'owner',
      reason: 'owner',
    });
  });

  it('keeps an owner on leave when the rule set does not exclude leave', () => {
    const rs = parseRuleSet({ version: 't', excludeStatuses: ['resigned'] });
    expect(decide({ ownerUserid: 'away', lat: LAT, lng: LNG }, index, rs).userid).toBe('away');
  });
});

describe('rule 2: nearest branch', () => {
  it('measures real distance, not list order or region code', () => {
    // AAA is listed first and shares the customer's region code, yet it is 12 km away; ZZZ is 2 km away.
    const index = buildIndex(
      [
        branch('AAA', northBy(LAT, 12), LNG, { regionCode: '330106' }),
        branch('ZZZ', northBy(LAT, -2), LNG, { regionCode: '330108' }),
      ],
      [manager('a1', 'AAA'), manager('z1', 'ZZZ', { load: 50 })],
    );
    const d = decide({ lat: LAT, lng: LNG, regionCode: '330106' }, index, DEFAULT_RULE_SET);
    expect(d).toMatchObject({ userid: 'z1', branchCode: 'ZZZ', reason: 'nearest_branch' });
    expect(d.distanceMeters).toBe(haversineMeters(LAT, LNG, northBy(LAT, -2), LNG));
    expect(d.distanceMeters).toBeCloseTo(2000, -1);
  });

  it('breaks distance ties by branch code, then by load, then by userid', () => {
    const index = buildIndex(
      [branch('B2', northBy(LAT, 3), LNG), branch('B1', northBy(LAT, 3), LNG)],
      [
        manager('x-b2', 'B2'),
        manager('m3', 'B1', { load: 4 }),
        manager('m2', 'B1', { load: 2 }),
        manager('m1', 'B1', { load: 2 }),
      ],
    );
    const d = decide({ lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET);
    expect(d).toMatchObject({ userid: 'm1', branchCode: 'B1' });
    index.recordAssignment('m1');
    expect(decide({ lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET).userid).toBe('m2');
  });

  describe('skipping branches and managers', () => {
    const branches = [
      branch('B1', northBy(LAT, 1), LNG),
      branch('B2', northBy(LAT, 2), LNG),
      branch('B3', northBy(LAT, 3), LNG),
    ];

    it('skips a branch whose managers are full, on leave, resigned or not accepting', () => {
      const index = buildIndex(branches, [
        manager('full', 'B1', { capacity: 5, load: 5 }),
        manager('leave', 'B1', { status: 'leave' }),
        manager('gone', 'B1', { status: 'resigned' }),
        manager('paused', 'B1', { accepting: false }),
        manager('op', 'B1', { role: 'operator' }),
        manager('ok', 'B2', { load: 90 }),
      ]);
      const d = decide({ lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET);
      expect(d).toMatchObject({ userid: 'ok', branchCode: 'B2' });
      const [skipped, chosen] = d.explanation.branches;
      expect(skipped).toMatchObject({ code: 'B1', outcome: 'skipped', skipReason: 'no_eligible_manager' });
      expect(new Map(skipped.managers?.map((m) => [m.userid, m.reason]))).toEqual(
        new Map([
          ['full', 'over_capacity'],
          ['leave', 'on_leave'],
          ['gone', 'resigned'],
          ['paused', 'not_accepting'],
          ['op', 'role_not_allocatable'],
        ]),
      );
      expect(chosen).toMatchObject({ code: 'B2', outcome: 'chosen' });
      expect(d.explanation.summaryZh).toContain('跳过 1 个更近的网点');
    });

    it('picks the least-loaded eligible manager within the branch, passing over ineligible ones', () => {
      const index = buildIndex(branches, [
        manager('a', 'B1', { load: 0, status: 'leave' }),
        manager('b', 'B1', { load: 1, capacity: 1 }),
        manager('c', 'B1', { load: 7 }),
        manager('d', 'B1', { load: 3 }),
      ]);
      expect(decide({ lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET).userid).toBe('d');
    });

    it('ignores capacity when the rule set says so', () => {
      const index = buildIndex(branches, [manager('full', 'B1', { capacity: 5, load: 9 }), manager('ok', 'B2')]);
      const rs = parseRuleSet({ version: 't', respectCapacity: false });
      expect(decide({ lat: LAT, lng: LNG }, index, rs).userid).toBe('full');
    });

    it('skips inactive branches and branches the rule set closes', () => {
      const index = buildIndex(
        [branch('B1', northBy(LAT, 1), LNG, { active: false }), branches[1], branches[2]],
        [manager('m1', 'B1'), manager('m2', 'B2'), manager('m3', 'B3')],
      );
      const rs = parseRuleSet({ version: 't', closedBranches: ['B2'] });
      const d = decide({ lat: LAT, lng: LNG }, index, rs);
      expect(d).toMatchObject({ userid: 'm3', branchCode: 'B3' });
      expect(d.explanation.branches.map((b) => [b.code, b.skipReason ?? b.outcome])).toEqual([
        ['B1', 'closed'],
        ['B2', 'closed'],
        ['B3', 'chosen'],
      ]);
    });
  });

  describe('segment routing', () => {
    const index = buildIndex(
      [branch('B1', northBy(LAT, 1), LNG), branch('B2', northBy(LAT, 2), LNG), branch('B3', northBy(LAT, 3), LNG)],
      [
        manager('plain', 'B1'),
        manager('wealthy', 'B2', { skills: ['wealth'], load: 20 }),
        manager('lead', 'B3', { role: 'branch_lead' }),
      ],
    );
    const rs = parseRuleSet({
      version: 't',
      segmentRouting: [
        { segment: '高潜', requireSkill: 'wealth' },
        { segment: 'vip', roles: ['branch_lead'] },
      ],
    });

    it('sends a routed segment only to managers with the skill', () => {
      const d = decide({ segment: '高潜', lat: LAT, lng: LNG }, index, rs);
      expect(d).toMatchObject({ userid: 'wealthy', branchCode: 'B2' });
      expect(d.explanation.branches[0].managers).toEqual([{ userid: 'plain', reason: 'segment_mismatch' }]);
    });

    it('sends a routed segment only to managers with the role', () => {
      expect(decide({ segment: 'vip', lat: LAT, lng: LNG }, index, rs).userid).toBe('lead');
    });

    it('leaves other segments to the plain nearest rule', () => {
      expect(decide({ segment: '普通', lat: LAT, lng: LNG }, index, rs).userid).toBe('plain');
      expect(decide({ lat: LAT, lng: LNG }, index, rs).userid).toBe('plain');
    });
  });

  describe('maximum distance', () => {
    const index = buildIndex(
      [branch('FAR', northBy(LAT, 80), LNG), branch('REMOTE', 39.9, 116.4)],
      [
        manager('farm', 'FAR'),
        manager('r1', 'REMOTE', { load: 5 }),
        manager('r2', 'REMOTE', { load: 2 }),
        manager('r3', 'REMOTE', { load: 0, status: 'resigned' }),
      ],
    );

    it('gives customers beyond the limit to the least-loaded eligible fallback manager', () => {
      const rs = parseRuleSet({
        version: 't',
        maxDistanceMeters: 50_000,
        fallback: { userids: ['r1', 'r2', 'r3', 'x'] },
      });
      const d = decide({ lat: LAT, lng: LNG }, index, rs);
      expect(d).toMatchObject({ userid: 'r2', branchCode: 'REMOTE', reason: 'fallback' });
      expect(d.distanceMeters).toBeUndefined();
      expect(d.explanation.branches).toEqual([
        expect.objectContaining({ code: 'FAR', outcome: 'skipped', skipReason: 'beyond_max_distance' }),
      ]);
      expect(d.explanation.fallbackCandidates).toEqual([
        { userid: 'r1', load: 5, capacity: 100, outcome: 'eligible' },
        { userid: 'r2', load: 2, capacity: 100, outcome: 'chosen' },
        { userid: 'r3', load: 0, capacity: 100, outcome: 'skipped', skipReason: 'resigned' },
        { userid: 'x', outcome: 'skipped', skipReason: 'unknown_manager' },
      ]);
      expect(d.explanation.summary).toContain('within 50.0 km');
    });

    it('reaches the far branch once the limit allows it', () => {
      const rs = parseRuleSet({ version: 't', maxDistanceMeters: 100_000, fallback: { userids: ['r1'] } });
      expect(decide({ lat: LAT, lng: LNG }, index, rs)).toMatchObject({ userid: 'farm', reason: 'nearest_branch' });
      const unlimited = parseRuleSet({ version: 't', maxDistanceMeters: null });
      expect(decide({ lat: LAT, lng: LNG }, index, unlimited).userid).toBe('farm');
    });

    it('returns no manager, without throwing, when there is no fallback either', () => {
      const d = decide({ lat: LAT, lng: LNG }, index, DEFAULT_RULE_SET);
      expect(d).toMatchObject({ userid: null, branchCode: null, reason: 'none', mismatch: false });
      expect(d.explanation.rule).toBe('none');
      expect(d.explanation.summaryZh).toContain('未分配');
    });
  });
});

describe('rule 3: no location', () => {
  const index = buildIndex(
    [branch('B1', LAT, LNG, { regionCode: '330106' }), branch('R', 39.9, 116.4)],
    [manager('m1', 'B1'), manager('fb', 'R'), manager('mine', 'R', { capacity: 1, load: 1 })],
  );
  const fallbackFirst = parseRuleSet({ version: 't', fallback: { userids: ['fb'] } });
  const addedFirst = parseRuleSet({ version: 't', fallback: { userids: ['fb'] }, noLocationPolicy: 'added_manager' });

  it('uses the fallback list by default', () => {
    const d = decide({ addedUserid: 'mine' }, index, fallbackFirst);
    expect(d).toMatchObject({ userid: 'fb', reason: 'fallback', mismatch: true, mismatchPolicy: 'keep' });
    expect(d.explanation.location).toEqual({ source: 'none' });
  });

  it('keeps the manager the customer already added under the added_manager policy, whatever the capacity', () => {
    const d = decide({ addedUserid: 'mine' }, index, addedFirst);
    expect(d).toMatchObject({ userid: 'mine', reason: 'added_manager', mismatch: false });
    expect(d.explanation.summaryZh).toContain('保留客户已添加的客户经理 mine');
  });

  it('falls back to the other option when the preferred one has nobody', () => {
    expect(decide({}, index, addedFirst)).toMatchObject({ userid: 'fb', reason: 'fallback' });
    const noFallback = parseRuleSet({ version: 't' });
    expect(decide({ addedUserid: 'mine' }, index, noFallback)).toMatchObject({
      userid: 'mine',
      reason: 'added_manager',
    });
    expect(decide({}, index, noFallback)).toMatchObject({ userid: null, reason: 'none' });
  });

  it('treats (0, 0) as a missing location', () => {
    expect(decide({ lat: 0, lng: 0 }, index, fallbackFirst).explanation.location.source).toBe('none');
  });
});

describe('region centroids', () => {
  const index = buildIndex(
    [
      branch('WEST', LAT, LNG - 0.2, { regionCode: 'R-W' }),
      branch('EAST', LAT, LNG + 0.2, { regionCode: 'R-E' }),
      branch('EAST2', LAT + 0.02, LNG + 0.22, { regionCode: 'R-E' }),
    ],
    [manager('w', 'WEST'), manager('e', 'EAST'), manager('e2', 'EAST2')],
  );

  it('uses the rule set centroid of the region code when there are no coordinates', () => {
    const rs = parseRuleSet({ version: 't', regionCentroids: { '330100': { lat: LAT, lng: LNG - 0.19 } } });
    const d = decide({ regionCode: '330100' }, index, rs);
    expect(d).toMatchObject({ userid: 'w', reason: 'nearest_branch' });
    expect(d.explanation.location).toEqual({
      source: 'region_centroid',
      lat: LAT,
      lng: LNG - 0.19,
      regionCode: '330100',
      centroidFrom: 'rule_set',
    });
    expect(d.explanation.summary).toBe(
      'Nearest branch WEST branch (961 m from the centroid of region 330100); least-loaded eligible manager w.',
    );
    expect(d.explanation.summaryZh).toContain('按区域 330100 中心点计算');
  });

  it('falls back to the mean of the index branches in that region', () => {
    const d = decide({ regionCode: 'R-E' }, index, DEFAULT_RULE_SET);
    expect(d.explanation.location).toMatchObject({ source: 'region_centroid', centroidFrom: 'branches' });
    expect(d.explanation.location.lat).toBeCloseTo(LAT + 0.01, 10);
    expect(d.explanation.location.lng).toBeCloseTo(LNG + 0.21, 10);
    expect(d.reason).toBe('nearest_branch');
  });

  it('uses centroids given to buildIndex before deriving them from branches', () => {
    const withTable = buildIndex(
      [branch('WEST', LAT, LNG - 0.2, { regionCode: 'R-W' }), branch('EAST', LAT, LNG + 0.2, { regionCode: 'R-E' })],
      [manager('w', 'WEST'), manager('e', 'EAST')],
      { regionCentroids: { 'R-E': { lat: LAT, lng: LNG - 0.15 }, bad: { lat: 120, lng: 0 } } },
    );
    expect(withTable.warnings).toEqual(['region bad has an invalid centroid: ignored']);
    const d = decide({ regionCode: 'R-E' }, withTable, DEFAULT_RULE_SET);
    expect(d.explanation.location).toMatchObject({ source: 'region_centroid', centroidFrom: 'index' });
    expect(d.userid).toBe('w');
    const overridden = parseRuleSet({ version: 't', regionCentroids: { 'R-E': { lat: LAT, lng: LNG + 0.19 } } });
    expect(decide({ regionCode: 'R-E' }, withTable, overridden).userid).toBe('e');
  });

  it('does not treat Object.prototype keys as regions', () => {
    expect(decide({ regionCode: 'constructor' }, index, DEFAULT_RULE_SET).explanation.location).toEqual({
      source: 'none',
      regionCode: 'constructor',
    });
  });
});

describe('explanations', () => {
  const index = buildIndex(
    [branch('HZ001', northBy(LAT, 1.2), LNG, { name: '杭州西湖支行' })],
    [manager('wangfang', 'HZ001', { load: 3 }), manager('lisi', 'HZ001', { load: 8 })],
  );
  const rs = parseRuleSet({ version: '2026-11-a', mismatchPolicy: 'transfer_to_owner' });
  let d: Decision;
  beforeAll(() => {
    d = decide({ lat: LAT, lng: LNG, addedUserid: 'lisi' }, index, rs);
  });

  it('names the rule and the rule-set version and carries the mismatch policy', () => {
    expect(d.explanation).toMatchObject({ rule: 'nearest_branch', ruleSetVersion: '2026-11-a' });
    expect(d).toMatchObject({ mismatch: true, mismatchPolicy: 'transfer_to_owner', ruleSetVersion: '2026-11-a' });
  });

  it('has operator sentences in English and Chinese', () => {
    expect(d.explanation.summaryZh).toBe('最近网点 杭州西湖支行 (1.2 km)，该网点负载最低的客户经理 wangfang');
    expect(d.explanation.summary).toBe('Nearest branch 杭州西湖支行 (1.2 km); least-loaded eligible manager wangfang.');
  });

  it('survives a JSON round trip unchanged', () => {
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });

  it('lists at most 20 skipped branches and counts the rest', () => {
    const many = buildIndex(
      [
        ...Array.from({ length: 25 }, (_, i) =>
          branch(`S${String(i).padStart(2, '0')}`, northBy(LAT, 1 + i / 10), LNG),
        ),
        branch('OPEN', northBy(LAT, 5), LNG),
      ],
      [manager('open1', 'OPEN')],
    );
    const d2 = decide({ lat: LAT, lng: LNG }, many, DEFAULT_RULE_SET);
    expect(d2.userid).toBe('open1');
    expect(d2.explanation.branches).toHaveLength(21);
    expect(d2.explanation.branches.slice(0, 20).map((b) => b.code)).toEqual(
      Array.from({ length: 20 }, (_, i) => `S${String(i).padStart(2, '0')}`),
    );
    expect(d2.explanation.branches[20]).toMatchObject({ code: 'OPEN', outcome: 'chosen' });
    expect(d2.explanation.branchesNotListed).toBe(5);
    expect(d2.explanation.summary).toContain('(25 nearer branch(es) skipped)');
    expect(explainInWords(d2)).toContain('… 5 more skipped branch(es) not listed');
  });

  it('reads as text for the CLI', () => {
    const text = explainInWords(d);
    expect(text.split('\n')[0]).toBe(d.explanation.summary);
    expect(text).toContain('* HZ001 杭州西湖支行 1.2 km');
    expect(text).toContain('mismatch policy: transfer_to_owner');
  });
});
