import { createHash } from 'node:crypto';
import { SESSION_TTL_MS, signSession } from '../../../server/sidebar/session';
import { DB_TARGETS } from '../../helpers/db';
import { PUBLIC, SECRET, type SidebarTestApp, sessionCookieOf, startSidebarApp } from './helpers';

describe.each(DB_TARGETS)('sidebar session and JS-SDK config on %s', (target) => {
  let t: SidebarTestApp;
  beforeAll(async () => {
    t = await startSidebarApp(target);
  });
  afterAll(async () => t.close());

  it('GET /bootstrap needs no session and gives corp id, agent id, OAuth base and sandbox flag', async () => {
    const res = await t.get('/api/sidebar/bootstrap');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      corpId: t.config.wecom.corpId,
      agentId: t.config.wecom.agentId,
      oauthBase: `${PUBLIC}/sandbox/oauth`,
      sandbox: true,
    });
  });

  it('POST /session exchanges a code for a signed HttpOnly cookie (SameSite=None; Secure on https)', async () => {
    const res = await t.post('/api/sidebar/session', { code: t.far.issueCode('lilei') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userid: 'lilei', name: '李雷', role: 'manager', branchCode: 'B001' });
    const cookie = sessionCookieOf(res);
    expect(cookie).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'None',
      path: '/api/sidebar',
      maxAge: 1800,
    });
    const me = await t.get('/api/sidebar/me', `sb_session=${cookie?.value}`);
    expect(me.statusCode).toBe(200);
    expect(me.json().userid).toBe('lilei');
  });

  it('an OAuth code works once', async () => {
    const code = t.far.issueCode('lilei');
    expect((await t.post('/api/sidebar/session', { code })).statusCode).toBe(200);
    const again = await t.post('/api/sidebar/session', { code });
    expect(again.statusCode).toBe(401);
    expect(again.json()).toEqual({ error: { code: 'oauth_code_invalid', message: expect.any(String) } });
    expect(sessionCookieOf(again)).toBeUndefined();
  });

  it('a code WeCom does not know (40029) is oauth_code_invalid', async () => {
    const res = await t.post('/api/sidebar/session', { code: 'never-issued' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('oauth_code_invalid');
  });

  it.each([
    ['a corp member who is not a manager', 'nobody'],
    ['a resigned manager', 'gone'],
  ])('%s gets 403 not_a_manager', async (_label, userid) => {
    const res = await t.post('/api/sidebar/session', { code: t.far.issueCode(userid) });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('not_a_manager');
  });

  it('refuses writes from another site (Origin), accepts our own origin and requests without Origin', async () => {
    const cookie = await t.login('lilei');
    const [tpl] = await t.db.query(`SELECT id FROM script_templates WHERE title = '通用问候'`);
    const post = (origin?: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/sidebar/touches',
        payload: { externalUserId: 'wmA', templateId: Number(tpl.id), channel: 'copy' },
        headers: { cookie, ...(origin ? { origin } : {}) },
      });
    const evil = await post('https://evil.example');
    expect([evil.statusCode, evil.json().error.code]).toEqual([403, 'bad_origin']);
    expect((await post(PUBLIC)).statusCode).toBe(200);
    expect((await post()).statusCode).toBe(200);
    const session = await t.app.inject({
      method: 'POST',
      url: '/api/sidebar/session',
      payload: { code: t.far.issueCode('lilei') },
      headers: { origin: 'https://evil.example' },
    });
    expect(session.statusCode).toBe(403);
  });

  it('a body without code is 400 bad_request in the error envelope', async () => {
    const res = await t.post('/api/sidebar/session', {});
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('bad_request');
  });

  it('no cookie, a forged cookie and an expired cookie get distinct 401 codes', async () => {
    const none = await t.get('/api/sidebar/me');
    expect([none.statusCode, none.json().error.code]).toEqual([401, 'unauthenticated']);

    const forged = signSession(
      { userid: 'lilei', role: 'manager', branchCode: 'B001', exp: t.clock.now + 60_000 },
      'wrong-secret-wrong-secret-wrong!!',
    );
    const f = await t.get('/api/sidebar/me', `sb_session=${forged}`);
    expect([f.statusCode, f.json().error.code]).toEqual([401, 'session_invalid']);

    const valid = signSession(
      { userid: 'lilei', role: 'manager', branchCode: 'B001', exp: t.clock.now + 60_000 },
      SECRET,
    );
    const tampered = valid.replace(
      /^[^.]+/,
      Buffer.from(
        JSON.stringify({ userid: 'lead1', role: 'branch_lead', branchCode: 'B001', exp: t.clock.now + 60_000 }),
      ).toString('base64url'),
    );
    const tp = await t.get('/api/sidebar/me', `sb_session=${tampered}`);
    expect([tp.statusCode, tp.json().error.code]).toEqual([401, 'session_invalid']);

    const garbage = await t.get('/api/sidebar/me', 'sb_session=not-a-token');
    expect(garbage.json().error.code).toBe('session_invalid');

    const expired = signSession({ userid: 'lilei', role: 'manager', branchCode: 'B001', exp: t.clock.now - 1 }, SECRET);
    const e = await t.get('/api/sidebar/me', `sb_session=${expired}`);
    expect([e.statusCode, e.json().error.code]).toEqual([401, 'session_expired']);
  });

  it('the session slides: used within 30 min it is re-issued, idle for 30 min it expires', async () => {
    const start = t.clock.now;
    try {
      const cookie = await t.login('lilei');
      t.clock.now += 20 * 60_000;
      const used = await t.get('/api/sidebar/me', cookie);
      expect(used.statusCode).toBe(200);
      const renewed = sessionCookieOf(used);
      expect(renewed).toBeDefined();
      t.clock.now += 20 * 60_000; // 40 min after login, 20 min after the last use
      const stillIn = await t.get('/api/sidebar/me', `sb_session=${renewed?.value}`);
      expect(stillIn.statusCode).toBe(200);
      expect((await t.get('/api/sidebar/me', cookie)).json().error.code).toBe('session_expired');
      t.clock.now += SESSION_TTL_MS;
      expect((await t.get('/api/sidebar/me', `sb_session=${renewed?.value}`)).json().error.code).toBe(
        'session_expired',
      );
    } finally {
      t.clock.now = start;
    }
  });

  it('a manager who resigns mid-session loses access at once (403 not_a_manager)', async () => {
    const cookie = await t.login('hanmei');
    await t.db.query(`UPDATE managers SET status = 'resigned' WHERE userid = 'hanmei'`);
    try {
      const res = await t.get('/api/sidebar/me', cookie);
      expect([res.statusCode, res.json().error.code]).toEqual([403, 'not_a_manager']);
    } finally {
      await t.db.query(`UPDATE managers SET status = 'active' WHERE userid = 'hanmei'`);
    }
  });

  describe('GET /jssdk-config', () => {
    const page = `${PUBLIC}/sidebar/?from=%E5%BE%AE%E4%BF%A1&x=1`;
    const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

    it('signs the page URL with the corp ticket and the agent ticket, and never returns a ticket', async () => {
      const cookie = await t.login('lilei');
      const [corpTicket, agentTicket] = await t.far.tickets();
      expect(corpTicket).not.toBe(agentTicket);
      const res = await t.get(`/api/sidebar/jssdk-config?url=${encodeURIComponent(page)}`, cookie);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.corpId).toBe(t.config.wecom.corpId);
      expect(body.agentId).toBe(t.config.wecom.agentId);
      for (const [part, ticket] of [
        ['corp', corpTicket],
        ['agent', agentTicket],
      ] as const) {
        const s = body[part];
        expect(s.timestamp).toBe(Math.floor(t.clock.now / 1000));
        expect(s.nonceStr).toMatch(/^[A-Za-z0-9_-]{8,}$/);
        expect(s.signature).toBe(
          sha1(`jsapi_ticket=${ticket}&noncestr=${s.nonceStr}&timestamp=${s.timestamp}&url=${page}`),
        );
      }
      expect(res.body).not.toContain(corpTicket);
      expect(res.body).not.toContain(agentTicket);
    });

    it.each([
      ['a #fragment', `${PUBLIC}/sidebar/#/card`, 'url_has_fragment'],
      ['another origin', 'https://evil.example/sidebar/', 'url_foreign_origin'],
      ['another port', `${PUBLIC}:8443/sidebar/`, 'url_foreign_origin'],
      ['a relative URL', '/sidebar/', 'url_not_absolute'],
      ['an upper-case scheme', `${PUBLIC.replace('https', 'HTTPS')}/sidebar/`, 'url_not_canonical'],
      ['userinfo', `${PUBLIC.replace('https://', 'https://user:pass@')}/sidebar/`, 'url_not_canonical'],
      ['the default port written out', `${PUBLIC}:443/sidebar/`, 'url_not_canonical'],
    ])('rejects a URL with %s (400 with its code, no signature)', async (_label, url, code) => {
      const cookie = await t.login('lilei');
      const res = await t.get(`/api/sidebar/jssdk-config?url=${encodeURIComponent(url)}`, cookie);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe(code);
      expect(res.body).not.toContain('signature');
    });

    it('needs a session', async () => {
      const res = await t.get(`/api/sidebar/jssdk-config?url=${encodeURIComponent(page)}`);
      expect(res.statusCode).toBe(401);
    });
  });
});

describe('sidebar cookie on a plain-http deployment', () => {
  let t: SidebarTestApp;
  beforeAll(async () => {
    t = await startSidebarApp('sqlite', { PUBLIC_BASE_URL: 'http://localhost:3000' });
  });
  afterAll(async () => t.close());

  it('uses SameSite=Lax without Secure', async () => {
    const res = await t.post('/api/sidebar/session', { code: t.far.issueCode('lilei') });
    const cookie = sessionCookieOf(res);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(cookie?.secure).toBeFalsy();
  });
});
