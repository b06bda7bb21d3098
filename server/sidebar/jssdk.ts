import { createHash, randomBytes } from 'node:crypto';

export interface JsapiSignature {
  timestamp: number;
  nonceStr: string;
  signature: string;
}

/**
 * PROTOCOL.md §6: sha1("jsapi_ticket=T&noncestr=N&timestamp=TS&url=URL"), fixed key order, raw values,
 * URL exactly as the browser has it without the #fragment.
 */
export function jsapiSignature(ticket: string, nonceStr: string, timestamp: number, url: string): string {
  return createHash('sha1')
    .update(`jsapi_ticket=${ticket}&noncestr=${nonceStr}&timestamp=${timestamp}&url=${url}`)
    .digest('hex');
}

export function signUrl(ticket: string, url: string, nowMs: number): JsapiSignature {
  const nonceStr = randomBytes(12).toString('base64url');
  const timestamp = Math.floor(nowMs / 1000);
  return { timestamp, nonceStr, signature: jsapiSignature(ticket, nonceStr, timestamp, url) };
}

/**
 * Only pages of this deployment get signatures: same origin as PUBLIC_BASE_URL, no fragment (the
 * client must strip it; a '#' means it signed the wrong string). Returns an error message or null.
 */
export function checkSignableUrl(url: string, publicBaseUrl: string): string | null {
  if (url.includes('#')) return 'url must not contain a #fragment';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url is not an absolute URL';
  }
  if (parsed.origin !== new URL(publicBaseUrl).origin) return 'url is not a page of this service';
  return null;
}
