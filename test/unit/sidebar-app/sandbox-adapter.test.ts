import { createHttpClient } from '../../../sidebar-app/src/services/http';
import { WecomError } from '../../../sidebar-app/src/wecom/adapter';
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

  it('getCurExternalContact fails outside a single chat; group chats give the chat id', async () => {
    const s = setup({ entry: 'group_chat_tools', chatId: 'wrG1' });
    await s.adapter.register(opts);
    await expect(s.adapter.getCurExternalContact()).rejects.toBeInstanceOf(WecomError);
    await expect(s.adapter.getCurExternalChat()).resolves.toEqual({ chatId: 'wrG1' });
  });
});
