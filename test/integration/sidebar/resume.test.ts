import { signSession } from '../../../server/sidebar/session';
import { DB_TARGETS } from '../../helpers/db';
import { SECRET, type SidebarTestApp, startSidebarApp } from './helpers';

/**
 * Issue 13, no lost work: the boot check answers 200 (no 401 in the console), a write replayed
 * after re-authentication records once (request key), and a refusal names who serves the customer.
 */
describe.each(DB_TARGETS)('sidebar session check and replayed writes on %s', (target) => {
  let t: SidebarTestApp;
  const cookies: Record<string, string> = {};
  beforeAll(async () => {
    t = await startSidebarApp(target);
    for (const u of ['lilei', 'hanmei', 'zhang']) cookies[u] = await t.login(u);
  });
  afterAll(async () => t.close());

  it('GET /session answers 200 with or without a live session, naming the manager only when signed in', async () => {
    const none = await t.get('/api/sidebar/session');
    expect([none.statusCode, none.json()]).toEqual([200, { authenticated: false, reason: 'unauthenticated' }]);
    const expired = `sb_session=${signSession(
      { userid: 'lilei', role: 'manager', branchCode: 'B001', exp: t.clock.now - 1 },
      SECRET,
    )}`;
    expect((await t.get('/api/sidebar/session', expired)).json()).toEqual({
      authenticated: false,
      reason: 'session_expired',
    });
    expect((await t.get('/api/sidebar/session', 'sb_session=forged.value')).json()).toMatchObject({
      authenticated: false,
    });
    const ok = await t.get('/api/sidebar/session', cookies.lilei);
    expect([ok.statusCode, ok.json()]).toEqual([
      200,
      { authenticated: true, me: { userid: 'lilei', name: '李雷', role: 'manager', branchCode: 'B001' } },
    ]);
    const gone = `sb_session=${signSession(
      { userid: 'gone', role: 'manager', branchCode: 'B001', exp: t.clock.now + 60_000 },
      SECRET,
    )}`;
    expect((await t.get('/api/sidebar/session', gone)).json()).toEqual({
      authenticated: false,
      reason: 'not_a_manager',
    });
  });

  it('a touch sent twice with one requestId is recorded once and answers the same touch', async () => {
    const [tpl] = await t.db.query(`SELECT id FROM script_templates WHERE title = '通用问候'`);
    const body = { externalUserId: 'wmA', templateId: Number(tpl.id), channel: 'send', requestId: 'req-touch-0001' };
    const before = await t.db.query('SELECT COUNT(*) AS n FROM touches WHERE external_userid = ?', ['wmA']);
    const first = await t.post('/api/sidebar/touches', body, cookies.lilei);
    t.clock.now += 5_000;
    const again = await t.post('/api/sidebar/touches', body, cookies.lilei);
    expect([first.statusCode, again.statusCode]).toEqual([200, 200]);
    expect(again.json()).toEqual(first.json());
    const after = await t.db.query('SELECT COUNT(*) AS n FROM touches WHERE external_userid = ?', ['wmA']);
    expect(Number(after[0].n)).toBe(Number(before[0].n) + 1);
    // Both at once (two tabs, two instances): still one row.
    const race = { ...body, requestId: 'req-touch-0002' };
    const [a, b] = await Promise.all([
      t.post('/api/sidebar/touches', race, cookies.lilei),
      t.post('/api/sidebar/touches', race, cookies.lilei),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(a.json().touch.id).toBe(b.json().touch.id);
    const rows = await t.db.query('SELECT COUNT(*) AS n FROM touches WHERE request_key = ?', ['req-touch-0002']);
    expect(Number(rows[0].n)).toBe(1);
    // A key is the manager's own: another customer under the same key is refused, nothing written.
    const other = await t.post('/api/sidebar/touches', { ...body, externalUserId: 'wmC' }, cookies.lilei);
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe('request_id_reused');
    const bad = await t.post('/api/sidebar/touches', { ...body, requestId: 'short' }, cookies.lilei);
    expect(bad.statusCode).toBe(400);
  });

  it('a note sent twice with one requestId is written once', async () => {
    const body = { kind: 'call', text: '电话约了下周面谈', requestId: 'req-note-0001' };
    const first = await t.post('/api/sidebar/customers/wmA/notes', body, cookies.lilei);
    const again = await t.post('/api/sidebar/customers/wmA/notes', body, cookies.lilei);
    expect([first.statusCode, again.statusCode]).toEqual([200, 200]);
    expect(again.json().note.id).toBe(first.json().note.id);
    const rows = await t.db.query('SELECT COUNT(*) AS n FROM follow_notes WHERE request_key = ?', ['req-note-0001']);
    expect(Number(rows[0].n)).toBe(1);
    const audit = await t.db.query(`SELECT COUNT(*) AS n FROM audit_log WHERE action = 'sidebar.note'`);
    expect(Number(audit[0].n)).toBe(1);
  });

  it('您无权查看该客户 comes with the names of who serves the customer, never their ids', async () => {
    const res = await t.get('/api/sidebar/customers/wmB', cookies.lilei);
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'forbidden_customer', details: { servedBy: ['张伟'] } });
    expect(res.body).not.toContain('zhang');
  });
});
