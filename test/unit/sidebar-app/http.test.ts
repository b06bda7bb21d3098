import { ApiError, buildQuery, createHttpClient } from '../../../sidebar-app/src/services/http';
import { createSidebarApi } from '../../../sidebar-app/src/services/sidebarApi';
import { scriptedFetch } from './fakes';

describe('sidebar http client', () => {
  it('sends JSON with same-origin credentials and parses JSON answers', async () => {
    const { fetch, calls } = scriptedFetch({ 'POST /api/x': { status: 200, body: { ok: 1 } } });
    const http = createHttpClient({ fetch });
    const res = await http.request<{ ok: number }>('/api/x', { body: { a: 'b' } });
    expect(res).toEqual({ ok: 1 });
    expect(calls[0]).toMatchObject({
      method: 'POST',
      credentials: 'same-origin',
      body: { a: 'b' },
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
  });

  it('turns the error envelope into a typed ApiError', async () => {
    const { fetch } = scriptedFetch({
      'GET /api/x': { status: 404, body: { error: { code: 'customer_not_found', message: 'no such contact' } } },
    });
    const http = createHttpClient({ fetch });
    const err = await http.request('/api/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: 'customer_not_found', message: 'no such contact' });
  });

  it('gives a code even when the body is not the envelope (proxy error page)', async () => {
    const { fetch } = scriptedFetch({ 'GET /api/x': { status: 502, body: '<html>Bad gateway</html>' } });
    const err = await createHttpClient({ fetch })
      .request('/api/x')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: 'http_502' });
  });

  it('maps a failed fetch to a network ApiError with status 0', async () => {
    const { fetch } = scriptedFetch({});
    const err = (await createHttpClient({ fetch })
      .request('/api/nowhere')
      .catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.isNetwork).toBe(true);
    expect(err.code).toBe('network_error');
  });

  it('calls the central 401 handler, except for calls that handle 401 themselves', async () => {
    const body = { error: { code: 'session_expired', message: 'expired' } };
    const { fetch } = scriptedFetch({ 'GET /api/a': { status: 401, body }, 'GET /api/b': { status: 401, body } });
    const http = createHttpClient({ fetch });
    const seen: string[] = [];
    http.onUnauthorized((e) => {
      seen.push(e.code);
      return false;
    });
    await expect(http.request('/api/a')).rejects.toMatchObject({ status: 401 });
    await expect(http.request('/api/b', { allowUnauthorized: true })).rejects.toMatchObject({ status: 401 });
    expect(seen).toEqual(['session_expired']);
  });

  it('a write the 401 handler keeps fails as reauth_pending, with what it saves passed along', async () => {
    const body = { error: { code: 'session_expired', message: 'expired' } };
    const { fetch } = scriptedFetch({ 'POST /api/w': { status: 401, body } });
    const http = createHttpClient({ fetch });
    const kept: unknown[] = [];
    http.onUnauthorized((_e, req) => {
      kept.push(req);
      return true;
    });
    await expect(http.request('/api/w', { body: { a: 1 }, resumable: '跟进记录' })).rejects.toMatchObject({
      status: 401,
      code: 'reauth_pending',
    });
    expect(kept).toEqual([{ path: '/api/w', method: 'POST', body: { a: 1 }, resumable: '跟进记录' }]);
  });

  it('builds query strings, skipping empty values and encoding the rest', () => {
    expect(buildQuery({ q: '理财 产品', stage: 2, x: undefined, y: null, z: '' })).toBe(
      '?q=%E7%90%86%E8%B4%A2%20%E4%BA%A7%E5%93%81&stage=2',
    );
    expect(buildQuery({})).toBe('');
  });
});

describe('sidebar api', () => {
  it('encodes path parameters and sends the documented bodies', async () => {
    const { fetch, calls } = scriptedFetch({
      'POST /api/sidebar/customers/wm%2Fa%23b/tags': { status: 200, body: { corpTags: [] } },
      'POST /api/sidebar/touches': { status: 200, body: { touch: { id: 1 } } },
      'GET /api/sidebar/jssdk-config': { status: 200, body: {} },
    });
    const api = createSidebarApi(createHttpClient({ fetch }));
    await api.updateTags('wm/a#b', ['t1'], ['t2']);
    await api.recordTouch('wm1', 7, 'copy');
    await api.jssdkConfig('https://h.example/sidebar/?x=1');
    expect(calls[0].body).toEqual({ add: ['t1'], remove: ['t2'] });
    expect(calls[1].body).toEqual({
      externalUserId: 'wm1',
      templateId: 7,
      channel: 'copy',
      requestId: expect.any(String),
    });
    // A key per write (the server records a replay once).
    expect((calls[1].body as { requestId: string }).requestId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(calls[2].url).toBe('/api/sidebar/jssdk-config?url=https%3A%2F%2Fh.example%2Fsidebar%2F%3Fx%3D1');
  });
});
