/**
 * Only pages of this deployment get JS-SDK signatures: same origin as PUBLIC_BASE_URL, no fragment
 * (the client must strip it; a '#' means it would sign the wrong string). Returns an error message
 * or null. The signature itself is server/wecom/jssdk.ts.
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
