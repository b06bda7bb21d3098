// One interface over the WeCom JS-SDK so the sandbox mock swaps in for the real client.

export type EntryType = 'single_chat_tools' | 'group_chat_tools' | 'contact_profile' | 'normal' | string;

export interface SignatureData {
  timestamp: number | string;
  nonceStr: string;
  signature: string;
}

export interface RegisterOptions {
  corpId: string;
  agentId: string;
  jsApiList: string[];
  getConfigSignature(url: string): Promise<SignatureData>;
  getAgentConfigSignature(url: string): Promise<SignatureData>;
}

export interface TextMessage {
  msgtype: 'text';
  text: { content: string };
}

/** A link card (H5 消息); the SDK wants every field, '' when there is nothing. */
export interface NewsMessage {
  msgtype: 'news';
  news: { link: string; title: string; desc: string; imgUrl: string };
}

/** An image by WeCom media id (the SDK takes no image URL). */
export interface ImageMessage {
  msgtype: 'image';
  image: { mediaid: string };
}

export type ChatMessage = TextMessage | NewsMessage | ImageMessage;

export interface WecomAdapter {
  readonly kind: 'real' | 'sandbox';
  register(options: RegisterOptions): Promise<void>;
  getContext(): Promise<{ entry: EntryType }>;
  /** The customer's external_userid in a single chat. */
  getCurExternalContact(): Promise<{ userId: string }>;
  getCurExternalChat(): Promise<{ chatId: string }>;
  sendChatMessage(message: ChatMessage): Promise<void>;
  /** Opens the single chat with this customer (今日待办 → the chat, where the sidebar shows the card). */
  openEnterpriseChat(options: { externalUserIds: string[] }): Promise<void>;
}

export const JS_API_LIST = [
  'getContext',
  'getCurExternalContact',
  'getCurExternalChat',
  'sendChatMessage',
  'openEnterpriseChat',
];

/** JS-SDK failures carry `errMsg` ("sendChatMessage:fail ..."), not an Error. */
export class WecomError extends Error {
  constructor(
    readonly api: string,
    readonly errMsg: string,
  ) {
    super(`${api}: ${errMsg}`);
    this.name = 'WecomError';
  }
}

export function toWecomError(api: string, err: unknown): WecomError {
  if (err instanceof WecomError) return err;
  const errMsg =
    err && typeof err === 'object' && typeof (err as { errMsg?: unknown }).errMsg === 'string'
      ? (err as { errMsg: string }).errMsg
      : err instanceof Error
        ? err.message
        : String(err);
  return new WecomError(api, errMsg);
}
