import { randomBytes } from 'node:crypto';
import { getJsApiSignature } from '@wecom/crypto';

export interface JssdkSignature {
  timestamp: number;
  nonceStr: string;
  signature: string;
}

/**
 * JS-SDK signature (PROTOCOL.md §6): sha1 of `jsapi_ticket=T&noncestr=N&timestamp=TS&url=URL`, URL
 * without its fragment and otherwise byte-for-byte as the browser has it. The same formula serves the
 * corp ticket (ww.register getConfigSignature) and the app ticket (getAgentConfigSignature); passing
 * the right ticket is the caller's job. Tickets stay on the server.
 */
export function jssdkSignature(
  ticket: string,
  url: string,
  nonceStr: string = randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 16),
  timestamp: number = Math.floor(Date.now() / 1000),
): JssdkSignature {
  const hash = url.indexOf('#');
  const { signature } = getJsApiSignature({
    ticket,
    url: hash === -1 ? url : url.slice(0, hash),
    nonceStr,
    timestamp: String(timestamp),
  });
  return { timestamp, nonceStr, signature };
}
