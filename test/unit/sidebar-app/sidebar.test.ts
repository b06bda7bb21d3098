import { OAUTH_STATE_KEY } from '../../../sidebar-app/src/composables/useAuth';
import { useSidebar } from '../../../sidebar-app/src/composables/useSidebar';
import { useToast } from '../../../sidebar-app/src/composables/useToast';
import { createHttpClient } from '../../../sidebar-app/src/services/http';
import { createSidebarApi } from '../../../sidebar-app/src/services/sidebarApi';
import { type WecomAdapter, WecomError } from '../../../sidebar-app/src/wecom/adapter';
import { cardResponse, fakeAdapter, memoryEnv, scriptedFetch, template } from './fakes';

const boot = { corpId: 'wwcorp', agentId: '1000002', oauthBase: 'https://sb.example/sandbox/oauth', sandbox: true };
const me = { userid: 'lilei', name: '李雷', role: 'manager', branchCode: 'B001' };
const sig = { timestamp: 1, nonceStr: 'n', signature: 's' };
const err = (status: number, code: string) => ({ status, body: { error: { code, message: code } } });

function setup(
  routes: Parameters<typeof scriptedFetch>[0] = {},
  adapterOpts: Parameters<typeof fakeAdapter>[0] = {},
  href = 'https://sb.example/sidebar/',
) {
  const f = scriptedFetch({
    'GET /api/sidebar/bootstrap': { status: 200, body: boot },
    'GET /api/sidebar/session': { status: 200, body: { authenticated: true, me } },
    'GET /api/sidebar/jssdk-config': {
      status: 200,
      body: { corpId: 'wwcorp', agentId: '1000002', corp: sig, agent: sig },
    },
    'GET /api/sidebar/customers/wmCUST1': { status: 200, body: cardResponse() },
    ...routes,
  });
  const m = memoryEnv(href);
  const a = fakeAdapter(adapterOpts);
  const created: boolean[] = [];
  const sidebar = useSidebar({
    api: createSidebarApi(createHttpClient({ fetch: f.fetch })),
    env: m.env,
    toast: useToast({ setTimer: () => 0 }),
    createAdapter: async (sandbox) => {
      created.push(sandbox);
      return a.adapter;
    },
  });
  return { ...f, ...m, ...a, sidebar, created };
}

const todoReply = {
  day: '2026-11-23',
  userid: 'lilei',
  name: '李雷',
  total: 1,
  counts: { followup_due: 1, maturing: 0, birthday: 0, new_stage1: 0, stale: 0, deleted: 0 },
  items: [
    {
      kind: 'followup_due',
      kindZh: '待跟进',
      externalUserId: 'wmCUST1',
      customerName: '王*明',
      segment: '代发',
      detail: '约定今天跟进',
      canChat: true,
    },
  ],
  truncated: false,
  branch: null,
};

describe('useSidebar boot flow', () => {
  it('boots to the card: bootstrap → me → one jssdk-config for both signatures → context → card', async () => {
    const s = setup();
    await s.sidebar.start();
    expect(s.sidebar.state.phase).toBe('card');
    expect(s.created).toEqual([true]);
    expect(s.calls.map((c) => c.url.split('?')[0])).toEqual([
      '/api/sidebar/bootstrap',
      '/api/sidebar/session',
      '/api/sidebar/jssdk-config',
      '/api/sidebar/customers/wmCUST1',
    ]);
    expect(s.registered[0]).toMatchObject({ corpId: 'wwcorp', agentId: '1000002' });
    expect(s.registered[0].jsApiList).toEqual(expect.arrayContaining(['getContext', 'sendChatMessage']));
    expect(s.sidebar.card.state.customer?.name).toBe('王*明');
  });

  it('leaves for OAuth when there is no session', async () => {
    const s = setup({
      'GET /api/sidebar/session': { status: 200, body: { authenticated: false, reason: 'unauthenticated' } },
    });
    await s.sidebar.start();
    expect(s.sidebar.state.phase).toBe('redirecting');
    expect(s.redirects[0]).toContain('/connect/oauth2/authorize?appid=wwcorp');
    expect(s.redirects[0]).toContain(`state=${s.store.get(OAUTH_STATE_KEY)}`);
  });

  it.each([
    ['normal', 'todo'],
    ['group_chat_tools', 'group_chat'],
  ])('entry %s shows %s', async (entry, phase) => {
    const s = setup({ 'GET /api/sidebar/todo': { status: 200, body: todoReply } }, { entry });
    await s.sidebar.start();
    expect(s.sidebar.state.phase).toBe(phase);
    expect(s.calls.some((c) => c.url.includes('/customers/'))).toBe(false);
  });

  it('outside a chat shows 今日待办 (the list of today), not 不在会话中', async () => {
    const s = setup({ 'GET /api/sidebar/todo': { status: 200, body: todoReply } }, { entry: 'normal' });
    await s.sidebar.start();
    expect(s.sidebar.state.phase).toBe('todo');
    expect(s.sidebar.todo.state.reply?.items).toHaveLength(1);
  });

  it('shows 今日待办 when the SDK refuses getContext (opened outside WeCom); an operator gets not_in_chat', async () => {
    const s = setup({ 'GET /api/sidebar/todo': { status: 200, body: todoReply } });
    s.adapter.getContext = async () => {
      throw new WecomError('getContext', 'getContext:fail');
    };
    await s.sidebar.start();
    expect(s.sidebar.state.phase).toBe('todo');
    const op = setup({
      'GET /api/sidebar/session': { status: 200, body: { authenticated: true, me: { ...me, role: 'operator' } } },
    });
    op.adapter.getContext = async () => ({ entry: 'normal' });
    await op.sidebar.start();
    expect(op.sidebar.state.phase).toBe('not_in_chat');
  });

  it('a 今日待办 row suggests a script of the kind’s category, else the customer’s top script', async () => {
    const s = setup(
      {
        'GET /api/sidebar/todo': { status: 200, body: todoReply },
        'GET /api/sidebar/templates': (call) => ({
          status: 200,
          body: { templates: call.url.includes('category=') ? [] : [template({ title: '通用回访' })] },
        }),
      },
      { entry: 'normal' },
    );
    await s.sidebar.start();
    const item = s.sidebar.todo.state.reply?.items[0];
    if (!item) throw new Error('no item');
    await s.sidebar.todo.suggest(item);
    const asked = s.calls.filter((c) => c.url.startsWith('/api/sidebar/templates')).map((c) => c.url);
    expect(asked).toEqual([
      `/api/sidebar/templates?externalUserId=wmCUST1&category=${encodeURIComponent('回访')}`,
      '/api/sidebar/templates?externalUserId=wmCUST1',
    ]);
    expect(s.sidebar.todo.state.suggestion?.template?.title).toBe('通用回访');
    await s.sidebar.todo.suggest(item); // a second tap folds the row
    expect(s.sidebar.todo.state.openKey).toBeNull();
  });

  it('a 今日待办 row opens the chat through the adapter; the sandbox then shows the card', async () => {
    const s = setup({ 'GET /api/sidebar/todo': { status: 200, body: todoReply } }, { entry: 'normal' });
    const opened: string[][] = [];
    s.adapter.openEnterpriseChat = async ({ externalUserIds }) => {
      opened.push(externalUserIds);
      s.adapter.getContext = async () => ({ entry: 'single_chat_tools' });
    };
    await s.sidebar.start();
    await s.sidebar.openCustomerChat('wmCUST1');
    expect(opened).toEqual([['wmCUST1']]);
    expect(s.sidebar.state.phase).toBe('card');
    expect(s.sidebar.state.fromTodo).toBe(true);
  });

  it.each([
    [err(404, 'customer_not_found'), 'not_found'],
    [err(403, 'forbidden_customer'), 'forbidden'],
    [err(500, 'internal'), 'error'],
  ])('card answer %j shows %s', async (answer, phase) => {
    const s = setup({ 'GET /api/sidebar/customers/wmCUST1': answer });
    await s.sidebar.start();
    expect(s.sidebar.state.phase).toBe(phase);
    expect(s.sidebar.state.errorMessage).toBeTruthy();
  });

  it('retry after a failure reloads only what failed', async () => {
    let fail = true;
    const s = setup({
      'GET /api/sidebar/customers/wmCUST1': () =>
        fail ? err(503, 'unavailable') : { status: 200, body: cardResponse() },
    });
    await s.sidebar.start();
    expect(s.sidebar.state.phase).toBe('error');
    fail = false;
    await s.sidebar.retry();
    expect(s.sidebar.state.phase).toBe('card');
    const urls = s.calls.map((c) => c.url.split('?')[0]);
    expect(urls.filter((u) => u === '/api/sidebar/bootstrap')).toHaveLength(1);
    expect(urls.filter((u) => u === '/api/sidebar/session')).toHaveLength(1);
    expect(s.registered).toHaveLength(1);
  });

  it('a 401 later in the session restarts OAuth (central handler)', async () => {
    const s = setup({ 'POST /api/sidebar/customers/wmCUST1/tags': err(401, 'session_expired') });
    await s.sidebar.start();
    await s.sidebar.card.toggleTag('t2');
    expect(s.sidebar.state.phase).toBe('redirecting');
    expect(s.redirects).toHaveLength(1);
  });

  it('a reused OAuth code shows an error whose retry starts a fresh OAuth', async () => {
    const s = setup(
      {
        'GET /api/sidebar/session': { status: 200, body: { authenticated: false, reason: 'unauthenticated' } },
        'POST /api/sidebar/session': err(401, 'oauth_code_invalid'),
      },
      {},
      'https://sb.example/sidebar/?code=C1&state=S1',
    );
    s.store.set(OAUTH_STATE_KEY, 'S1');
    await s.sidebar.start();
    expect(s.sidebar.state.phase).toBe('error');
    expect(s.sidebar.state.errorTitle).toBe('需要重新登录');
    expect(s.sidebar.state.errorMessage).toContain('登录链接已过期');
    await s.sidebar.retry();
    expect(s.sidebar.state.phase).toBe('redirecting');
    expect(s.redirects[0]).toContain('redirect_uri=https%3A%2F%2Fsb.example%2Fsidebar%2F&');
  });

  it('linking from the not-found state shows the card', async () => {
    let linked = false;
    const s = setup({
      'GET /api/sidebar/customers/wmCUST1': () =>
        linked ? { status: 200, body: cardResponse() } : err(404, 'customer_not_found'),
      'POST /api/sidebar/customers/wmCUST1/link': () => {
        linked = true;
        return { status: 200, body: {} };
      },
    });
    await s.sidebar.start();
    expect(s.sidebar.state.phase).toBe('not_found');
    await s.sidebar.link({ bankCustomerId: 'C0001', phone: '13800000001' });
    expect(s.sidebar.state.phase).toBe('card');
  });

  it('sending from the page prepares the text, then updates touches and the stage from the server, and reloads the list', async () => {
    const s = setup({
      'POST /api/sidebar/templates/1/prepare': {
        status: 200,
        body: {
          templateId: 1,
          version: 1,
          text: '王先生您好',
          content: '王先生您好',
          disclaimer: null,
          attachments: [],
        },
      },
      'POST /api/sidebar/touches': {
        status: 200,
        body: {
          touch: {
            id: 3,
            templateId: 1,
            title: '首次问候',
            userid: 'lilei',
            sentAt: '2026-11-23T02:00:00Z',
            channel: 'send',
            stage: 1,
            confirmed: false,
          },
          progress: { touchCount: 1, stage: 2 },
        },
      },
      'GET /api/sidebar/templates': { status: 200, body: { templates: [] } },
    });
    await s.sidebar.start();
    const tpl = s.sidebar.card.state.templates[0];
    await s.sidebar.templates.send(tpl);
    expect(s.sent).toEqual([{ msgtype: 'text', text: { content: '王先生您好' } }]);
    expect(s.sidebar.card.state.customer?.touchCount).toBe(1);
    expect(s.sidebar.card.state.customer?.stage).toBe(2);
    expect(s.sidebar.card.lastTouches.value[0].id).toBe(3);
    await new Promise((r) => setImmediate(r));
    // the list is ranked again for the new stage
    expect(s.calls.at(-1)?.url).toBe('/api/sidebar/templates?stage=2&externalUserId=wmCUST1');
  });

  it('已发送 after 复制 shows the touch as sent in 跟进记录; 存为我的 there opens the script’s own wording', async () => {
    const s = setup({
      'POST /api/sidebar/templates/1/prepare': {
        status: 200,
        body: {
          templateId: 1,
          version: 1,
          text: '王先生您好',
          content: '王先生您好',
          disclaimer: null,
          attachments: [],
        },
      },
      'POST /api/sidebar/touches': {
        status: 200,
        body: {
          touch: {
            id: 4,
            templateId: 1,
            title: '首次问候',
            userid: 'lilei',
            sentAt: '2026-11-23T02:00:00Z',
            channel: 'copy',
            stage: 1,
            confirmed: false,
          },
          progress: { touchCount: 0, stage: 1 },
        },
      },
      'POST /api/sidebar/touches/4/confirm': { status: 200, body: { progress: { touchCount: 1, stage: 2 } } },
      'GET /api/sidebar/templates': { status: 200, body: { templates: [] } },
      'GET /api/sidebar/templates/1/source': {
        status: 200,
        body: {
          source: {
            title: '首次问候',
            body: '{{客户称呼}}您好，我是{{客户经理}}。',
            category: '问候',
            stage: 1,
            segments: [],
            product: null,
            riskClass: 'none',
            disclaimer: null,
            attachments: [],
          },
        },
      },
      'POST /api/sidebar/templates/check': { status: 200, body: { findings: [] } },
    });
    await s.sidebar.start();
    await expect(s.sidebar.templates.copy(s.sidebar.card.state.templates[0])).resolves.toBe(true);
    const first = () => s.sidebar.card.timeline.value[0];
    expect([first().label, first().templateId]).toEqual(['复制话术', 1]);
    await expect(s.sidebar.templates.confirmSent()).resolves.toBe(true);
    expect([first().label, first().templateId]).toEqual(['发送话术', 1]);
    expect(s.sidebar.card.state.customer?.stage).toBe(2);
    // the timeline entry carries what 存为我的 needs: the editor opens with the script's own wording
    const item = first();
    await expect(s.sidebar.myTemplates.saveAsMine({ id: item.templateId as number, title: item.text })).resolves.toBe(
      true,
    );
    expect(s.sidebar.myTemplates.state.editor?.form).toMatchObject({
      title: '首次问候（我的）',
      body: '{{客户称呼}}您好，我是{{客户经理}}。',
    });
  });

  it('a failed register (bad signature) shows an error with retry', async () => {
    const s = setup();
    const broken: Partial<WecomAdapter> = {
      register: async () => {
        throw new WecomError('register', 'config:fail invalid signature');
      },
    };
    Object.assign(s.adapter, broken);
    await s.sidebar.start();
    expect(s.sidebar.state.phase).toBe('error');
    expect(s.sidebar.state.errorMessage).not.toMatch(/config|fail/);
  });
});
