import { DEFAULT_RULE_SET, parseRuleSet, RuleSetError, type RuleSetIssue } from '../../../server/allocation';

function issuesOf(input: unknown): RuleSetIssue[] {
  try {
    parseRuleSet(input);
  } catch (err) {
    expect(err).toBeInstanceOf(RuleSetError);
    return (err as RuleSetError).issues;
  }
  throw new Error('expected the rule set to be rejected');
}

describe('parseRuleSet', () => {
  it('accepts a version alone and fills in every default', () => {
    expect(parseRuleSet({ version: 'x' })).toEqual({
      version: 'x',
      description: '',
      maxDistanceMeters: 50_000,
      fallback: { userids: [] },
      noLocationPolicy: 'fallback',
      segmentRouting: [],
      respectCapacity: true,
      excludeStatuses: ['leave', 'resigned'],
      allocatableRoles: ['manager', 'branch_lead'],
      closedBranches: [],
      regionCentroids: {},
      mismatchPolicy: 'keep',
    });
  });

  it('accepts JSON text and returns a frozen document', () => {
    const rs = parseRuleSet('{"version":"2026-11","fallback":{"userids":["remote1"]},"maxDistanceMeters":null}');
    expect(rs.fallback.userids).toEqual(['remote1']);
    expect(rs.maxDistanceMeters).toBeNull();
    expect(Object.isFrozen(rs)).toBe(true);
    expect(Object.isFrozen(rs.fallback.userids)).toBe(true);
  });

  it('exports a valid default rule set', () => {
    expect(DEFAULT_RULE_SET.version).toBe('default');
    expect(parseRuleSet(JSON.parse(JSON.stringify(DEFAULT_RULE_SET)))).toEqual(DEFAULT_RULE_SET);
  });

  it('names the path of each problem', () => {
    const issues = issuesOf({
      version: 'x',
      maxDistanceMeters: -5,
      fallback: { userids: ['ok', 7] },
      segmentRouting: [{ segment: '高潜', roles: ['boss'] }, { segment: 'vip' }],
      regionCentroids: { '330100': { lat: 95, lng: 120 } },
      noLocationPolicy: 'random',
    });
    expect(issues.map((i) => i.path).sort()).toEqual(
      [
        'fallback.userids[1]',
        'maxDistanceMeters',
        'noLocationPolicy',
        'regionCentroids["330100"].lat',
        'segmentRouting[0].roles[0]',
        'segmentRouting[1]',
      ].sort(),
    );
    expect(issues.find((i) => i.path === 'segmentRouting[1]')?.message).toBe(
      'a segment route needs requireSkill or roles (or both)',
    );
  });

  it('rejects misspelt keys instead of silently defaulting', () => {
    expect(issuesOf({ version: 'x', maxDistance: 1000 })).toEqual([
      { path: '', message: "Unrecognized key(s) in object: 'maxDistance'" },
    ]);
  });

  it('requires a version string', () => {
    expect(issuesOf({}).map((i) => i.path)).toEqual(['version']);
    expect(issuesOf({ version: 3 }).map((i) => i.path)).toEqual(['version']);
  });

  it('rejects duplicate segment routes at the second one', () => {
    const issues = issuesOf({
      version: 'x',
      segmentRouting: [
        { segment: 'vip', roles: ['branch_lead'] },
        { segment: 'vip', requireSkill: 'wealth' },
      ],
    });
    expect(issues).toEqual([
      { path: 'segmentRouting[1].segment', message: 'duplicate segment "vip"; each segment may have one route' },
    ]);
  });

  it('reports bad JSON text as a rule-set error', () => {
    expect(issuesOf('{"version":')[0].message).toMatch(/^not valid JSON/);
  });

  it('puts every path in the error message', () => {
    expect(() => parseRuleSet({ version: 'x', excludeStatuses: ['active'] })).toThrow(/excludeStatuses\[0\]: /);
  });
});
