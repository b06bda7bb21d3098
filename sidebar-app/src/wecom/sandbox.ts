import type { HttpClient } from '../services/http';
import type { ChatMessage, RegisterOptions, WecomAdapter } from './adapter';
import { WecomError } from './adapter';

interface SandboxContext {
  entry: string;
  externalUserId?: string;
  chatId?: string;
}

/**
 * JS-SDK stand-in for sandbox mode: the chat context and the "sent" messages live in the server's
 * WeCom sandbox (/sandbox/api/jssdk/*), so tests and the demo page can drive and observe them.
 * register() still asks our server for both signatures, exercising the same path as the real SDK.
 */
export function createSandboxAdapter(
  http: HttpClient,
  opts: { pageUrl: () => string; userid?: () => string | undefined },
): WecomAdapter {
  let registered: RegisterOptions | null = null;
  let context: Promise<SandboxContext> | null = null;
  const loadContext = () => (context ??= http.request<SandboxContext>('/sandbox/api/jssdk/context'));

  function requireRegistered(api: string): void {
    if (!registered) throw new WecomError(api, `${api}:fail no permission (not registered)`);
  }

  return {
    kind: 'sandbox',
    async register(options) {
      const url = opts.pageUrl();
      const [corp, agent] = await Promise.all([options.getConfigSignature(url), options.getAgentConfigSignature(url)]);
      if (!corp.signature || !agent.signature) throw new WecomError('register', 'config:fail invalid signature');
      registered = options;
    },
    async getContext() {
      requireRegistered('getContext');
      const ctx = await loadContext();
      return { entry: ctx.entry };
    },
    async getCurExternalContact() {
      requireRegistered('getCurExternalContact');
      const ctx = await loadContext();
      if (ctx.entry !== 'single_chat_tools' && ctx.entry !== 'contact_profile') {
        throw new WecomError('getCurExternalContact', 'getCurExternalContact:fail not in single chat');
      }
      if (!ctx.externalUserId) throw new WecomError('getCurExternalContact', 'getCurExternalContact:fail no contact');
      return { userId: ctx.externalUserId };
    },
    async getCurExternalChat() {
      requireRegistered('getCurExternalChat');
      const ctx = await loadContext();
      if (ctx.entry !== 'group_chat_tools' || !ctx.chatId) {
        throw new WecomError('getCurExternalChat', 'getCurExternalChat:fail not in group chat');
      }
      return { chatId: ctx.chatId };
    },
    /**
     * The sandbox "opens" the chat by making it the current chat context (what the toolbar page of
     * that chat would see); the page then shows that customer's card.
     */
    async openEnterpriseChat(options: { externalUserIds: string[] }) {
      requireRegistered('openEnterpriseChat');
      const [externalUserId] = options.externalUserIds;
      if (!externalUserId || options.externalUserIds.length !== 1) {
        throw new WecomError('openEnterpriseChat', 'openEnterpriseChat:fail invalid externalUserIds');
      }
      const ctx = await http.request<SandboxContext>('/sandbox/api/jssdk/context', {
        method: 'PUT',
        body: { entry: 'single_chat_tools', externalUserId },
      });
      context = Promise.resolve(ctx);
    },
    async sendChatMessage(message: ChatMessage) {
      requireRegistered('sendChatMessage');
      const ctx = await loadContext();
      const res = await http.request<{ errMsg?: string }>('/sandbox/api/jssdk/send', {
        method: 'POST',
        body: { ...message, externalUserId: ctx.externalUserId, userid: opts.userid?.() },
      });
      if (res?.errMsg !== 'sendChatMessage:ok') {
        throw new WecomError('sendChatMessage', res?.errMsg ?? 'sendChatMessage:fail');
      }
    },
  };
}
