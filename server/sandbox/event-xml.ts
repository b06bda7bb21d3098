import { randomBytes } from 'node:crypto';

/**
 * Plaintext callback XML exactly as WeCom builds it (PROTOCOL.md §4, vectors kind event/message):
 * string values in CDATA, numbers bare, element order as in WeCom's samples.
 */

const cdata = (v: string) => `<![CDATA[${v.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;

/** `{ bare }` is written without CDATA (numbers too big for JS numbers, like MsgId). */
export type XmlField = [name: string, value: string | number | { bare: string } | undefined];

function build(fields: XmlField[]): string {
  let out = '<xml>';
  for (const [k, v] of fields) {
    if (v === undefined) continue;
    out += `<${k}>${typeof v === 'number' ? String(v) : typeof v === 'object' ? v.bare : cdata(v)}</${k}>`;
  }
  return `${out}</xml>`;
}

export function eventXml(
  corpId: string,
  createTime: number,
  event: string,
  changeType: string | undefined,
  fields: XmlField[],
): string {
  return build([
    ['ToUserName', corpId],
    ['FromUserName', 'sys'],
    ['CreateTime', createTime],
    ['MsgType', 'event'],
    ['Event', event],
    ['ChangeType', changeType],
    ...fields,
  ]);
}

/** A 19-digit MsgId like WeCom's (beyond 2^53, hence a string). */
export function newMsgId(): string {
  return `7${(randomBytes(8).readBigUInt64BE() % 10n ** 18n).toString().padStart(18, '0')}`;
}

export function textMessageXml(
  corpId: string,
  createTime: number,
  userid: string,
  content: string,
  agentId: string,
  msgId = newMsgId(),
): string {
  return build([
    ['ToUserName', corpId],
    ['FromUserName', userid],
    ['CreateTime', createTime],
    ['MsgType', 'text'],
    ['Content', content],
    ['MsgId', { bare: msgId }],
    ['AgentID', { bare: agentId }],
  ]);
}
