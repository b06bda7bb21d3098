// Pure server-side pieces of the sidebar (no I/O): session tokens, the JS-SDK signing scope,
// template variables and ranking. Server code, so it lives under test/unit/sidebar, not sidebar-app.

import type { TemplateCustomer } from '../../../server/playbook';
import { fillVariables, SCORE, salutation, scoreTemplate, splitSegments } from '../../../server/playbook';
import { checkSignableUrl } from '../../../server/sidebar/jssdk';
import { groupTags, TagCatalog } from '../../../server/sidebar/service';
import { signSession, verifySession } from '../../../server/sidebar/session';

const secret = 'unit-secret-unit-secret-unit-secret';

describe('session tokens', () => {
  const payload = { userid: 'lilei', role: 'manager' as const, branchCode: 'B001', exp: 2_000 };

  it('round-trips a signed payload', () => {
    expect(verifySession(signSession(payload, secret), secret, 1_000)).toEqual({ ok: true, session: payload });
  });

  it('tells missing, expired and invalid apart', () => {
    expect(verifySession(undefined, secret, 0)).toEqual({ ok: false, code: 'unauthenticated' });
    expect(verifySession(signSession(payload, secret), secret, 2_000)).toEqual({ ok: false, code: 'session_expired' });
    expect(verifySession(signSession(payload, 'another-secret-another-secret'), secret, 0)).toEqual({
      ok: false,
      code: 'session_invalid',
    });
    const [, mac] = signSession(payload, secret).split('.');
    const forgedBody = Buffer.from(JSON.stringify({ ...payload, role: 'branch_lead' })).toString('base64url');
    expect(verifySession(`${forgedBody}.${mac}`, secret, 0).ok).toBe(false);
    for (const junk of ['', '.', 'abc', 'a.b', `${'x'.repeat(2000)}.y`]) {
      expect(verifySession(junk, secret, 0).ok).toBe(false);
    }
  });
});

describe('JS-SDK signing scope', () => {
  it('only signs pages of this deployment, without a fragment', () => {
    const base = 'https://scrm.bank.example';
    expect(checkSignableUrl('https://scrm.bank.example/sidebar/?a=%E5%BE%AE', base)).toBeNull();
    expect(checkSignableUrl('https://scrm.bank.example/sidebar/#x', base)).toMatch(/fragment/);
    expect(checkSignableUrl('https://scrm.bank.example.evil.com/sidebar/', base)).toMatch(/not a page/);
    expect(checkSignableUrl('http://scrm.bank.example/sidebar/', base)).toMatch(/not a page/);
    expect(checkSignableUrl('sidebar', base)).toMatch(/absolute/);
  });
});

const customer = (over: Partial<TemplateCustomer> = {}): TemplateCustomer => ({
  externalUserId: 'wm1',
  maskedName: '王*明',
  gender: 1,
  segment: '代发',
  bankTags: ['基金定投客户'],
  usedTemplateIds: [],
  ...over,
});
const manager = { userid: 'lilei', name: '李雷', branchName: '朝阳支行' };

describe('template variables', () => {
  it('fills the three variables and leaves unknown ones for a reviewer to see', () => {
    expect(fillVariables('{{客户称呼}}好，{{ 客户经理 }}@{{网点}} {{产品}}', customer(), manager)).toBe(
      '王先生好，李雷@朝阳支行 {{产品}}',
    );
  });

  it('uses 您 when surname or gender is unknown', () => {
    expect(salutation(customer({ gender: 2 }))).toBe('王女士');
    expect(salutation(customer({ gender: 0 }))).toBe('您');
    expect(salutation(customer({ maskedName: '' }))).toBe('您');
    expect(salutation(null)).toBe('您');
    expect(fillVariables('{{网点}}', null, { ...manager, branchName: null })).toBe('我行');
  });
});

describe('template ranking', () => {
  const t = (over: Partial<Parameters<typeof scoreTemplate>[0]> = {}) => ({
    id: 1,
    title: '问候',
    content: '您好',
    stage: 2,
    segments: [] as string[],
    product: null as string | null,
    mine: false,
    ...over,
  });

  it('scores stage distance, segment, ownership, product and search as documented', () => {
    expect(scoreTemplate(t(), customer(), 2, '')).toBe(SCORE.stageExact + SCORE.segmentGeneric);
    expect(scoreTemplate(t({ stage: 3 }), customer(), 2, '')).toBe(SCORE.stageNeighbour + SCORE.segmentGeneric);
    expect(scoreTemplate(t({ stage: 4 }), customer(), 2, '')).toBe(SCORE.segmentGeneric);
    expect(scoreTemplate(t({ segments: ['代发'] }), customer(), 2, '')).toBe(SCORE.stageExact + SCORE.segmentMatch);
    expect(scoreTemplate(t({ mine: true }), customer(), 2, '')).toBe(
      SCORE.stageExact + SCORE.segmentGeneric + SCORE.mine,
    );
    expect(scoreTemplate(t({ product: '基金定投' }), customer(), 2, '')).toBe(
      SCORE.stageExact + SCORE.segmentGeneric + SCORE.product,
    );
    expect(scoreTemplate(t(), customer({ usedTemplateIds: [1] }), 2, '')).toBe(
      SCORE.stageExact + SCORE.segmentGeneric + SCORE.repeat,
    );
  });

  it('drops templates of other segments and search misses', () => {
    expect(scoreTemplate(t({ segments: ['高潜'] }), customer(), 2, '')).toBeNull();
    expect(scoreTemplate(t(), customer(), 2, '理财')).toBeNull();
    expect(scoreTemplate(t({ title: '理财问候' }), customer(), 2, '理财')).toBe(
      SCORE.stageExact + SCORE.segmentGeneric + SCORE.qTitle,
    );
    expect(scoreTemplate(t({ content: '理财' }), customer(), 2, '理财')).toBe(
      SCORE.stageExact + SCORE.segmentGeneric + SCORE.qContent,
    );
  });

  it('without a customer, segment-specific templates are allowed (browsing)', () => {
    expect(scoreTemplate(t({ segments: ['高潜'] }), null, 2, '')).toBe(SCORE.stageExact);
  });

  it('splits segments on ASCII and full-width commas', () => {
    expect(splitSegments('代发, 高潜，流降,')).toEqual(['代发', '高潜', '流降']);
    expect(splitSegments('')).toEqual([]);
  });
});

describe('TagCatalog', () => {
  it('reads the tag library once per TTL, with one load for concurrent callers', async () => {
    let clock = 0;
    let loads = 0;
    const catalog = new TagCatalog(
      async () => {
        loads++;
        return [{ id: `t${loads}`, group_id: 'g', group_name: '组', name: '标签' }];
      },
      () => clock,
      1_000,
    );
    const [a, b] = await Promise.all([catalog.get(), catalog.get()]);
    expect(a).toBe(b);
    expect(loads).toBe(1);
    clock = 999;
    expect((await catalog.get())[0].id).toBe('t1');
    clock = 1_000;
    expect((await catalog.get())[0].id).toBe('t2');
  });

  it('groups the library and marks the follow’s tags', () => {
    const lib = [
      { id: 't1', group_id: 'g1', group_name: '意向', name: '高' },
      { id: 't2', group_id: 'g1', group_name: '意向', name: '低' },
      { id: 't3', group_id: 'g2', group_name: '产品', name: '理财' },
    ];
    expect(groupTags(lib, new Set(['t2']))).toEqual([
      {
        groupId: 'g1',
        groupName: '意向',
        tags: [
          { id: 't1', name: '高', selected: false },
          { id: 't2', name: '低', selected: true },
        ],
      },
      { groupId: 'g2', groupName: '产品', tags: [{ id: 't3', name: '理财', selected: false }] },
    ]);
  });
});
