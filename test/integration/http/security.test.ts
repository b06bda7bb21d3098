import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { build } from '../../../server/app';
import { InboxEvent } from '../../../server/db/entities';
import { securityHeadersPlugin } from '../../../server/security-headers';
import { sidebarPlugin } from '../../../server/sidebar';
import { qs } from '../../helpers/callback';
import { DB_TARGETS, openFreshDb, testConfig } from '../../helpers/db';
import { useApp } from '../../helpers/fixtures';

/** CSP header → { directive: sources } */
function csp(header: unknown): Record<string, string[]> {
  expect(typeof header).toBe('string');
  return Object.fromEntries(
    String(header)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values]),
  );
}

describe('security headers: the sidebar app (static, SPA fallback, 404) keeps an embeddable CSP', () => {
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sidebar-csp-'));
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = Fastify({ logger: false });
    const config = testConfig('sqlite::memory:', { SIDEBAR_FRAME_ANCESTORS: 'https://wecom.example.cn' });
    app.decorate('config', config);
    app.decorate('db', null as never);
    app.decorate('now', () => Date.now());
    await app.register(securityHeadersPlugin, {
      publicBaseUrl: 'https://cm.bank.example',
      extraFrameAncestors: config.sidebarFrameAncestors,
    });
    await app.register(sidebarPlugin, { staticRoot: dir });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    '/sidebar/',
    '/sidebar',
    '/sidebar/?code=abc&state=s',
    '/sidebar/customer/wmA',
    '/sidebar/assets/index-abc123.js',
  ])(
    '%s: frame-ancestors allows the WeCom web client, scripts only from self, JS-SDK frames, no X-Frame-Options',
    async (url) => {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(200);
      const p = csp(res.headers['content-security-policy']);
      expect(p['frame-ancestors']).toEqual([
        "'self'",
        'https://work.weixin.qq.com',
        'https://*.work.weixin.qq.com',
        'https://wecom.example.cn',
      ]);
      expect(p['script-src']).toEqual(["'self'"]);
      expect(p['connect-src']).toEqual(["'self'"]);
      expect(p['frame-src']).toEqual(['https://login.work.weixin.qq.com', 'https://open.work.weixin.qq.com']);
      expect(p['object-src']).toEqual(["'none'"]);
      expect(res.headers['x-frame-options']).toBeUndefined();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
      expect(res.headers['strict-transport-security']).toBe('max-age=15552000');
    },
  );

  it('a missing asset still answers 404 in our envelope, with headers', async () => {
    const res = await app.inject({ url: '/sidebar/assets/nope.js' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe.each(DB_TARGETS)('security headers and the metrics listener on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let app: FastifyInstance;
  let clock = Date.now();

  const suite = useApp(target, { build: { now: () => clock } });
  beforeAll(() => {
    ({ app, fresh } = suite);
  });

  it('API answers: nosniff, no-referrer, a CSP that allows nothing, no HSTS on an http public URL', async () => {
    for (const url of ['/healthz', '/api/sidebar/session', '/nope']) {
      const res = await app.inject({ url });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      const p = csp(res.headers['content-security-policy']);
      expect(p['default-src']).toEqual(["'none'"]);
      expect(p['frame-ancestors']).toEqual(["'none'"]);
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('the sandbox page keeps working: its own CSP allows its inline script', async () => {
    const res = await app.inject({ url: '/sandbox/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<script>');
    const p = csp(res.headers['content-security-policy']);
    expect(p['script-src']).toContain("'unsafe-inline'");
    expect(p['connect-src']).toEqual(["'self'"]);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).not.toContain('href="/metrics"');
  });

  it('GET /wecom/callback echo stays byte-exact text/plain, with nosniff and no-referrer only', async () => {
    const echo = String(BigInt(`0x${randomBytes(8).toString('hex')}`));
    const sealed = app.callbackCrypto.sealedCallback(echo);
    const res = await app.inject({
      method: 'GET',
      url: `/wecom/callback?${qs({ ...sealed.query, echostr: sealed.encrypt })}`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(Buffer.from(echo, 'utf8'))).toBe(true);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(echo)));
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['content-security-policy']).toBeUndefined();
    // an error answer of the callback route carries them too
    const bad = await app.inject({ method: 'GET', url: '/wecom/callback' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['x-content-type-options']).toBe('nosniff');
  });

  it('/metrics is not on the public port; the metrics listener serves it', async () => {
    const pub = await app.inject({ url: '/metrics' });
    expect(pub.statusCode).toBe(404);
    expect(pub.body).not.toContain('wecom_');
    const res = await app.metricsServer.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('wecom_inbox_depth{status="pending"} 0');
    expect((await app.metricsServer.inject({ url: '/healthz' })).statusCode).toBe(404);
  });

  it('inbox depth is read at most every 5 s, however often Prometheus scrapes', async () => {
    const depth = async () => {
      const body = (await app.metricsServer.inject({ url: '/metrics' })).body;
      return Number(/wecom_inbox_depth\{status="dead"\} (\d+)/.exec(body)?.[1]);
    };
    clock += 60_000;
    expect(await depth()).toBe(0);
    await fresh.ds.getRepository(InboxEvent).insert({
      dedupKey: 'metrics-cache-test',
      receivedAt: clock,
      sentAt: clock,
      msgType: 'event',
      event: 'probe',
      changeType: null,
      payload: '<xml/>',
      status: 'dead',
      attempts: 1,
      nextAttemptAt: clock,
    });
    clock += 4_000;
    expect(await depth()).toBe(0); // cached
    clock += 1_500;
    expect(await depth()).toBe(1);
  });

  it('HSTS only when PUBLIC_BASE_URL is https', async () => {
    const https = await build(testConfig(fresh.url, { PUBLIC_BASE_URL: 'https://cm.bank.example' }), {
      db: fresh.ds,
      worker: false,
    });
    try {
      const res = await https.inject({ url: '/healthz' });
      expect(res.headers['strict-transport-security']).toBe('max-age=15552000');
    } finally {
      await https.close();
    }
  });
});
