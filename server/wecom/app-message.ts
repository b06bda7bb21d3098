import { truncateBytes } from '../lib/html';
import type { WecomApi } from './api-types';

type SendMessage = Parameters<WecomApi['sendMessage']>[0];

/**
 * An app message card (message/send, msgtype textcard) to one member. WeCom limits the title to 128
 * bytes and the description to 512 (it renders a small HTML subset: div class gray/normal/highlight);
 * both are cut at a character boundary. Callers escape any text they put into the description.
 */
export function textcard(o: {
  touser: string;
  agentId: string | number;
  title: string;
  description: string;
  url: string;
  btntxt: string;
  /** WeCom drops an identical card sent again within this many seconds. */
  duplicateCheckSeconds?: number;
}): SendMessage {
  return {
    touser: o.touser,
    msgtype: 'textcard',
    agentid: Number(o.agentId),
    textcard: {
      title: truncateBytes(o.title, 128),
      description: truncateBytes(o.description, 512),
      url: o.url,
      btntxt: o.btntxt,
    },
    ...(o.duplicateCheckSeconds
      ? { enable_duplicate_check: 1 as const, duplicate_check_interval: o.duplicateCheckSeconds }
      : {}),
  };
}
