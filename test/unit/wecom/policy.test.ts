import { AxiosError } from 'axios';
import { WecomApiError } from '../../../server/wecom/errors';
import { AGENT_SECRET, apiCalls, CORP, Harness, harness } from './client-harness';

const expectError = async (p: Promise<unknown>): Promise<WecomApiError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WecomApiError);
    return e as WecomApiError;
  }
  throw new Error('expected a WecomApiError');
};

describe('WeCom errcode policy (client against the sandbox fake)', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('fetches one token per secret and reuses it', async () => {
    h = await harness();
    await h.client.getUser('u1');
    await h.client.getUser('u1');
    await h.client.getFollowUserList();
    await h.client.getFollowUserList();
    expect(h.fake.count('gettoken', 'agent')).toBe(1);
    expect(h.fake.count('gettoken', 'contact')).toBe(1);
    expect(h.sleeps).toEqual([]);
  });

  it('token expired mid-flight (42001): one refresh, one retry, success', async () => {
    h = await harness();
    await h.client.getUser('u1');
    h.fake.expireTokens();
    const u = await h.client.getUser('u1');
    expect(u.userid).toBe('u1');
    expect(h.fake.count('gettoken')).toBe(2);
    expect(h.fake.calls.map((c) => [c.api, c.errcode])).toEqual([
      ['gettoken', 0],
      ['user/get', 0],
      ['user/get', 42001],
      ['gettoken', 0],
      ['user/get', 0],
    ]);
    expect(h.sleeps).toEqual([]);
  });

  it('50 calls in flight when the token expires: one refresh between them, all succeed', async () => {
    h = await harness();
    await h.client.getUser('u1');
    h.fake.expireTokens();
    const users = await Promise.all(Array.from({ length: 50 }, () => h.client.getUser('u1')));
    expect(users.every((u) => u.userid === 'u1')).toBe(true);
    expect(h.fake.count('gettoken')).toBe(2);
    expect(h.fake.calls.filter((c) => c.api === 'user/get' && c.errcode === 0)).toHaveLength(51);
  });

  it('token revoked early (40014): one refresh; a second rejection is not refreshed again', async () => {
    h = await harness();
    await h.client.getUser('u1');
    h.fake.revokeTokens();
    await h.client.getUser('u1');
    expect(h.fake.count('gettoken')).toBe(2);

    h.fake.failNext('user/get', 40014, 2);
    const err = await expectError(h.client.getUser('u1'));
    expect(err.errcode).toBe(40014);
    expect(err.kind).toBe('retryable');
    expect(h.fake.count('user/get')).toBe(3 + 2);
  });

  it('40001 on an API refreshes once; 40001 on gettoken is a permanent config error naming the secret', async () => {
    h = await harness();
    await h.client.getUser('u1');
    h.fake.failNext('user/get', 40001, 1);
    await h.client.getUser('u1');
    expect(h.fake.count('gettoken')).toBe(2);

    const bad = await harness({ agentSecret: 'definitely-not-the-secret' });
    try {
      const err = await expectError(bad.client.getUser('u1'));
      expect(err.api).toBe('gettoken');
      expect(err.kind).toBe('config');
      expect(err.message).toMatch(/Secret/);
      expect(err.message).toMatch(/WECOM_AGENT_SECRET/);
      expect(bad.fake.count('gettoken')).toBe(1); // never hammered: repeated tries get the IP blocked
      expect(bad.sleeps).toEqual([]);
    } finally {
      await bad.close();
    }
  });

  it('40013 (wrong corp id) is a config error telling where to find the 企业ID', async () => {
    h = await harness({ corpId: 'wwsomeoneelse01' });
    const err = await expectError(h.client.getUser('u1'));
    expect(err.errcode).toBe(40013);
    expect(err.kind).toBe('config');
    expect(err.message).toMatch(/企业ID/);
  });

  it('45009 then success: backs off once (with jitter) and succeeds', async () => {
    h = await harness();
    h.fake.failNext('user/get', 45009, 1);
    const u = await h.client.getUser('u1');
    expect(u.userid).toBe('u1');
    expect(h.sleeps).toHaveLength(1);
    // equal jitter: between half and all of the base delay (200 ms); random() = 0.5 → 150
    expect(h.sleeps[0]).toBe(150);
    expect(await apiCalls(h, 'user/get', '45009')).toBe(1);
    expect(await apiCalls(h, 'user/get', '0')).toBe(1);
  });

  it('-1 (busy) is retried a bounded number of times with exponential backoff, then fails retryable', async () => {
    h = await harness();
    h.fake.failNext('user/get', -1, 100);
    const err = await expectError(h.client.getUser('u1'));
    expect(err.errcode).toBe(-1);
    expect(err.kind).toBe('retryable');
    expect(h.fake.count('user/get')).toBe(4); // 1 + 3 retries
    expect(h.sleeps).toEqual([150, 300, 600]);
  });

  it('45033 and HTTP 5xx are retried; success after the fault clears', async () => {
    h = await harness();
    h.fake.failNext('user/get', 45033, 1);
    h.fake.failNext('user/get', 'http500', 1);
    await h.client.getUser('u1');
    expect(h.sleeps).toHaveLength(2);
    expect(await apiCalls(h, 'user/get', 'http_500')).toBe(1);
  });

  it('network errors are retried (bounded) and counted as errcode "network"', async () => {
    let drops = 2;
    h = await harness({
      wrap: (inner) => async (config) => {
        if (drops-- > 0) throw new AxiosError('socket hang up', 'ECONNRESET', config);
        return inner(config);
      },
    });
    // The first exchange is gettoken: both drops hit it, then everything succeeds.
    const u = await h.client.getUser('u1');
    expect(u.userid).toBe('u1');
    expect(await apiCalls(h, 'gettoken', 'network')).toBe(2);
    expect(h.sleeps).toHaveLength(2);

    drops = 100;
    const err = await expectError(h.client.getUser('u1'));
    expect(err.kind).toBe('retryable');
    expect(err.errmsg).toMatch(/ECONNRESET/);
    expect(await apiCalls(h, 'user/get', 'network')).toBe(4);
  });

  it('a create WeCom has no idempotency key for is not retried after an answer that was lost', async () => {
    // The request reached WeCom and made the task; only the answer was lost (a reset after it).
    h = await harness({
      wrap: (inner) => async (config) => {
        const res = await inner(config);
        if (String(config.url).includes('add_msg_template'))
          throw new AxiosError('socket hang up', 'ECONNRESET', config);
        return res;
      },
    });
    const err = await expectError(
      h.client.addMsgTemplate({ chat_type: 'single', sender: 'u1', text: { content: 'x' }, external_userid: ['wm1'] }),
    );
    expect(err.errmsg).toMatch(/ECONNRESET/);
    expect(await apiCalls(h, 'externalcontact/add_msg_template', 'network')).toBe(1);
    expect(h.sleeps).toHaveLength(0);
    // An HTTP 5xx is as uncertain: not retried either; a definite busy errcode still is.
    h.fake.failNext('externalcontact/add_moment_task', 'http500', 1);
    await expectError(h.client.addMomentTask({ text: { content: 'x' }, visible_range: {} }));
    expect(h.fake.count('externalcontact/add_moment_task')).toBe(1);
    h.fake.failNext('externalcontact/add_moment_task', 45033, 1);
    await h.client.addMomentTask({ text: { content: 'x' }, visible_range: {} });
    expect(h.fake.count('externalcontact/add_moment_task')).toBe(3);
  });

  it('60020 is a permanent config error naming 企业可信IP and the IP from errmsg', async () => {
    h = await harness();
    h.fake.failNext(
      'user/get',
      60020,
      1,
      'not allow to access from your ip, hint: [1795000000_12_abc], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=60020',
    );
    const err = await expectError(h.client.getUser('u1'));
    expect(err.kind).toBe('config');
    expect(err.message).toContain('企业可信IP');
    expect(err.message).toContain('203.0.113.7');
    expect(h.fake.count('user/get')).toBe(1);
    expect(h.sleeps).toEqual([]);
    const logged = h.logs.find((l) => l.level === 'error');
    expect(logged?.obj).toMatchObject({ api: 'user/get', errcode: '60020', kind: 'config' });
  });

  it.each([
    [48002, /可调用接口的应用/],
    [48009, /通讯录同步/],
    [50001, /可信域名/],
  ])('%i is a permanent config error with an admin-console hint', async (code, hint) => {
    h = await harness();
    h.fake.failNext('user/get', code, 1);
    const err = await expectError(h.client.getUser('u1'));
    expect(err.kind).toBe('config');
    expect(err.message).toMatch(hint);
    expect(h.fake.count('user/get')).toBe(1);
  });

  it('an unknown errcode is not retried and is logged with the endpoint', async () => {
    h = await harness();
    h.fake.failNext('user/get', 93017, 1);
    const err = await expectError(h.client.getUser('u1'));
    expect(err.kind).toBe('unknown');
    expect(err.errcode).toBe(93017);
    expect(h.fake.count('user/get')).toBe(1);
    expect(h.sleeps).toEqual([]);
    expect(h.logs.find((l) => l.level === 'error')?.obj).toMatchObject({
      endpoint: '/cgi-bin/user/get',
      errcode: '93017',
    });
  });

  it('data and final errcodes surface with their kind, untried again', async () => {
    h = await harness();
    const missing = await expectError(h.client.getUser('nobody'));
    expect([missing.errcode, missing.kind]).toEqual([60111, 'data']);
    h.fake.failNext('externalcontact/send_welcome_msg', 41051, 1);
    const sent = await expectError(h.client.sendWelcomeMsg({ welcome_code: 'x', text: { content: 'hi' } }));
    expect(sent.kind).toBe('final');
    expect(h.fake.count('externalcontact/send_welcome_msg')).toBe(1);
  });

  it('never logs tokens, secrets or tickets', async () => {
    h = await harness();
    await h.client.getUser('u1');
    h.fake.revokeTokens();
    await h.client.getUser('u1');
    const ticket = await h.client.getJsapiTicket();
    h.fake.failNext('user/get', 93017, 1);
    await h.client.getUser('u1').catch(() => undefined);
    const text = JSON.stringify(h.logs);
    const tokens = h.fake.calls.length; // sanity: there were calls
    expect(tokens).toBeGreaterThan(3);
    expect(text).not.toContain(AGENT_SECRET);
    expect(text).not.toContain(ticket);
    expect(text).not.toMatch(/sbxtok_/);
    expect(text).not.toContain(CORP + AGENT_SECRET);
    // …but every call is logged with its api, errcode and duration.
    expect(h.logs.filter((l) => l.level === 'info')).toContainEqual({
      level: 'info',
      obj: { api: 'user/get', errcode: '40014', ms: expect.any(Number) },
      msg: 'wecom api call',
    });
  });

  it('counts every call in the metrics by api and errcode', async () => {
    h = await harness();
    await h.client.getUser('u1');
    h.fake.failNext('user/get', 45009, 1);
    await h.client.getUser('u1');
    expect(await apiCalls(h, 'gettoken', '0')).toBe(1);
    expect(await apiCalls(h, 'user/get', '0')).toBe(2);
    expect(await apiCalls(h, 'user/get', '45009')).toBe(1);
    const d = await h.metrics.apiDuration.get();
    expect(d.values.find((v) => v.metricName?.endsWith('_count') && v.labels.api === 'user/get')?.value).toBe(3);
  });

  it('caches the two JS-SDK tickets separately and fetches each once', async () => {
    h = await harness();
    const [a, b, a2, b2] = await Promise.all([
      h.client.getJsapiTicket(),
      h.client.getAgentTicket(),
      h.client.getJsapiTicket(),
      h.client.getAgentTicket(),
    ]);
    expect(a).toBe(a2);
    expect(b).toBe(b2);
    expect(a).not.toBe(b);
    expect(h.fake.count('get_jsapi_ticket')).toBe(1);
    expect(h.fake.count('ticket/get')).toBe(1);
  });
});
