import { type ChatMessage, JS_API_LIST, type RegisterOptions, toWecomError, type WecomAdapter } from './adapter';

type Jssdk = typeof import('@wecom/jssdk');

/**
 * Adapter over @wecom/jssdk. The SDK (~18 KB gz) is imported lazily so the sandbox build and the
 * first paint never pay for it.
 */
export function createRealAdapter(load: () => Promise<Jssdk> = () => import('@wecom/jssdk')): WecomAdapter {
  let sdk: Promise<Jssdk> | null = null;
  const ww = () => (sdk ??= load());

  async function call<T>(api: string, fn: (s: Jssdk) => Promise<T>): Promise<T> {
    try {
      return await fn(await ww());
    } catch (err) {
      throw toWecomError(api, err);
    }
  }

  return {
    kind: 'real',
    async register(options: RegisterOptions) {
      const s = await ww();
      s.register({
        corpId: options.corpId,
        agentId: options.agentId,
        jsApiList: options.jsApiList.length ? options.jsApiList : JS_API_LIST,
        getConfigSignature: options.getConfigSignature,
        getAgentConfigSignature: options.getAgentConfigSignature,
      });
    },
    getContext: () => call('getContext', (s) => s.getContext()).then((r) => ({ entry: r.entry })),
    getCurExternalContact: () =>
      call('getCurExternalContact', (s) => s.getCurExternalContact()).then((r) => ({ userId: r.userId })),
    getCurExternalChat: () =>
      call('getCurExternalChat', (s) => s.getCurExternalChat()).then((r) => ({ chatId: r.chatId })),
    async sendChatMessage(message: ChatMessage) {
      await call('sendChatMessage', (s) => s.sendChatMessage(message));
    },
    async openEnterpriseChat(options: { externalUserIds: string[] }) {
      // A single chat: no group name, only the customer (the manager is the caller).
      await call('openEnterpriseChat', (s) => s.openEnterpriseChat({ externalUserIds: options.externalUserIds }));
    },
  };
}
