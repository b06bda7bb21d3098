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
  const base = 'https://scrm.bank.example';
  const code = (url: string, b = base) => checkSignableUrl(url, b)?.code ?? null;

  it('signs pages of this deployment exactly as a browser writes them', () => {
    expect(checkSignableUrl('https://scrm.bank.example/sidebar/?a=%E5%BE%AE', base)).toBeNull();
    expect(checkSignableUrl('https://scrm.bank.example/', base)).toBeNull();
    expect(checkSignableUrl('https://scrm.bank.example/sidebar/index.html?x=1&y=%20', base)).toBeNull();
    expect(checkSignableUrl('http://127.0.0.1:3000/sidebar/', 'http://127.0.0.1:3000')).toBeNull();
    expect(checkSignableUrl('http://localhost:8080/sidebar/', 'http://localhost:8080/')).toBeNull();
  });

  it('a non-canonical PUBLIC_BASE_URL is compared in its canonical form', () => {
    expect(checkSignableUrl('https://scrm.bank.example/sidebar/', 'HTTPS://SCRM.Bank.Example:443')).toBeNull();
    expect(code('https://scrm.bank.example:443/sidebar/', 'HTTPS://SCRM.Bank.Example:443')).toBe('url_not_canonical');
  });

  it('refuses a fragment, a relative URL and other origins with their own codes', () => {
    expect(checkSignableUrl('https://scrm.bank.example/sidebar/#x', base)).toEqual({
      code: 'url_has_fragment',
      message: expect.stringMatching(/fragment/),
    });
    expect(code('sidebar')).toBe('url_not_absolute');
    expect(code('/sidebar/')).toBe('url_not_absolute');
    expect(code('https://scrm.bank.example.evil.com/sidebar/')).toBe('url_foreign_origin');
    expect(code('http://scrm.bank.example/sidebar/')).toBe('url_foreign_origin');
    expect(code('https://scrm.bank.example:8443/sidebar/')).toBe('url_foreign_origin');
    expect(code('https://evil.com@scrm.bank.example.evil.com/')).toBe('url_foreign_origin');
  });

  // Each of these parses to our origin, so an origin comparison alone signed them.
  it.each([
    ['an upper-case scheme', 'HTTPS://scrm.bank.example/sidebar/'],
    ['a mixed-case scheme', 'Https://scrm.bank.example/sidebar/'],
    ['an upper-case host', 'https://SCRM.bank.example/sidebar/'],
    ['userinfo', 'https://user:pass@scrm.bank.example/sidebar/'],
    ['a user name only', 'https://user@scrm.bank.example/sidebar/'],
    ['an empty userinfo', 'https://@scrm.bank.example/sidebar/'],
    ['the default port written out', 'https://scrm.bank.example:443/sidebar/'],
    ['a zero-padded default port', 'https://scrm.bank.example:0443/sidebar/'],
    ['no slashes after the scheme', 'https:scrm.bank.example/sidebar/'],
    ['backslashes', 'https:\\\\scrm.bank.example\\sidebar\\'],
    ['three slashes', 'https:///scrm.bank.example/sidebar/'],
    ['a percent-encoded host', 'https://scrm%2Ebank.example/sidebar/'],
    ['fullwidth letters in the host', 'https://ｓｃｒｍ.bank.example/sidebar/'],
    ['a leading space', ' https://scrm.bank.example/sidebar/'],
    ['a trailing newline', 'https://scrm.bank.example/sidebar/\n'],
    ['a tab inside the host', 'https://scrm.bank\t.example/sidebar/'],
    ['a tab inside the path', 'https://scrm.bank.example/side\tbar/'],
    ['no path at all', 'https://scrm.bank.example'],
    ['an unencoded space in the query', 'https://scrm.bank.example/sidebar/?a=b c'],
    ['a dot segment', 'https://scrm.bank.example/x/../sidebar/'],
  ])('refuses %s as url_not_canonical', (_label, url) => {
    expect(new URL(url).origin).toBe(base); // the parser does map it onto our origin
    expect(code(url)).toBe('url_not_canonical');
  });

  it.each([
    ['hex IPv4 (0x7f.1)', 'http://0x7f.1:3000/sidebar/'],
    ['short IPv4 (127.1)', 'http://127.1:3000/sidebar/'],
    ['octal IPv4', 'http://0177.0.0.1:3000/sidebar/'],
    ['a single 32-bit number', 'http://2130706433:3000/sidebar/'],
    ['hex octets', 'http://0x7f.0x0.0x0.0x1:3000/sidebar/'],
    ['a trailing dot after the last octet', 'http://127.0.0.1.:3000/sidebar/'],
    ['an upper-case scheme', 'HTTP://127.0.0.1:3000/sidebar/'],
    ['userinfo', 'http://user:pass@127.0.0.1:3000/sidebar/'],
    ['a zero-padded port', 'http://127.0.0.1:03000/sidebar/'],
  ])('refuses %s for an IPv4 deployment as url_not_canonical', (_label, url) => {
    const ip = 'http://127.0.0.1:3000';
    expect(new URL(url).origin).toBe(ip);
    expect(code(url, ip)).toBe('url_not_canonical');
  });

  it('names the canonical origin in the message', () => {
    expect(checkSignableUrl('HTTPS://scrm.bank.example/', base)?.message).toContain('https://scrm.bank.example/');
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
  it('fills every registered variable ({{产品}} from the script, else a neutral word)', () => {
    expect(fillVariables('{{客户称呼}}好，{{ 客户经理 }}@{{网点}} {{产品}}', customer(), manager, '基金定投')).toBe(
      '王先生好，李雷@朝阳支行 基金定投',
    );
    expect(fillVariables('了解{{产品}}', customer(), manager)).toBe('了解相关产品');
  });

  it('has no salutation when surname or gender is unknown', () => {
    expect(salutation(customer({ gender: 2 }))).toBe('王女士');
    expect(salutation(customer({ gender: 0 }))).toBeNull();
    expect(salutation(customer({ maskedName: '' }))).toBeNull();
    expect(salutation(null)).toBeNull();
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
