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

/** Report figures of one manager over the CLI report's default period (the story's step 5). */
export interface StoryFigures {
  days: number;
  adds: number;
  churned: number;
  churnRate: number | null;
  totalAdds: number;
  totalChurned: number;
}

/** The guided story's progress (story.ts): one demo customer from the scan to the delete. */
export interface StoryState {
  customerId: string;
  customerName: string;
  segment: string;
  allocation?: {
    id: string;
    userid: string;
    managerName: string;
    branchName: string | null;
    /** Reason code (owner, nearest_branch …) and its Chinese label. */
    reason: string;
    reasonZh: string;
    /** The engine's explanation with managers by name. */
    summary: string;
    distanceMeters: number | null;
    state: string;
    configId: string | null;
    qrCode: string | null;
    /** The signed request as sent (body and timestamp; the key never leaves the server). */
    request: { body: string; timestamp: number };
  };
  externalUserId?: string;
  welcomeCode?: string;
  /** The bank customer the add callback linked the contact to (null: not linked in time). */
  linkedCustomerId?: string | null;
  welcomeMissing?: boolean;
  sidebarOpened?: boolean;
  deleted?: { before: StoryFigures; after: StoryFigures; recorded: boolean };
}

/** What the sandbox page selects: who "is logged in" and which chat the sidebar is open in. */
export interface SandboxState {
  currentManager: string;
  context: JssdkContext;
  sent: SentChatMessage[];
  story?: StoryState;
  /** Demo customers a story already used (they are no longer new to the bank's WeCom). */
  storyCustomers?: string[];
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
