import { ApiError } from '../services/http';
import type { SidebarApi } from '../services/sidebarApi';
import type { Bootstrap, Me } from '../services/types';
import { type BrowserEnv, stripHash } from './env';

export const OAUTH_STATE_KEY = 'sb_oauth_state';
export const OAUTH_ATTEMPTS_KEY = 'sb_oauth_attempts';
/** More OAuth round trips than this within the window means the cookie is not kept: stop looping. */
const MAX_ATTEMPTS = 3;
const ATTEMPT_WINDOW_MS = 60_000;

export function buildAuthorizeUrl(boot: Bootstrap, redirectUri: string, state: string): string {
  const enc = encodeURIComponent;
  return (
    `${boot.oauthBase.replace(/\/+$/, '')}/connect/oauth2/authorize?appid=${enc(boot.corpId)}` +
    `&redirect_uri=${enc(redirectUri)}&response_type=code&scope=snsapi_base` +
    `&state=${enc(state)}&agentid=${enc(boot.agentId)}#wechat_redirect`
  );
}

/** The page URL without OAuth's code/state and without the #hash. */
export function cleanPageUrl(href: string): string {
  const url = new URL(stripHash(href));
  url.searchParams.delete('code');
  url.searchParams.delete('state');
  // URL keeps a lone "?" after deleting the last param; drop it.
  return url.toString().replace(/\?$/, '');
}

export interface Auth {
  /** The signed-in manager, or null when the page is leaving for the OAuth page. */
  ensureSession(boot: Bootstrap): Promise<Me | null>;
  /** Start OAuth (also the central 401 handler). Throws ApiError('session_not_kept') on a loop. */
  redirectToOAuth(boot: Bootstrap): void;
}

export function useAuth(api: SidebarApi, env: BrowserEnv): Auth {
  function recentAttempts(): number[] {
    try {
      const list = JSON.parse(env.storage.getItem(OAUTH_ATTEMPTS_KEY) ?? '[]') as unknown;
      const now = env.now();
      return Array.isArray(list)
        ? list.filter((t): t is number => typeof t === 'number' && now - t < ATTEMPT_WINDOW_MS)
        : [];
    } catch {
      return [];
    }
  }

  function redirectToOAuth(boot: Bootstrap): void {
    const attempts = recentAttempts();
    if (attempts.length >= MAX_ATTEMPTS) {
      throw new ApiError(401, 'session_not_kept', 'OAuth loop: the session cookie is not kept');
    }
    attempts.push(env.now());
    env.storage.setItem(OAUTH_ATTEMPTS_KEY, JSON.stringify(attempts));
    const state = env.randomState();
    env.storage.setItem(OAUTH_STATE_KEY, state);
    env.redirect(buildAuthorizeUrl(boot, cleanPageUrl(env.href()), state));
  }

  async function ensureSession(boot: Bootstrap): Promise<Me | null> {
    const url = new URL(env.href());
    const code = url.searchParams.get('code');
    const state = url.searchParams.get('state');
    const clean = cleanPageUrl(env.href());

    // GET /session answers 200 either way: a cold open logs no 401 in the console.
    const status = await api.sessionStatus();
    if (status.authenticated && status.me) {
      if (code !== null) env.replaceUrl(clean);
      return status.me;
    }
    if (status.reason === 'not_a_manager') {
      if (code !== null) env.replaceUrl(clean);
      throw new ApiError(403, 'not_a_manager', 'not an active customer manager');
    }

    if (code === null) {
      redirectToOAuth(boot);
      return null;
    }

    // Login CSRF: the code must come back with the state this browser tab created.
    const expected = env.storage.getItem(OAUTH_STATE_KEY);
    env.storage.removeItem(OAUTH_STATE_KEY);
    env.replaceUrl(clean);
    if (!expected || state !== expected) {
      throw new ApiError(401, 'oauth_state_mismatch', 'OAuth state does not match this tab');
    }
    // Attempts are not cleared here: if the cookie is dropped, the next 401 must still count.
    return api.createSession(code);
  }

  return { ensureSession, redirectToOAuth };
}
