import type { BrowserEnv, KeyValueStorage } from './composables/env';

function memoryStorage(): KeyValueStorage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => (m.has(k) ? (m.get(k) as string) : null),
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  };
}

function safeSessionStorage(): KeyValueStorage {
  try {
    const s = window.sessionStorage;
    s.setItem('__sb', '1');
    s.removeItem('__sb');
    return s;
  } catch {
    // Some locked-down webviews throw on storage access; OAuth state then lives for this page only.
    return memoryStorage();
  }
}

function randomHex(bytes: number): string {
  const a = new Uint8Array(bytes);
  window.crypto.getRandomValues(a);
  let s = '';
  for (let i = 0; i < a.length; i++) s += (a[i] as number).toString(16).padStart(2, '0');
  return s;
}

/** execCommand fallback: older WeCom webviews have no async clipboard, or only on https. */
function legacyCopy(text: string): void {
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.top = '-1000px';
  document.body.appendChild(ta);
  ta.select();
  const ok = document.execCommand('copy');
  document.body.removeChild(ta);
  if (!ok) throw new Error('copy refused');
}

export function createBrowserEnv(): BrowserEnv {
  return {
    href: () => window.location.href,
    replaceUrl: (url) => window.history.replaceState(window.history.state, '', url),
    redirect: (url) => window.location.assign(url),
    storage: safeSessionStorage(),
    randomState: () => randomHex(16),
    now: () => Date.now(),
    async copyText(text) {
      if (navigator.clipboard && window.isSecureContext) {
        try {
          await navigator.clipboard.writeText(text);
          return;
        } catch {
          /* fall through to the legacy path */
        }
      }
      legacyCopy(text);
    },
  };
}
