import { useTemplates } from '../../../sidebar-app/src/composables/useTemplates';
import { useToast } from '../../../sidebar-app/src/composables/useToast';
import { createHttpClient } from '../../../sidebar-app/src/services/http';
import { createSidebarApi } from '../../../sidebar-app/src/services/sidebarApi';
import type { Touch } from '../../../sidebar-app/src/services/types';
import { WecomError } from '../../../sidebar-app/src/wecom/adapter';
import { fakeAdapter, flush, scriptedFetch, template } from './fakes';

const touch = (channel: 'send' | 'copy'): Touch => ({
  id: 9,
  templateId: 1,
  title: '首次问候',
  userid: 'lilei',
  sentAt: '2026-11-23T02:00:00.000Z',
  channel,
  stage: 1,
  confirmed: false,
});

function setup(
  opts: {
    routes?: Parameters<typeof scriptedFetch>[0];
    sendError?: unknown;
    failMsgtype?: 'text' | 'news' | 'image';
    copyFails?: boolean;
  } = {},
) {
  const f = scriptedFetch({
    'POST /api/sidebar/touches': (call) => ({
      status: 200,
      body: { touch: touch((call.body as { channel: 'send' | 'copy' }).channel) },
    }),
    ...opts.routes,
  });
  const a = fakeAdapter({ sendError: opts.sendError, failMsgtype: opts.failMsgtype });
  const toast = useToast({ setTimer: () => 0 });
  const touches: Touch[] = [];
  const copied: string[] = [];
  const timers: Array<() => void> = [];
  const suggestions = [template({ id: 1 }), template({ id: 2, owner: 'mine', title: '我的问候' })];
  const t = useTemplates({
    api: createSidebarApi(createHttpClient({ fetch: f.fetch })),
    adapter: () => a.adapter,
    toast,
    copyText: async (text) => {
      if (opts.copyFails) throw new Error('denied');
      copied.push(text);
    },
    context: () => ({ externalUserId: 'wmCUST1', stage: 2 }),
    suggestions: () => suggestions,
    onTouch: (x) => touches.push(x),
    setTimer: (fn) => timers.push(fn),
    clearTimer: () => timers.splice(0),
  });
  return { ...f, ...a, t, toast, touches, copied, timers };
}

describe('useTemplates', () => {
  it('shows the card suggestions until a search is made; "mine" filters to own templates', async () => {
    const s = setup({
      routes: {
        'GET /api/sidebar/templates': { status: 200, body: { templates: [template({ id: 2, owner: 'mine' })] } },
      },
    });
    expect(s.t.visible.value.map((x) => x.id)).toEqual([1, 2]);
    s.t.setTab('mine');
    await flush();
    expect(s.calls[0].url).toBe('/api/sidebar/templates?stage=2&externalUserId=wmCUST1');
    expect(s.t.visible.value.map((x) => x.owner)).toEqual(['mine']);
    s.t.setTab('suggested');
    expect(s.t.visible.value.map((x) => x.id)).toEqual([1, 2]);
  });

  it('debounces typing into one search with q, stage and externalUserId', async () => {
    const s = setup({
      routes: { 'GET /api/sidebar/templates': { status: 200, body: { templates: [template({ id: 5 })] } } },
    });
    s.t.setQuery('理');
    s.t.setQuery('理财');
    expect(s.timers).toHaveLength(1); // the first timer was cleared
    s.timers[0]();
    await flush();
    expect(s.calls.map((c) => c.url)).toEqual([
      '/api/sidebar/templates?q=%E7%90%86%E8%B4%A2&stage=2&externalUserId=wmCUST1',
    ]);
    expect(s.t.visible.value.map((x) => x.id)).toEqual([5]);
  });

  it('keeps only the latest answer when searches overlap', async () => {
    const gates: Record<string, () => void> = {};
    const s = setup({
      routes: {
        'GET /api/sidebar/templates': async (call) => {
          const q = decodeURIComponent(/q=([^&]*)/.exec(call.url)?.[1] ?? '');
          await new Promise<void>((r) => (gates[q] = r));
          return { status: 200, body: { templates: [template({ id: q === 'old' ? 1 : 2 })] } };
        },
      },
    });
    s.t.state.q = 'old';
    const first = s.t.search();
    s.t.state.q = 'new';
    const second = s.t.search();
    await flush();
    gates['new']();
    await second;
    gates['old']();
    await first;
    expect(s.t.visible.value.map((x) => x.id)).toEqual([2]);
    expect(s.t.state.searching).toBe(false);
  });

  it('shows a Chinese error when the search fails (known code → its text, else a generic one)', async () => {
    const s = setup({
      routes: { 'GET /api/sidebar/templates': { status: 500, body: { error: { code: 'internal', message: 'x' } } } },
    });
    s.t.state.q = 'x';
    await s.t.search();
    expect(s.t.state.searchError).toBe('搜索失败');
    const n = setup({
      routes: {
        'GET /api/sidebar/templates': { status: 429, body: { error: { code: 'rate_limited', message: 'x' } } },
      },
    });
    n.t.state.q = 'x';
    await n.t.search();
    expect(n.t.state.searchError).toBe('操作过于频繁，请稍后再试');
  });

  it('sends the text into the chat, then records a "send" touch', async () => {
    const s = setup();
    await expect(s.t.send(template({ content: '您好' }))).resolves.toBe(true);
    expect(s.sent).toEqual([{ msgtype: 'text', text: { content: '您好' } }]);
    expect(s.calls.map((c) => [c.url, c.body])).toEqual([
      ['/api/sidebar/touches', { externalUserId: 'wmCUST1', templateId: 1, channel: 'send' }],
    ]);
    expect(s.touches.map((x) => x.channel)).toEqual(['send']);
    expect(s.t.state.lastSentId).toBe(1);
    expect(s.toast.items.at(-1)).toMatchObject({ kind: 'success', text: '已发送' });
  });

  it('records nothing when sendChatMessage fails, and suggests copying', async () => {
    const s = setup({ sendError: new WecomError('sendChatMessage', 'sendChatMessage:fail no permission') });
    await expect(s.t.send(template())).resolves.toBe(false);
    expect(s.calls).toEqual([]);
    expect(s.toast.items.at(-1)?.text).toContain('复制');
    expect(s.t.state.busyId).toBeNull();
  });

  it('tells the manager when the message went out but the touch was not saved', async () => {
    const s = setup({ routes: { 'POST /api/sidebar/touches': { status: 500, body: {} } } });
    await expect(s.t.send(template())).resolves.toBe(true);
    expect(s.sent).toHaveLength(1);
    expect(s.toast.items.at(-1)).toMatchObject({ kind: 'error', text: '消息已发送，但触达记录保存失败' });
  });

  const link = { type: 'link' as const, title: '理财产品介绍', url: 'https://bank.example/wealth', desc: '稳健' };
  const withAttachments = template({
    content: '您好',
    attachments: [link, { type: 'image', mediaId: 'MEDIA_1' }],
  });

  it('sends the text, then each attachment in order, and records ONE "send" touch', async () => {
    const s = setup();
    await expect(s.t.send(withAttachments)).resolves.toBe(true);
    expect(s.sent).toEqual([
      { msgtype: 'text', text: { content: '您好' } },
      {
        msgtype: 'news',
        news: { link: 'https://bank.example/wealth', title: '理财产品介绍', desc: '稳健', imgUrl: '' },
      },
      { msgtype: 'image', image: { mediaid: 'MEDIA_1' } },
    ]);
    expect(s.calls.map((c) => c.body)).toEqual([{ externalUserId: 'wmCUST1', templateId: 1, channel: 'send' }]);
    expect(s.touches).toHaveLength(1);
    expect(s.toast.items.at(-1)).toMatchObject({ kind: 'success', text: '已发送' });
  });

  it('stops at the first failed attachment, says which one in Chinese, and still records the one touch', async () => {
    const s = setup({
      sendError: new WecomError('sendChatMessage', 'sendChatMessage:fail no permission'),
      failMsgtype: 'news',
    });
    await expect(s.t.send(withAttachments)).resolves.toBe(false);
    // the image after the failed link is not sent
    expect(s.sent).toEqual([{ msgtype: 'text', text: { content: '您好' } }]);
    expect(s.calls.map((c) => c.body)).toEqual([{ externalUserId: 'wmCUST1', templateId: 1, channel: 'send' }]);
    expect(s.toast.items.at(-1)).toMatchObject({
      kind: 'error',
      text: '文字已发送，但链接“理财产品介绍”发送失败（sendChatMessage:fail no permission），请手动补发',
    });
    expect(s.t.state.lastSentId).toBe(1);
    expect(s.t.state.busyId).toBeNull();
  });

  it('a failed text sends no attachment and records nothing', async () => {
    const s = setup({ sendError: new WecomError('sendChatMessage', 'sendChatMessage:fail'), failMsgtype: 'text' });
    await expect(s.t.send(withAttachments)).resolves.toBe(false);
    expect(s.sent).toEqual([]);
    expect(s.calls).toEqual([]);
    expect(s.toast.items.at(-1)?.text).toContain('发送失败');
  });

  it('an image without a media id is not sent; the toast says to send it by hand', async () => {
    const s = setup();
    await s.t.send(template({ attachments: [{ type: 'image', imgUrl: 'https://bank.example/p.png' }] }));
    expect(s.sent.map((m) => m.msgtype)).toEqual(['text']);
    expect(s.toast.items.at(-1)).toMatchObject({ kind: 'success', text: '已发送，图片需手动发送' });
  });

  it('copy of a template with a link copies the text plus the link', async () => {
    const s = setup();
    await expect(s.t.copy(withAttachments)).resolves.toBe(true);
    expect(s.copied).toEqual(['您好\n理财产品介绍 https://bank.example/wealth']);
    expect(s.calls[0].body).toEqual({ externalUserId: 'wmCUST1', templateId: 1, channel: 'copy' });
  });

  it('sends and copies the server send text: the risk disclaimer of a wealth script reaches the customer', async () => {
    const wealth = template({ content: '这款理财适合您', disclaimer: '理财非存款，产品有风险，投资须谨慎。' });
    const s = setup();
    await expect(s.t.send(wealth)).resolves.toBe(true);
    expect(s.sent).toEqual([
      { msgtype: 'text', text: { content: '这款理财适合您\n\n理财非存款，产品有风险，投资须谨慎。' } },
    ]);
    await expect(s.t.copy(wealth)).resolves.toBe(true);
    expect(s.copied).toEqual(['这款理财适合您\n\n理财非存款，产品有风险，投资须谨慎。']);
  });

  it('copy puts the text on the clipboard and records a "copy" touch', async () => {
    const s = setup();
    await expect(s.t.copy(template({ content: '复制我' }))).resolves.toBe(true);
    expect(s.copied).toEqual(['复制我']);
    expect(s.calls[0].body).toEqual({ externalUserId: 'wmCUST1', templateId: 1, channel: 'copy' });
  });

  it('a refused clipboard records no touch', async () => {
    const s = setup({ copyFails: true });
    await expect(s.t.copy(template())).resolves.toBe(false);
    expect(s.calls).toEqual([]);
    expect(s.toast.items.at(-1)?.kind).toBe('error');
  });
});
