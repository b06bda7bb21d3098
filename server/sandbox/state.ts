import type { FakeWecom } from './fake-wecom';
import type { RewardReceiverState } from './reward-receiver';

export interface JssdkContext {
  entry: 'single_chat_tools' | 'group_chat_tools' | 'normal';
  externalUserId?: string;
  chatId?: string;
}

export interface SentChatMessage {
  at: number;
  msgtype: string;
  text?: { content: string };
  /** msgtype 'news' (a link card), as the sidebar passed it. */
  news?: { link: string; title: string; desc?: string; imgUrl?: string };
  /** msgtype 'image'. */
  image?: { mediaid: string };
  externalUserId?: string;
  chatId?: string;
  userid?: string;
}

/** What the sandbox page selects: who "is logged in" and which chat the sidebar is open in. */
export interface SandboxState {
  currentManager: string;
  context: JssdkContext;
  sent: SentChatMessage[];
}

export interface Sandbox {
  fake: FakeWecom;
  state: SandboxState;
  /** The built-in reward receiver (REWARD_WEBHOOK_URL defaults to it in sandbox mode). */
  rewards: RewardReceiverState;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Only present when config.wecom.sandbox is true. */
    sandbox?: Sandbox;
  }
}
