import {
  buildAuthorizeUrl,
  cleanPageUrl,
  OAUTH_STATE_KEY,
  useAuth,
} from '../../../sidebar-app/src/composables/useAuth';
import { createHttpClient } from '../../../sidebar-app/src/services/http';
import { createSidebarApi } from '../../../sidebar-app/src/services/sidebarApi';
import type { Bootstrap } from '../../../sidebar-app/src/services/types';
import { memoryEnv, scriptedFetch } from './fakes';

const boot: Bootstrap = {
  corpId: 'ww1234567890abcdef',
  agentId: '1000002',
  oauthBase: 'https://sb.example/sandbox/oauth/',
  sandbox: true,
};
const me = { userid: 'lilei', name: '李雷', role: 'manager', branchCode: 'B001' };
/** GET /session answers 200 either way (no 401 in the console on a cold open). */
const unauth = { status: 200, body: { authenticated: false, reason: 'unauthenticated' } };
const signedIn = { status: 200, body: { authenticated: true, me } };

function setup(href: string, routes: Parameters<typeof scriptedFetch>[0]) {
  const f = scriptedFetch(routes);
  const m = memoryEnv(href);
  const auth = useAuth(createSidebarApi(createHttpClient({ fetch: f.fetch })), m.env);
  return { ...f, ...m, auth };
}

describe('OAuth URLs', () => {
  it('builds the snsapi_base authorize URL with corp id, agent id, encoded redirect and state', () => {
    expect(buildAuthorizeUrl(boot, 'https://sb.example/sidebar/?a=1', 'S1')).toBe(
      'https://sb.example/sandbox/oauth/connect/oauth2/authorize?appid=ww1234567890abcdef' +
        '&redirect_uri=https%3A%2F%2Fsb.example%2Fsidebar%2F%3Fa%3D1&response_type=code&scope=snsapi_base' +
        '&state=S1&agentid=1000002#wechat_redirect',
    );
  });

  it('strips code, state and the hash but keeps other parameters', () => {
    expect(cleanPageUrl('https://sb.example/sidebar/?code=C&state=S#x')).toBe('https://sb.example/sidebar/');
    expect(cleanPageUrl('https://sb.example/sidebar/?x=1&code=C&state=S')).toBe('https://sb.example/sidebar/?x=1');
  });
});

describe('useAuth.ensureSession', () => {
  it('returns the manager when the cookie session is valid', async () => {
    const t = setup('https://sb.example/sidebar/', { 'GET /api/sidebar/session': signedIn });
    await expect(t.auth.ensureSession(boot)).resolves.toEqual(me);
    expect(t.redirects).toEqual([]);
  });

  it('redirects to OAuth with a fresh state kept in sessionStorage when there is no session', async () => {
    const t = setup('https://sb.example/sidebar/#top', { 'GET /api/sidebar/session': unauth });
    await expect(t.auth.ensureSession(boot)).resolves.toBeNull();
    expect(t.store.get(OAUTH_STATE_KEY)).toBe('state1');
    expect(t.redirects).toEqual([buildAuthorizeUrl(boot, 'https://sb.example/sidebar/', 'state1')]);
  });

  it('exchanges code for a session when state matches, and strips code/state from the URL', async () => {
    const t = setup('https://sb.example/sidebar/?code=CODE1&state=S9', {
      'GET /api/sidebar/session': unauth,
      'POST /api/sidebar/session': { status: 200, body: me },
    });
    t.store.set(OAUTH_STATE_KEY, 'S9');
    await expect(t.auth.ensureSession(boot)).resolves.toEqual(me);
    expect(t.calls.find((c) => c.method === 'POST')?.body).toEqual({ code: 'CODE1' });
    expect(t.replaced).toEqual(['https://sb.example/sidebar/']);
    expect(t.store.has(OAUTH_STATE_KEY)).toBe(false);
  });

  it('refuses a code whose state this tab did not create (login CSRF) without calling /session', async () => {
    const t = setup('https://sb.example/sidebar/?code=EVIL&state=S-other', { 'GET /api/sidebar/session': unauth });
    t.store.set(OAUTH_STATE_KEY, 'S9');
    await expect(t.auth.ensureSession(boot)).rejects.toMatchObject({ code: 'oauth_state_mismatch' });
    expect(t.calls.some((c) => c.method === 'POST')).toBe(false);
    expect(t.replaced).toEqual(['https://sb.example/sidebar/']);
  });

  it('surfaces a reused code (oauth_code_invalid) as an error instead of looping', async () => {
    const t = setup('https://sb.example/sidebar/?code=OLD&state=S9', {
      'GET /api/sidebar/session': unauth,
      'POST /api/sidebar/session': { status: 401, body: { error: { code: 'oauth_code_invalid', message: '40029' } } },
    });
    t.store.set(OAUTH_STATE_KEY, 'S9');
    await expect(t.auth.ensureSession(boot)).rejects.toMatchObject({ status: 401, code: 'oauth_code_invalid' });
    expect(t.redirects).toEqual([]);
  });

  it('keeps an existing session and only cleans the URL when a stale code is present', async () => {
    const t = setup('https://sb.example/sidebar/?code=C&state=S', { 'GET /api/sidebar/session': signedIn });
    await expect(t.auth.ensureSession(boot)).resolves.toEqual(me);
    expect(t.calls.map((c) => c.url)).toEqual(['/api/sidebar/session']);
    expect(t.replaced).toEqual(['https://sb.example/sidebar/']);
  });

  it('stops redirecting after repeated OAuth round trips in a minute (cookie not kept)', () => {
    const t = setup('https://sb.example/sidebar/', {});
    t.auth.redirectToOAuth(boot);
    t.auth.redirectToOAuth(boot);
    t.auth.redirectToOAuth(boot);
    expect(() => t.auth.redirectToOAuth(boot)).toThrow(expect.objectContaining({ code: 'session_not_kept' }));
    expect(t.redirects).toHaveLength(3);
    t.advance(61_000);
    t.auth.redirectToOAuth(boot);
    expect(t.redirects).toHaveLength(4);
  });
});
