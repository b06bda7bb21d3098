import { createHttpClient } from '../../../sidebar-app/src/services/http';
import { WecomError } from '../../../sidebar-app/src/wecom/adapter';
import { createRealAdapter } from '../../../sidebar-app/src/wecom/real';
import { createSandboxAdapter } from '../../../sidebar-app/src/wecom/sandbox';
import { scriptedFetch } from './fakes';

const sig = async () => ({ timestamp: 1, nonceStr: 'n', signature: 'abc' });
const opts = { corpId: 'ww', agentId: '1', jsApiList: [], getConfigSignature: sig, getAgentConfigSignature: sig };

function setup(context: unknown) {
  const f = scriptedFetch({
    'GET /sandbox/api/jssdk/context': { status: 200, body: context },
    'POST /sandbox/api/jssdk/send': { status: 200, body: { errMsg: 'sendChatMessage:ok' } },
  });
  const adapter = createSandboxAdapter(createHttpClient({ fetch: f.fetch }), {
    pageUrl: () => 'https://sb.example/sidebar/',
    userid: () => 'lilei',
  });
  return { ...f, adapter };
}

describe('sandbox JS-SDK adapter', () => {
  it('refuses calls before register, like the real SDK without agentConfig', async () => {
    const s = setup({ entry: 'single_chat_tools', externalUserId: 'wm1' });
    await expect(s.adapter.getContext()).rejects.toBeInstanceOf(WecomError);
  });

  it('asks for both signatures of the page URL on register', async () => {
    const s = setup({ entry: 'normal' });
    const urls: string[] = [];
    await s.adapter.register({
      ...opts,
      getConfigSignature: async (u) => {
        urls.push(`corp ${u}`);
        return sig();
      },
      getAgentConfigSignature: async (u) => {
        urls.push(`agent ${u}`);
        return sig();
      },
    });
    expect(urls.sort()).toEqual(['agent https://sb.example/sidebar/', 'corp https://sb.example/sidebar/']);
  });

  it('reads the chat context from the sandbox and sends into it', async () => {
    const s = setup({ entry: 'single_chat_tools', externalUserId: 'wmCUST1' });
    await s.adapter.register(opts);
    await expect(s.adapter.getContext()).resolves.toEqual({ entry: 'single_chat_tools' });
    await expect(s.adapter.getCurExternalContact()).resolves.toEqual({ userId: 'wmCUST1' });
    await s.adapter.sendChatMessage({ msgtype: 'text', text: { content: '您好' } });
    expect(s.calls.at(-1)).toMatchObject({
      method: 'POST',
      url: '/sandbox/api/jssdk/send',
      body: { msgtype: 'text', text: { content: '您好' }, externalUserId: 'wmCUST1', userid: 'lilei' },
    });
  });

  it('passes link cards and images to the sandbox unchanged', async () => {
    const s = setup({ entry: 'single_chat_tools', externalUserId: 'wmCUST1' });
    await s.adapter.register(opts);
    const news = { link: 'https://bank.example/w', title: '理财', desc: '', imgUrl: '' };
    await s.adapter.sendChatMessage({ msgtype: 'news', news });
    await s.adapter.sendChatMessage({ msgtype: 'image', image: { mediaid: 'M1' } });
    expect(s.calls.slice(-2).map((c) => c.body)).toEqual([
      { msgtype: 'news', news, externalUserId: 'wmCUST1', userid: 'lilei' },
      { msgtype: 'image', image: { mediaid: 'M1' }, externalUserId: 'wmCUST1', userid: 'lilei' },
    ]);
  });

  it('getCurExternalContact fails outside a single chat; group chats give the chat id', async () => {
    const s = setup({ entry: 'group_chat_tools', chatId: 'wrG1' });
    await s.adapter.register(opts);
    await expect(s.adapter.getCurExternalContact()).rejects.toBeInstanceOf(WecomError);
    await expect(s.adapter.getCurExternalChat()).resolves.toEqual({ chatId: 'wrG1' });
  });
});

describe('real JS-SDK adapter (over an injected SDK module)', () => {
  function fakeSdk(overrides: Record<string, unknown> = {}) {
    const calls: string[] = [];
    const sdk = {
      register: (o: { corpId: string; jsApiList: string[] }) =>
        calls.push(`register ${o.corpId} ${o.jsApiList.join(',')}`),
      getContext: async () => ({ errMsg: 'getContext:ok', entry: 'single_chat_tools' }),
      getCurExternalContact: async () => ({ errMsg: 'getCurExternalContact:ok', userId: 'wmX' }),
      getCurExternalChat: async () => ({ errMsg: 'getCurExternalChat:ok', chatId: 'wrX' }),
      sendChatMessage: async (m: unknown) => {
        calls.push(`send ${JSON.stringify(m)}`);
        return { errMsg: 'sendChatMessage:ok' };
      },
      ...overrides,
    };
    return { sdk, calls };
  }

  it('loads the SDK only when first used, registers and maps answers', async () => {
    const { sdk, calls } = fakeSdk();
    let loads = 0;
    const adapter = createRealAdapter(async () => {
      loads++;
      return sdk as never;
    });
    expect(loads).toBe(0);
    await adapter.register({ ...opts, corpId: 'ww1', jsApiList: ['getContext', 'sendChatMessage'] });
    await expect(adapter.getContext()).resolves.toEqual({ entry: 'single_chat_tools' });
    await expect(adapter.getCurExternalContact()).resolves.toEqual({ userId: 'wmX' });
    await adapter.sendChatMessage({ msgtype: 'text', text: { content: '您好' } });
    expect(loads).toBe(1);
    expect(calls).toEqual([
      'register ww1 getContext,sendChatMessage',
      'send {"msgtype":"text","text":{"content":"您好"}}',
    ]);
  });

  it('turns SDK failures ({errMsg}) into WecomError', async () => {
    const { sdk } = fakeSdk({
      sendChatMessage: async () => {
        throw { errMsg: 'sendChatMessage:fail no permission' };
      },
    });
    const adapter = createRealAdapter(async () => sdk as never);
    const err = await adapter.sendChatMessage({ msgtype: 'text', text: { content: 'x' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WecomError);
    expect(err).toMatchObject({ api: 'sendChatMessage', errMsg: 'sendChatMessage:fail no permission' });
  });
});
