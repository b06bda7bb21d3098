import { ConfigError, loadConfig } from '../../../server/config';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => p.variable);
  }
  return [];
};

const PROD = {
  WECOM_CORP_ID: 'ww5f3a9c1e7b2d4806',
  WECOM_CALLBACK_TOKEN: 'Qm8bKsYcT4wNv2Lr',
  WECOM_CALLBACK_AES_KEY: 'bAnK7cRm9QxW2eTz5yHu8jPk3LnV6sDf4gJa1oIq0Zd',
  WECOM_AGENT_ID: '1000002',
  WECOM_AGENT_SECRET: 'agent-secret-0123456789',
  SESSION_SECRET: 's'.repeat(32),
  ENTRY_SECRET: 'e'.repeat(32),
  PHONE_HASH_SALT: 'p'.repeat(32),
  SECRETS_KEY: 'd'.repeat(64),
  PUBLIC_BASE_URL: 'https://cm.bank.example',
  DATABASE_URL: 'mysql://app:pw@db.internal:3306/wecom',
};

describe('config', () => {
  it('defaults to the embedded demo: SQLite file, sandbox on, port 3000', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.database).toMatchObject({ kind: 'sqlite', sqlitePath: './data/wecom.sqlite' });
    expect(c.wecom.sandbox).toBe(true);
    expect(c.wecom.apiBase).toBe('http://localhost:3000/sandbox/api');
    expect(c.wecom.aesKey).toHaveLength(43);
    expect(c.demoData).toBe(true);
  });

  it('production settings turn the sandbox off and keep the public API host by default', () => {
    const c = loadConfig(PROD);
    expect(c.wecom.sandbox).toBe(false);
    expect(c.wecom.apiBase).toBe('https://qyapi.weixin.qq.com');
    expect(c.wecom.contactSecret).toBe(PROD.WECOM_AGENT_SECRET);
    expect(c.database.kind).toBe('mysql');
    expect(c.demoData).toBe(false);
  });

  it('the sidebar link limit: 5 failures per 15 minutes unless set; a bad value names its variable', () => {
    expect(loadConfig({}).sidebarLink).toEqual({ maxFailures: 5, windowMs: 15 * 60_000 });
    expect(loadConfig({ SIDEBAR_LINK_MAX_FAILURES: '3', SIDEBAR_LINK_WINDOW_MINUTES: '60' }).sidebarLink).toEqual({
      maxFailures: 3,
      windowMs: 3_600_000,
    });
    expect(problems({ SIDEBAR_LINK_MAX_FAILURES: '0', SIDEBAR_LINK_WINDOW_MINUTES: 'soon' }).sort()).toEqual([
      'SIDEBAR_LINK_MAX_FAILURES',
      'SIDEBAR_LINK_WINDOW_MINUTES',
    ]);
  });

  it('names the variable of an AES key that does not decode to 32 bytes', () => {
    expect(problems({ ...PROD, WECOM_CALLBACK_AES_KEY: 'tooShort' })).toEqual(['WECOM_CALLBACK_AES_KEY']);
    expect(problems({ ...PROD, WECOM_CALLBACK_AES_KEY: `${'a'.repeat(42)}!` })).toEqual(['WECOM_CALLBACK_AES_KEY']);
  });

  it('names every malformed or missing variable', () => {
    expect(problems({ PORT: 'eighty', DATABASE_URL: 'postgres://x', LOG_LEVEL: 'loud' }).sort()).toEqual(
      ['DATABASE_URL', 'LOG_LEVEL', 'PORT'].sort(),
    );
    const missing = problems({ WECOM_CORP_ID: 'ww5f3a9c1e7b2d4806' });
    expect(missing).toEqual(
      expect.arrayContaining(['WECOM_CALLBACK_TOKEN', 'WECOM_CALLBACK_AES_KEY', 'WECOM_AGENT_SECRET']),
    );
  });

  it('SECRETS_KEY is required in production, checked for 32 bytes, and fixed in the sandbox', () => {
    expect(loadConfig(PROD).secretsKey).toEqual(Buffer.from('d'.repeat(64), 'hex'));
    const { SECRETS_KEY: _k, ...noKey } = PROD;
    expect(problems(noKey)).toEqual(['SECRETS_KEY']);
    expect(problems({ ...PROD, SECRETS_KEY: 'too-short' })).toEqual(['SECRETS_KEY']);
    // Two sandbox processes on one database must read each other's rows.
    expect(loadConfig({}).secretsKey).toEqual(loadConfig({}).secretsKey);
    expect(loadConfig({}).secretsKey).toHaveLength(32);
  });

  it('metrics listener: loopback 9464 by default, off, 0 = any free port; bad values name the variable', () => {
    expect(loadConfig({}).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(loadConfig({ METRICS_PORT: 'OFF' }).metrics.port).toBeNull();
    expect(loadConfig({ METRICS_PORT: '0', METRICS_HOST: '10.0.0.5' }).metrics).toEqual({ port: 0, host: '10.0.0.5' });
    expect(problems({ METRICS_PORT: '70000' })).toEqual(['METRICS_PORT']);
    expect(problems({ METRICS_PORT: 'public' })).toEqual(['METRICS_PORT']);
  });

  it('SIDEBAR_FRAME_ANCESTORS takes https origins only', () => {
    expect(
      loadConfig({ SIDEBAR_FRAME_ANCESTORS: 'https://a.example.cn, https://*.b.example.cn' }).sidebarFrameAncestors,
    ).toEqual(['https://a.example.cn', 'https://*.b.example.cn']);
    expect(loadConfig({}).sidebarFrameAncestors).toEqual([]);
    expect(problems({ SIDEBAR_FRAME_ANCESTORS: 'http://a.example.cn' })).toEqual(['SIDEBAR_FRAME_ANCESTORS']);
    expect(problems({ SIDEBAR_FRAME_ANCESTORS: "https://a.example.cn 'unsafe-inline'" })).toEqual([
      'SIDEBAR_FRAME_ANCESTORS',
    ]);
  });

  it('SANDBOX_SERVER_URL: absent by default, an http(s) URL or off in the sandbox, ignored outside it', () => {
    expect(loadConfig({}).sandboxServerUrl).toBeUndefined();
    expect(loadConfig({ SANDBOX_SERVER_URL: 'http://127.0.0.1:3100/' }).sandboxServerUrl).toBe('http://127.0.0.1:3100');
    expect(loadConfig({ SANDBOX_SERVER_URL: 'OFF' }).sandboxServerUrl).toBeNull();
    expect(loadConfig({ ...PROD, SANDBOX_SERVER_URL: 'http://127.0.0.1:3100' }).sandboxServerUrl).toBeUndefined();
    expect(problems({ SANDBOX_SERVER_URL: 'localhost:3000' })).toEqual(['SANDBOX_SERVER_URL']);
    expect(problems({ SANDBOX_SERVER_URL: 'ftp://127.0.0.1' })).toEqual(['SANDBOX_SERVER_URL']);
  });

  it('refuses the sandbox together with real credentials', () => {
    expect(problems({ ...PROD, WECOM_SANDBOX: 'true' })).toContain('WECOM_SANDBOX');
  });

  it('accepts the non-canonical keys WeCom issues', () => {
    expect(
      loadConfig({ ...PROD, WECOM_CALLBACK_AES_KEY: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C' }).wecom.aesKey,
    ).toHaveLength(43);
  });
  it('ENTRY_CLIENTS gives each caller its own key; ENTRY_SECRET stays the default client', () => {
    const c = loadConfig({ ...PROD, ENTRY_CLIENTS: ' h5:h5-secret-0123456789abc , outbound:ob-secret-0123456789abc ' });
    expect(c.entry.clients).toEqual({
      default: PROD.ENTRY_SECRET,
      h5: 'h5-secret-0123456789abc',
      outbound: 'ob-secret-0123456789abc',
    });
    // Production without ENTRY_SECRET: only the named clients exist.
    const { ENTRY_SECRET: _unused, ...noDefault } = PROD;
    expect(
      Object.keys(loadConfig({ ...noDefault, ENTRY_CLIENTS: 'h5:h5-secret-0123456789abc' }).entry.clients),
    ).toEqual(['h5']);
    expect(problems(noDefault)).toEqual(['ENTRY_SECRET']);
    for (const bad of [
      'h5',
      'h5:short',
      'bad name:h5-secret-0123456789abc',
      'a:h5-secret-0123456789abc,a:h5-secret-0123456789abd',
    ]) {
      expect(problems({ ...PROD, ENTRY_CLIENTS: bad })).toEqual(['ENTRY_CLIENTS']);
    }
    expect(problems({ ...PROD, ENTRY_CLIENTS: 'default:h5-secret-0123456789abc' })).toEqual(['ENTRY_CLIENTS']);
  });

  it('TRUST_PROXY is off by default; true, a hop count or proxy addresses / CIDRs when set', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'off' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,::1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      '::1',
    ]);
    for (const bad of ['10.0.0.0/33', 'proxy.internal', '10.0.0.1,', '1.2.3']) {
      expect(problems({ TRUST_PROXY: bad })).toEqual(['TRUST_PROXY']);
    }
  });
});
