import { PENDING_KEY, PENDING_MAX_AGE_MS, usePending } from '../../../sidebar-app/src/composables/usePending';
import { useSidebar } from '../../../sidebar-app/src/composables/useSidebar';
import { useToast } from '../../../sidebar-app/src/composables/useToast';
import { createHttpClient } from '../../../sidebar-app/src/services/http';
import { createSidebarApi } from '../../../sidebar-app/src/services/sidebarApi';
import { cardResponse, fakeAdapter, memoryEnv, scriptedFetch } from './fakes';

const boot = { corpId: 'wwcorp', agentId: '1000002', oauthBase: 'https://sb.example/sandbox/oauth', sandbox: true };
const me = { userid: 'lilei', name: '李雷', role: 'manager', branchCode: 'B001' };
const sig = { timestamp: 1, nonceStr: 'n', signature: 's' };
const expired = { status: 401, body: { error: { code: 'session_expired', message: 'expired' } } };

/** One page load of the sidebar over a shared sessionStorage (the OAuth round trip reloads the page). */
function pageLoad(store: ReturnType<typeof memoryEnv>, routes: Parameters<typeof scriptedFetch>[0]) {
  const f = scriptedFetch({
    'GET /api/sidebar/bootstrap': { status: 200, body: boot },
    'GET /api/sidebar/session': { status: 200, body: { authenticated: true, me } },
    'GET /api/sidebar/jssdk-config': {
      status: 200,
      body: { corpId: 'wwcorp', agentId: '1000002', corp: sig, agent: sig },
    },
    'GET /api/sidebar/customers/wmCUST1': { status: 200, body: cardResponse() },
    'POST /api/sidebar/templates/1/prepare': {
      status: 200,
      body: { templateId: 1, version: 1, text: '您好', content: '您好', disclaimer: null, attachments: [] },
    },
    ...routes,
  });
  const a = fakeAdapter();
  const toast = useToast({ setTimer: () => 0 });
  const sidebar = useSidebar({
    api: createSidebarApi(createHttpClient({ fetch: f.fetch })),
    env: store.env,
    toast,
    createAdapter: async () => a.adapter,
  });
  return { ...f, sidebar, toast };
}

describe('no lost work on an expired session', () => {
  it('a tag change that meets an expired session is kept, OAuth starts, and the next load saves it once', async () => {
    const m = memoryEnv('https://sb.example/sidebar/');
    const first = pageLoad(m, { 'POST /api/sidebar/customers/wmCUST1/tags': expired });
    await first.sidebar.start();
    await expect(first.sidebar.card.toggleTag('t2')).resolves.toBe(false);
    expect(first.sidebar.state.phase).toBe('redirecting');
    expect(m.redirects).toHaveLength(1);
    // No rollback and no "not saved" toast: the page is leaving to sign in.
    expect(first.toast.items.filter((t) => t.kind === 'error')).toEqual([]);
    expect(JSON.parse(m.store.get(PENDING_KEY) ?? '[]')).toEqual([
      expect.objectContaining({ path: '/api/sidebar/customers/wmCUST1/tags', body: { add: ['t2'], remove: [] } }),
    ]);

    const tags = { status: 200, body: { corpTags: cardResponse().customer.corpTags } };
    const second = pageLoad(m, { 'POST /api/sidebar/customers/wmCUST1/tags': tags });
    await second.sidebar.start();
    await second.sidebar.start(); // a second boot (重试) does not send it again
    const posts = second.calls.filter((c) => c.method === 'POST');
    expect(posts.map((c) => c.body)).toEqual([{ add: ['t2'], remove: [] }]);
    expect(second.toast.items.map((t) => t.text)).toContain('重新登录后已保存：标签「待跟进」的添加');
    expect(m.store.has(PENDING_KEY)).toBe(false);
  });

  it('a touch after a send is replayed with the same request id', async () => {
    const m = memoryEnv('https://sb.example/sidebar/');
    const first = pageLoad(m, { 'POST /api/sidebar/touches': expired });
    await first.sidebar.start();
    const tpl = first.sidebar.card.state.templates[0];
    await first.sidebar.templates.send(tpl);
    expect(first.toast.items.at(-1)?.text).toContain('自动补存');
    const firstTouch = first.calls.find((c) => c.url === '/api/sidebar/touches');
    const sentId = (firstTouch?.body as { requestId?: string } | undefined)?.requestId;
    expect(sentId).toBeTruthy();
    const touch = {
      id: 9,
      templateId: 1,
      title: '首次问候',
      userid: 'lilei',
      sentAt: '2026-11-23T02:00:00.000Z',
      channel: 'send',
      stage: 1,
      confirmed: false,
    };
    const second = pageLoad(m, {
      'POST /api/sidebar/touches': { status: 200, body: { touch, progress: { touchCount: 1, stage: 2 } } },
    });
    await second.sidebar.start();
    const replay = second.calls.filter((c) => c.url === '/api/sidebar/touches');
    expect(replay).toHaveLength(1);
    expect((replay[0].body as { requestId: string }).requestId).toBe(sentId);
  });

  it('a send whose prepare meets an expired session sends nothing; after sign-in the manager is told to send again', async () => {
    const m = memoryEnv('https://sb.example/sidebar/');
    const first = pageLoad(m, { 'POST /api/sidebar/templates/1/prepare': expired });
    await first.sidebar.start();
    await expect(first.sidebar.templates.send({ id: 1, title: '首次问候' })).resolves.toBe(false);
    expect(first.sidebar.state.phase).toBe('redirecting');
    const second = pageLoad(m, {});
    await second.sidebar.start();
    // Nothing is replayed (a message must not go out unattended): the banner says what to redo.
    expect(second.calls.filter((c) => c.method === 'POST')).toEqual([]);
    expect(second.sidebar.state.unsaved).toEqual(['话术「首次问候」没有发出（登录已过期），请重新点击发送']);
  });

  it('what cannot be saved is reported: a refusal, a write kept too long, a network failure (kept for later)', async () => {
    const m = memoryEnv('https://sb.example/sidebar/');
    const pending = usePending(m.env.storage, m.env.now);
    const req = (path: string, what: string) => ({ path, method: 'POST', body: {}, resumable: what });
    pending.keep(req('/a', '跟进记录'));
    m.advance(PENDING_MAX_AGE_MS + 1);
    pending.keep(req('/b', '标签「高潜客户」的添加'));
    pending.keep(req('/c', '发送话术的触达记录'));
    expect(pending.keep({ path: '/d', method: 'GET', body: undefined })).toBe(false);
    const f = scriptedFetch({
      'POST /b': { status: 403, body: { error: { code: 'forbidden_customer', message: 'x' } } },
    });
    const result = await pending.resume(createHttpClient({ fetch: f.fetch }));
    expect(result.saved).toEqual([]);
    expect(result.lost).toEqual([
      '跟进记录（超过 10 分钟未能保存）',
      '标签「高潜客户」的添加（该客户不由您或您的网点服务，无法查看。）',
      '发送话术的触达记录（网络连接失败，稍后重新打开侧边栏会再试）',
    ]);
    // Only the network failure stays, to be sent again (its request id makes that safe).
    expect(pending.read().map((p) => p.path)).toEqual(['/c']);
    expect(pending.abandon()).toEqual(['发送话术的触达记录']);
    expect(pending.read()).toEqual([]);
  });
});
