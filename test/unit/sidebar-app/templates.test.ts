import { reason, useTemplates } from '../../../sidebar-app/src/composables/useTemplates';
import { useToast } from '../../../sidebar-app/src/composables/useToast';
import { createHttpClient } from '../../../sidebar-app/src/services/http';
import { createSidebarApi } from '../../../sidebar-app/src/services/sidebarApi';
import type { Progress, Template, Touch } from '../../../sidebar-app/src/services/types';
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

const err = (status: number, code: string) => ({ status, body: { error: { code, message: code } } });

function setup(
  opts: {
    routes?: Parameters<typeof scriptedFetch>[0];
    sendError?: unknown;
    failMsgtype?: 'text' | 'news' | 'image';
    copyFails?: boolean;
    /** What the server prepares for each id (default: the template of the test, see prepareOf). */
    server?: Template[];
  } = {},
) {
  const server = new Map((opts.server ?? []).map((t) => [t.id, t]));
  const f = scriptedFetch({
    'POST /api/sidebar/touches': (call) => ({
      status: 200,
      body: {
        touch: touch((call.body as { channel: 'send' | 'copy' }).channel),
        progress: { touchCount: 1, stage: 2 },
      },
    }),
    ...Object.fromEntries(
      [1, 2, 3, 7].map((id) => [
        `POST /api/sidebar/templates/${id}/prepare`,
        () => {
          const t = server.get(id) ?? template({ id });
          return {
            status: 200,
            body: {
              templateId: id,
              version: 1,
              text: t.text,
              content: t.content,
              disclaimer: t.disclaimer,
              attachments: t.attachments,
            },
          };
        },
      ]),
    ),
    'GET /api/sidebar/templates': { status: 200, body: { templates: [] } },
    ...opts.routes,
  });
  const a = fakeAdapter({ sendError: opts.sendError, failMsgtype: opts.failMsgtype });
  const toast = useToast({ setTimer: () => 0 });
  const touches: Touch[] = [];
  const progress: Progress[] = [];
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
    onTouch: (x, p) => {
      touches.push(x);
      if (p) progress.push(p);
    },
    onProgress: (p) => progress.push(p),
    setTimer: (fn) => timers.push(fn),
    clearTimer: () => timers.splice(0),
  });
  /** The calls but the list reloads that follow a send. */
  const writes = () => f.calls.filter((c) => !c.url.startsWith('/api/sidebar/templates?'));
  return { ...f, ...a, t, toast, touches, progress, copied, timers, writes };
}

describe('useTemplates', () => {
  it('shows the card suggestions until a search or a filter is made', async () => {
    const s = setup({
      routes: { 'GET /api/sidebar/templates': { status: 200, body: { templates: [template({ id: 5 })] } } },
    });
    expect(s.t.visible.value.map((x) => x.id)).toEqual([1, 2]);
    s.t.setTab('mine');
    expect(s.t.state.tab).toBe('mine');
    expect(s.calls).toEqual([]);
    await s.t.setCategory('理财');
    expect(s.calls.at(-1)?.url).toBe(
      `/api/sidebar/templates?stage=2&externalUserId=wmCUST1&category=${encodeURIComponent('理财')}`,
    );
    expect(s.t.visible.value.map((x) => x.id)).toEqual([5]);
    await s.t.setOnlyStage(3);
    expect(s.calls.at(-1)?.url).toBe(
      `/api/sidebar/templates?stage=2&externalUserId=wmCUST1&category=${encodeURIComponent('理财')}&onlyStage=3`,
    );
    await s.t.setCategory(null);
    await s.t.setOnlyStage(null);
    // no query, no filter: the card's suggestions again, without a call
    expect(s.calls).toHaveLength(3);
    expect(s.t.visible.value.map((x) => x.id)).toEqual([1, 2]);
  });

  it('loads the category options; a failure leaves only 全部分类', async () => {
    const s = setup({
      routes: { 'GET /api/sidebar/templates/categories': { status: 200, body: { categories: ['问候', '理财'] } } },
    });
    await s.t.loadCategories();
    expect(s.t.state.categories).toEqual(['问候', '理财']);
    const f = setup({ routes: { 'GET /api/sidebar/templates/categories': err(500, 'internal') } });
    await f.t.loadCategories();
    expect(f.t.state.categories).toEqual([]);
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
    const s = setup({ routes: { 'GET /api/sidebar/templates': err(500, 'internal') } });
    s.t.state.q = 'x';
    await s.t.search();
    expect(s.t.state.searchError).toBe('搜索失败');
    const n = setup({ routes: { 'GET /api/sidebar/templates': err(429, 'rate_limited') } });
    n.t.state.q = 'x';
    await n.t.search();
    expect(n.t.state.searchError).toBe('操作过于频繁，请稍后再试');
  });

  it('sends the prepared text into the chat, records a "send" touch, and reloads the list for the new stage', async () => {
    const s = setup({ server: [template({ id: 1, content: '您好' })] });
    await expect(s.t.send({ id: 1, title: '首次问候' })).resolves.toBe(true);
    expect(s.sent).toEqual([{ msgtype: 'text', text: { content: '您好' } }]);
    expect(s.writes().map((c) => [c.url, c.body])).toEqual([
      ['/api/sidebar/templates/1/prepare', { externalUserId: 'wmCUST1' }],
      [
        '/api/sidebar/touches',
        { externalUserId: 'wmCUST1', templateId: 1, channel: 'send', requestId: expect.any(String) },
      ],
    ]);
    expect(s.touches.map((x) => x.channel)).toEqual(['send']);
    expect(s.progress).toEqual([{ touchCount: 1, stage: 2 }]);
    expect(s.t.state.lastSentId).toBe(1);
    expect(s.toast.items.at(-1)).toMatchObject({ kind: 'success', text: '已发送' });
    await flush();
    expect(s.calls.at(-1)?.url).toBe('/api/sidebar/templates?stage=2&externalUserId=wmCUST1');
  });

  it.each([
    ['template_expired', '该话术已过期，请选择其他话术'],
    ['template_retired', '该话术已停用，请选择其他话术'],
  ])('a script refused at prepare (%s) is not sent nor copied; the sidebar says so and reloads', async (code, text) => {
    const gone = template({ id: 7, title: '旧话术' });
    const s = setup({
      routes: {
        'POST /api/sidebar/templates/7/prepare': err(409, code),
        'GET /api/sidebar/templates': { status: 200, body: { templates: [template({ id: 1 })] } },
      },
    });
    await expect(s.t.send(gone)).resolves.toBe(false);
    await expect(s.t.copy(gone)).resolves.toBe(false);
    expect(s.sent).toEqual([]);
    expect(s.copied).toEqual([]);
    expect(s.writes().map((c) => c.url)).toEqual([
      '/api/sidebar/templates/7/prepare',
      '/api/sidebar/templates/7/prepare',
    ]);
    expect(s.toast.items.at(-1)).toMatchObject({ kind: 'error', text });
    await flush();
    expect(s.t.visible.value.map((x) => x.id)).toEqual([1]);
    expect(s.t.state.busyId).toBeNull();
  });

  it('records nothing when sendChatMessage fails, and suggests copying, in Chinese without the SDK message', async () => {
    const s = setup({ sendError: new WecomError('sendChatMessage', 'sendChatMessage:fail no permission') });
    await expect(s.t.send(template())).resolves.toBe(false);
    expect(s.writes().map((c) => c.url)).toEqual(['/api/sidebar/templates/1/prepare']);
    expect(s.toast.items.at(-1)?.text).toBe('发送失败，可点击“复制”后手动粘贴（没有发送权限）');
    expect(reason(new WecomError('sendChatMessage', 'sendChatMessage:cancel'))).toBe('已取消');
    expect(reason(new Error('sandbox answered 400'))).toBe('企业微信未能发送');
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
    id: 3,
    content: '您好',
    attachments: [link, { type: 'image', mediaId: 'MEDIA_1' }],
  });

  it('sends the text, then each attachment in order, and records ONE "send" touch', async () => {
    const s = setup({ server: [withAttachments] });
    await expect(s.t.send(withAttachments)).resolves.toBe(true);
    expect(s.sent).toEqual([
      { msgtype: 'text', text: { content: '您好' } },
      {
        msgtype: 'news',
        news: { link: 'https://bank.example/wealth', title: '理财产品介绍', desc: '稳健', imgUrl: '' },
      },
      { msgtype: 'image', image: { mediaid: 'MEDIA_1' } },
    ]);
    expect(s.writes().map((c) => c.body)).toEqual([
      { externalUserId: 'wmCUST1' },
      { externalUserId: 'wmCUST1', templateId: 3, channel: 'send', requestId: expect.any(String) },
    ]);
    expect(s.touches).toHaveLength(1);
    expect(s.toast.items.at(-1)).toMatchObject({ kind: 'success', text: '已发送' });
  });

  it('stops at the first failed attachment, says which one in Chinese, and still records the one touch', async () => {
    const s = setup({
      server: [withAttachments],
      sendError: new WecomError('sendChatMessage', 'sendChatMessage:fail no permission'),
      failMsgtype: 'news',
    });
    await expect(s.t.send(withAttachments)).resolves.toBe(false);
    // the image after the failed link is not sent
    expect(s.sent).toEqual([{ msgtype: 'text', text: { content: '您好' } }]);
    expect(s.writes().map((c) => c.url)).toEqual(['/api/sidebar/templates/3/prepare', '/api/sidebar/touches']);
    expect(s.toast.items.at(-1)).toMatchObject({
      kind: 'error',
      text: '文字已发送，但链接“理财产品介绍”发送失败（没有发送权限），请手动补发',
    });
    expect(s.t.state.lastSentId).toBe(3);
    expect(s.t.state.busyId).toBeNull();
  });

  it('a failed text sends no attachment and records nothing', async () => {
    const s = setup({
      server: [withAttachments],
      sendError: new WecomError('sendChatMessage', 'sendChatMessage:fail'),
      failMsgtype: 'text',
    });
    await expect(s.t.send(withAttachments)).resolves.toBe(false);
    expect(s.sent).toEqual([]);
    expect(s.writes().map((c) => c.url)).toEqual(['/api/sidebar/templates/3/prepare']);
    expect(s.toast.items.at(-1)?.text).toContain('发送失败');
  });

  it('an image without a media id is not sent; the toast says to send it by hand', async () => {
    const s = setup({
      server: [template({ id: 1, attachments: [{ type: 'image', imgUrl: 'https://bank.example/p.png' }] })],
    });
    await s.t.send({ id: 1, title: '首次问候' });
    expect(s.sent.map((m) => m.msgtype)).toEqual(['text']);
    expect(s.toast.items.at(-1)).toMatchObject({ kind: 'success', text: '已发送，图片需手动发送' });
  });

  it('copy of a template with a link copies the text plus the link', async () => {
    const s = setup({ server: [withAttachments] });
    await expect(s.t.copy(withAttachments)).resolves.toBe(true);
    expect(s.copied).toEqual(['您好\n理财产品介绍 https://bank.example/wealth']);
    expect(s.writes()[1].body).toEqual({
      externalUserId: 'wmCUST1',
      templateId: 3,
      channel: 'copy',
      requestId: expect.any(String),
    });
  });

  it('sends and copies the server send text: the risk disclaimer of a wealth script reaches the customer', async () => {
    const wealth = template({ id: 1, content: '这款理财适合您', disclaimer: '理财非存款，产品有风险，投资须谨慎。' });
    const s = setup({ server: [wealth] });
    await expect(s.t.send(wealth)).resolves.toBe(true);
    expect(s.sent).toEqual([
      { msgtype: 'text', text: { content: '这款理财适合您\n\n理财非存款，产品有风险，投资须谨慎。' } },
    ]);
    await expect(s.t.copy(wealth)).resolves.toBe(true);
    expect(s.copied).toEqual(['这款理财适合您\n\n理财非存款，产品有风险，投资须谨慎。']);
  });

  it('copy records a "copy" touch and waits for 已发送; confirming moves the stage and reloads the list', async () => {
    const s = setup({
      server: [template({ id: 1, content: '复制我' })],
      routes: {
        'POST /api/sidebar/touches': {
          status: 200,
          body: { touch: touch('copy'), progress: { touchCount: 0, stage: 1 } },
        },
        'POST /api/sidebar/touches/9/confirm': { status: 200, body: { progress: { touchCount: 1, stage: 2 } } },
      },
    });
    await expect(s.t.copy({ id: 1, title: '首次问候' })).resolves.toBe(true);
    expect(s.copied).toEqual(['复制我']);
    expect(s.writes()[1].body).toEqual({
      externalUserId: 'wmCUST1',
      templateId: 1,
      channel: 'copy',
      requestId: expect.any(String),
    });
    // the copy alone leaves the stage where it was
    expect(s.progress).toEqual([{ touchCount: 0, stage: 1 }]);
    expect(s.t.state.pendingConfirm).toEqual({ touchId: 9, templateId: 1, title: '首次问候' });
    expect(s.toast.items.at(-1)?.text).toBe('已复制，粘贴发送后请点“已发送”');
    await expect(s.t.confirmSent()).resolves.toBe(true);
    expect(s.writes().at(-1)?.url).toBe('/api/sidebar/touches/9/confirm');
    expect(s.progress.at(-1)).toEqual({ touchCount: 1, stage: 2 });
    expect(s.t.state.pendingConfirm).toBeNull();
    expect(s.t.state.lastSentId).toBe(1);
    await flush();
    expect(s.calls.at(-1)?.url).toBe('/api/sidebar/templates?stage=2&externalUserId=wmCUST1');
  });

  it('a confirmation the server no longer knows clears the prompt, in Chinese', async () => {
    const s = setup({ routes: { 'POST /api/sidebar/touches/9/confirm': err(404, 'touch_not_found') } });
    await s.t.copy({ id: 1, title: '首次问候' });
    await expect(s.t.confirmSent()).resolves.toBe(false);
    expect(s.t.state.pendingConfirm).toBeNull();
    expect(s.toast.items.at(-1)?.text).toBe('记录失败：没有找到这次复制记录，请重新复制');
  });

  it('sets the stage by hand (第1–4次触达) and reloads the list', async () => {
    const s = setup({
      routes: {
        'PUT /api/sidebar/customers/wmCUST1/stage': { status: 200, body: { progress: { touchCount: 2, stage: 3 } } },
      },
    });
    await expect(s.t.setStage(3)).resolves.toBe(true);
    expect(s.writes().map((c) => [c.method, c.url, c.body])).toEqual([
      ['PUT', '/api/sidebar/customers/wmCUST1/stage', { stage: 3 }],
    ]);
    expect(s.progress).toEqual([{ touchCount: 2, stage: 3 }]);
    expect(s.toast.items.at(-1)?.text).toBe('已调整为第3次触达');
    await flush();
    expect(s.calls.at(-1)?.url).toMatch(/^\/api\/sidebar\/templates\?/);
    await expect(s.t.setStage(5)).resolves.toBe(false);
  });

  it('a refused clipboard records no touch', async () => {
    const s = setup({ copyFails: true });
    await expect(s.t.copy(template())).resolves.toBe(false);
    expect(s.writes().map((c) => c.url)).toEqual(['/api/sidebar/templates/1/prepare']);
    expect(s.toast.items.at(-1)?.kind).toBe('error');
  });
});
