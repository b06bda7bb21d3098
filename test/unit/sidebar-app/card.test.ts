import { useCustomerCard } from '../../../sidebar-app/src/composables/useCustomerCard';
import { useToast } from '../../../sidebar-app/src/composables/useToast';
import { createHttpClient } from '../../../sidebar-app/src/services/http';
import { createSidebarApi } from '../../../sidebar-app/src/services/sidebarApi';
import { cardResponse, scriptedFetch } from './fakes';

function setup(routes: Parameters<typeof scriptedFetch>[0]) {
  const f = scriptedFetch({ 'GET /api/sidebar/customers/wmCUST1': { status: 200, body: cardResponse() }, ...routes });
  const toast = useToast({ setTimer: () => 0 });
  const card = useCustomerCard(createSidebarApi(createHttpClient({ fetch: f.fetch })), toast);
  return { ...f, toast, card };
}

function selected(card: ReturnType<typeof setup>['card'], id: string) {
  return card.state.customer?.corpTags[0].tags.find((t) => t.id === id)?.selected;
}

describe('useCustomerCard', () => {
  it('loads the card and its ranked templates', async () => {
    const t = setup({});
    await t.card.load('wmCUST1');
    expect(t.card.state.customer?.name).toBe('王*明');
    expect(t.card.state.templates.map((x) => x.id)).toEqual([1]);
    expect(t.card.state.loading).toBe(false);
  });

  it('rethrows load errors (the page picks the state) and clears loading', async () => {
    const t = setup({
      'GET /api/sidebar/customers/wmX': { status: 404, body: { error: { code: 'customer_not_found', message: 'x' } } },
    });
    await expect(t.card.load('wmX')).rejects.toMatchObject({ code: 'customer_not_found' });
    expect(t.card.state.loading).toBe(false);
    expect(t.card.state.externalUserId).toBe('wmX');
  });

  it('adds a tag optimistically, then takes the server answer', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const serverTags = cardResponse().customer.corpTags;
    serverTags[0].tags[1].selected = true;
    const t = setup({
      'POST /api/sidebar/customers/wmCUST1/tags': async () => {
        await gate;
        return { status: 200, body: { corpTags: serverTags } };
      },
    });
    await t.card.load('wmCUST1');
    const pending = t.card.toggleTag('t2');
    expect(selected(t.card, 't2')).toBe(true); // before the server answered
    expect(t.card.state.pendingTags).toEqual(['t2']);
    release();
    await expect(pending).resolves.toBe(true);
    expect(t.calls.at(-1)?.body).toEqual({ add: ['t2'], remove: [] });
    expect(selected(t.card, 't2')).toBe(true);
    expect(t.card.state.pendingTags).toEqual([]);
  });

  it('rolls a removal back and shows a toast when WeCom refuses', async () => {
    const t = setup({
      'POST /api/sidebar/customers/wmCUST1/tags': {
        status: 502,
        body: { error: { code: 'wecom_error', message: 'errcode 84061' } },
      },
    });
    await t.card.load('wmCUST1');
    await expect(t.card.toggleTag('t1')).resolves.toBe(false);
    expect(t.calls.at(-1)?.body).toEqual({ add: [], remove: ['t1'] });
    expect(selected(t.card, 't1')).toBe(true);
    expect(t.toast.items.map((i) => i.kind)).toEqual(['error']);
    expect(t.toast.items[0].text).toContain('标签未保存');
  });

  it('ignores a second click on a tag while its call is in flight', async () => {
    const t = setup({
      'POST /api/sidebar/customers/wmCUST1/tags': { status: 200, body: { corpTags: cardResponse().customer.corpTags } },
    });
    await t.card.load('wmCUST1');
    const first = t.card.toggleTag('t2');
    await expect(t.card.toggleTag('t2')).resolves.toBe(false);
    await first;
    expect(t.calls.filter((c) => c.method === 'POST')).toHaveLength(1);
  });

  describe('link', () => {
    const notFound = { status: 404, body: { error: { code: 'customer_not_found', message: 'x' } } };
    function linkSetup(
      answer: (body: { bankCustomerId?: string; phone: string }) => { status: number; body: unknown },
    ) {
      let linked = false;
      const t = setup({
        'GET /api/sidebar/customers/wmNEW': () =>
          linked ? { status: 200, body: cardResponse({ externalUserId: 'wmNEW' }) } : notFound,
        'POST /api/sidebar/customers/wmNEW/link': (call) => {
          const res = answer(call.body as { bankCustomerId?: string; phone: string });
          linked = res.status === 200;
          return res;
        },
      });
      return t;
    }
    const ok = { status: 200, body: { linked: { externalUserId: 'wmNEW', bankCustomerId: 'C0001' } } };
    const err = (status: number, code: string, details?: unknown) => ({
      status,
      body: { error: { code, message: 'x', ...(details ? { details } : {}) } },
    });

    it('sends the customer number and the phone (trimmed), then reloads the card', async () => {
      const t = linkSetup((b) => (b.bankCustomerId === 'C0001' && b.phone === '13800000001' ? ok : notFound));
      await expect(t.card.load('wmNEW')).rejects.toBeTruthy();
      await expect(t.card.link({ bankCustomerId: '  C9999 ', phone: '13800000001' })).resolves.toBe(false);
      expect(t.card.state.linkError).toBe('未找到匹配的客户，请向客户核实客户号和手机号后重试');
      await expect(t.card.link({ bankCustomerId: ' C0001 ', phone: ' 13800000001 ' })).resolves.toBe(true);
      expect(t.calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([
        { bankCustomerId: 'C9999', phone: '13800000001' },
        { bankCustomerId: 'C0001', phone: '13800000001' },
      ]);
      expect(t.card.state.customer?.externalUserId).toBe('wmNEW');
      expect(t.card.state.linkError).toBeNull();
      expect(t.toast.items.at(-1)?.text).toBe('已关联客户');
    });

    it('sends the phone alone when there is no customer number; nothing without a phone', async () => {
      const t = linkSetup(() => ok);
      await expect(t.card.load('wmNEW')).rejects.toBeTruthy();
      await expect(t.card.link({ bankCustomerId: 'C0001', phone: '  ' })).resolves.toBe(false);
      expect(t.calls.filter((c) => c.method === 'POST')).toEqual([]);
      await expect(t.card.link({ bankCustomerId: '  ', phone: '13800000001' })).resolves.toBe(true);
      expect(t.calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ phone: '13800000001' }]);
    });

    it.each([
      ['customer_not_found', err(404, 'customer_not_found'), '未找到匹配的客户，请向客户核实客户号和手机号后重试'],
      ['customer_ambiguous', err(409, 'customer_ambiguous'), '该手机号对应多位客户，请同时填写客户号'],
      [
        'customer_owned_elsewhere',
        err(403, 'customer_owned_elsewhere'),
        '该客户由其他客户经理管户，且对方未添加此微信客户，无法关联',
      ],
      [
        'link_rate_limited',
        err(429, 'link_rate_limited', { retryAfterSeconds: 600 }),
        '核验失败次数过多，请 10 分钟后再试',
      ],
      ['link_rate_limited without details', err(429, 'link_rate_limited'), '核验失败次数过多，请稍后再试'],
      ['invalid_phone', err(400, 'invalid_phone'), '请输入正确的手机号'],
      ['forbidden_customer', err(403, 'forbidden_customer'), '该客户不由您或您的网点服务，无法查看。'],
      ['an unknown code', err(500, 'internal'), '关联失败，请重试'],
    ])('%s shows its Chinese message in the form', async (_label, answer, text) => {
      const t = linkSetup(() => answer);
      await expect(t.card.load('wmNEW')).rejects.toBeTruthy();
      await expect(t.card.link({ phone: '13800000001' })).resolves.toBe(false);
      expect(t.card.state.linkError).toBe(text);
      expect(t.card.state.linking).toBe(false);
      expect(text).not.toMatch(/[A-Za-z_]{4,}/); // no codes or English for the manager
    });
  });

  it("adds a recorded touch newest first; the stage is the server's progress, a copy alone moves nothing", async () => {
    const t = setup({});
    await t.card.load('wmCUST1');
    const touch = (id: number, channel: 'send' | 'copy') => ({
      id,
      templateId: 1,
      title: 'x',
      userid: 'lilei',
      sentAt: '2026-11-23T00:00:00Z',
      channel,
      confirmed: false,
      stage: 1,
    });
    // three copies in a row: recorded, the stage stays where the server says it is
    for (let i = 1; i <= 3; i++) t.card.addTouch(touch(i, 'copy'), { touchCount: 0, stage: 1 });
    expect(t.card.state.customer).toMatchObject({ touchCount: 0, stage: 1 });
    t.card.addTouch(touch(4, 'send'), { touchCount: 1, stage: 2 });
    expect(t.card.state.customer).toMatchObject({ touchCount: 1, stage: 2 });
    expect(t.card.lastTouches.value.map((x) => x.id)).toEqual([4, 3, 2, 1]);
    t.card.setProgress({ touchCount: 3, stage: 4 });
    expect(t.card.state.customer).toMatchObject({ touchCount: 3, stage: 4 });
  });

  it('a touch enters the 跟进记录 with its script; 已发送 on a copy makes it read as sent', async () => {
    const t = setup({});
    await t.card.load('wmCUST1');
    const touch = (id: number, channel: 'send' | 'copy', templateId: number) => ({
      id,
      templateId,
      title: `话术${templateId}`,
      userid: 'lilei',
      sentAt: '2026-11-23T00:00:00Z',
      channel,
      confirmed: false,
      stage: 1,
    });
    t.card.addTouch(touch(1, 'send', 5));
    t.card.addTouch(touch(2, 'copy', 7));
    const entries = () => t.card.timeline.value.map((i) => [i.kind, i.id, i.templateId, i.label, i.text]);
    expect(entries()).toEqual([
      ['touch', 2, 7, '复制话术', '话术7'],
      ['touch', 1, 5, '发送话术', '话术5'],
    ]);
    t.card.confirmTouch(2);
    expect(entries()).toEqual([
      ['touch', 2, 7, '发送话术', '话术7'],
      ['touch', 1, 5, '发送话术', '话术5'],
    ]);
    expect(t.card.lastTouches.value.map((x) => [x.id, x.confirmed])).toEqual([
      [2, true],
      [1, false],
    ]);
    // a touch this card does not hold changes nothing
    t.card.confirmTouch(99);
    expect(entries()[0][3]).toBe('发送话术');
  });
});
