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

  it('links an unknown contact to a bank customer id and reloads the card', async () => {
    let linked = false;
    const t = setup({
      'GET /api/sidebar/customers/wmNEW': () =>
        linked
          ? { status: 200, body: cardResponse({ externalUserId: 'wmNEW' }) }
          : { status: 404, body: { error: { code: 'customer_not_found', message: 'x' } } },
      'POST /api/sidebar/customers/wmNEW/link': (call) => {
        linked = (call.body as { bankCustomerId: string }).bankCustomerId === 'C0001';
        return linked
          ? { status: 200, body: { ok: true } }
          : { status: 404, body: { error: { code: 'customer_not_found', message: 'x' } } };
      },
    });
    await expect(t.card.load('wmNEW')).rejects.toBeTruthy();
    await expect(t.card.link('  C9999 ')).resolves.toBe(false);
    expect(t.toast.items.at(-1)?.text).toContain('未找到该客户号');
    await expect(t.card.link(' C0001 ')).resolves.toBe(true);
    expect(t.card.state.customer?.externalUserId).toBe('wmNEW');
  });

  it('counts a recorded touch: newest first, stage = touches + 1 capped at 4', async () => {
    const t = setup({});
    await t.card.load('wmCUST1');
    for (let i = 1; i <= 4; i++) {
      t.card.addTouch({
        id: i,
        templateId: 1,
        title: 'x',
        userid: 'lilei',
        sentAt: '2026-11-23T00:00:00Z',
        channel: 'send',
        stage: i,
      });
    }
    expect(t.card.state.customer?.touchCount).toBe(4);
    expect(t.card.state.customer?.stage).toBe(4);
    expect(t.card.lastTouches.value.map((x) => x.id)).toEqual([4, 3, 2, 1]);
  });
});
