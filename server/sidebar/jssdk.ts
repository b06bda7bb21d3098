/** Why a URL is not signed: a stable code (the 400's `code`) and an English message. */
export interface UnsignableUrl {
  code: 'url_has_fragment' | 'url_not_absolute' | 'url_foreign_origin' | 'url_not_canonical';
  message: string;
}

/**
 * Only pages of this deployment get JS-SDK signatures, and only in the one spelling a browser's
 * location.href has: the canonical origin of PUBLIC_BASE_URL (lowercase scheme and host, no
 * userinfo, no default port, dotted-decimal IPv4) followed by a path. WHATWG URL parsing maps
 * `HTTP://`, `user:pass@host`, `:443`, `0x7f.1`, `127.1`, `https:host`, a trailing dot's absence or
 * fullwidth letters onto our origin, so comparing parsed origins alone signed strings that are not
 * our page. The raw text is compared instead. No fragment either: the client must strip it, a '#'
 * means it would sign the wrong string. Returns null when the URL may be signed; the signature
 * itself is server/wecom/jssdk.ts.
 */
export function checkSignableUrl(url: string, publicBaseUrl: string): UnsignableUrl | null {
  if (url.includes('#')) return { code: 'url_has_fragment', message: 'url must not contain a #fragment' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { code: 'url_not_absolute', message: 'url is not an absolute URL' };
  }
  const origin = new URL(publicBaseUrl).origin;
  if (parsed.origin !== origin) return { code: 'url_foreign_origin', message: 'url is not a page of this service' };
  // Same origin once parsed: now the text itself must be that origin followed by the path (so no
  // userinfo, port or other host spelling), and parsing must give back the same text (nothing
  // stripped or re-encoded: tabs, newlines, leading spaces, backslashes).
  if (!url.startsWith(`${origin}/`) || parsed.href !== url) {
    return {
      code: 'url_not_canonical',
      message: `url must start with this service's canonical origin ${origin}/ exactly as a browser writes it`,
    };
  }
  return null;
}
