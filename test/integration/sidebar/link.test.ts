// Linking a WeCom contact to a bank customer: the manager must prove the customer with their phone
// number (the salted hash the imports store), failures are limited per manager in the database and
// every attempt is audited. A customer of another manager links only to a contact that manager serves.
import type { LightMyRequestResponse } from 'fastify';
import { hashPhone } from '../../../server/customers/phone';
import { DB_TARGETS } from '../../helpers/db';
import { type SidebarTestApp, startSidebarApp, T0 } from './helpers';

/** The phone numbers the seeded customers told the bank (C003 has none on file). */
const PHONES: Record<string, string | null> = {
  C001: '13800000001',
  C002: '13800000002',
  C003: null,
  C004: '13800000004',
  C005: '13800000005',
};
const WRONG = '13999999999';

const LIMIT = 5;
const WINDOW_MS = 15 * 60_000;

type AuditRow = { actor: string; action: string; subject: string; detail: string | null };

describe.each(DB_TARGETS)('sidebar link with proof on %s', (target) => {
  let t: SidebarTestApp;
  const cookies: Record<string, string> = {};
  const link = (ext: string, body: unknown, who: string) =>
    t.post(`/api/sidebar/customers/${ext}/link`, body, cookies[who]);
  const linkedTo = async (ext: string) =>
    (
      (await t.db.query('SELECT customer_id FROM external_contacts WHERE external_userid = ?', [ext])) as {
        customer_id: string | null;
      }[]
    )[0]?.customer_id ?? null;
  const audits = async (actor: string): Promise<AuditRow[]> =>
    t.db.query(
      `SELECT actor, action, subject, detail FROM audit_log
        WHERE actor = ? AND action IN ('sidebar.link', 'sidebar.link_refused') ORDER BY id`,
      [actor],
    );
  const reasons = async (actor: string) =>
    (await audits(actor)).map((a) => (a.action === 'sidebar.link' ? 'linked' : JSON.parse(a.detail ?? '{}').reason));
  const setLink = (ext: string, customerId: string | null) =>
    t.db.query('UPDATE external_contacts SET customer_id = ? WHERE external_userid = ?', [customerId, ext]);

  beforeAll(async () => {
    t = await startSidebarApp(target);
    const salt = t.config.phoneHashSalt;
    for (const [id, phone] of Object.entries(PHONES)) {
      await t.db.query('UPDATE customers SET phone_hash = ? WHERE id = ?', [phone ? hashPhone(phone, salt) : null, id]);
    }
    // Two more: C006 shares C005's phone (a couple on one number), C007 is zhang's and reachable by phone alone.
    const at = T0 - 86_400_000;
    const customer = (id: string, phone: string, owner: string | null) => [
      id,
      '测*',
      hashPhone(phone, salt),
      '代发',
      owner,
      '[]',
      at,
      at,
    ];
    for (const row of [customer('C006', '138 0000 0005', null), customer('C007', '13800000007', 'zhang')]) {
      await t.db.query(
        `INSERT INTO customers (id, masked_name, phone_hash, segment, owner_userid, bank_tags, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        row,
      );
    }
    // wmF: a contact hanmei and zhang both serve; wmG: a second unlinked contact of lilei.
    for (const ext of ['wmF', 'wmG']) {
      await t.db.query(
        `INSERT INTO external_contacts (external_userid, customer_id, unionid, name, type, gender, avatar, matched_by, created_at, updated_at)
         VALUES (?, NULL, NULL, '', 1, 0, NULL, NULL, ?, ?)`,
        [ext, at, at],
      );
    }
    for (const [ext, userid] of [
      ['wmF', 'hanmei'],
      ['wmF', 'zhang'],
      ['wmG', 'lilei'],
    ]) {
      await t.db.query(
        `INSERT INTO follows (external_userid, userid, state, remark, added_at, deleted_at, deleted_by, half)
         VALUES (?, ?, NULL, NULL, ?, NULL, NULL, 0)`,
        [ext, userid, at],
      );
    }
    await loginAll();
  });
  afterAll(async () => t.close());
  /** After the clock moved past a window, sessions of 30 idle minutes would expire: sign everyone in again. */
  const loginAll = async () => {
    for (const u of ['lilei', 'hanmei', 'lead1', 'op1', 'zhang']) cookies[u] = await t.login(u);
  };
  beforeEach(async () => {
    // Each test starts with no failures counted and with the seeded links.
    await t.db.query('DELETE FROM sidebar_link_limits');
    await setLink('wmC', null);
    await setLink('wmF', null);
    await setLink('wmG', null);
  });

  describe('the reported leak', () => {
    it('manager A cannot link his contact to manager C’s customer (403 naming nothing), and the card stays closed', async () => {
      // lilei follows wmC; C002 is zhang’s, and zhang does not serve wmC. lilei even knows the phone.
      const res = await link('wmC', { bankCustomerId: 'C002', phone: PHONES.C002 }, 'lilei');
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({
        error: { code: 'customer_owned_elsewhere', message: expect.any(String) },
      });
      for (const leak of ['zhang', '张伟', 'C002', '高潜', 'B002', '海淀']) expect(res.body).not.toContain(leak);
      expect(await linkedTo('wmC')).toBeNull();
      expect((await t.get('/api/sidebar/customers/wmC', cookies.lilei)).statusCode).toBe(404);
    });

    it('the same by phone alone', async () => {
      const res = await link('wmC', { phone: PHONES.C002 }, 'lilei');
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('customer_owned_elsewhere');
      expect(res.body).not.toContain('C002');
      expect(await linkedTo('wmC')).toBeNull();
    });

    it('the old body (a customer number alone) is refused before anything is looked up', async () => {
      const res = await link('wmC', { bankCustomerId: 'C002' }, 'lilei');
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('bad_request');
      expect(await linkedTo('wmC')).toBeNull();
    });

    it('a customer of another manager links to a contact that manager serves', async () => {
      // hanmei and zhang both follow wmF; C002 is zhang’s.
      const res = await link('wmF', { bankCustomerId: 'C002', phone: PHONES.C002 }, 'hanmei');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ linked: { externalUserId: 'wmF', bankCustomerId: 'C002' } });
      expect(await linkedTo('wmF')).toBe('C002');
    });

    it('a refusal for ownership does not count as a failed guess (the phone was right)', async () => {
      for (let i = 0; i < LIMIT + 2; i++) {
        expect((await link('wmC', { bankCustomerId: 'C002', phone: PHONES.C002 }, 'lilei')).statusCode).toBe(403);
      }
      expect((await link('wmC', { bankCustomerId: 'C005', phone: PHONES.C005 }, 'lilei')).statusCode).toBe(200);
    });
  });

  describe('a mismatch answers exactly like an unknown customer', () => {
    it('unknown number, wrong phone, a phone of another customer and a customer without a phone: one answer', async () => {
      const answers: LightMyRequestResponse[] = [];
      for (const body of [
        { bankCustomerId: 'C404', phone: WRONG },
        { bankCustomerId: 'C404', phone: PHONES.C005 },
        { bankCustomerId: 'C005', phone: WRONG },
        { bankCustomerId: 'C005', phone: PHONES.C001 },
        { bankCustomerId: 'C003', phone: WRONG },
        { bankCustomerId: 'C002', phone: WRONG }, // another manager’s customer: still just "no match"
      ]) {
        answers.push(await link('wmC', body, 'lilei'));
        await t.db.query('DELETE FROM sidebar_link_limits');
      }
      const first = answers[0];
      expect(first.statusCode).toBe(404);
      expect(first.json()).toEqual({ error: { code: 'customer_not_found', message: expect.any(String) } });
      for (const a of answers) {
        expect(a.statusCode).toBe(first.statusCode);
        expect(a.body).toBe(first.body);
        expect(a.headers['content-type']).toBe(first.headers['content-type']);
        expect(a.headers['content-length']).toBe(first.headers['content-length']);
      }
      // Phone alone, unknown: the same answer too.
      const alone = await link('wmC', { phone: WRONG }, 'lilei');
      expect(alone.statusCode).toBe(404);
      expect(alone.body).toBe(first.body);
      expect(await linkedTo('wmC')).toBeNull();
    });

    it('the customer number is matched on the stored id; the linked id is the stored one', async () => {
      const res = await link('wmC', { bankCustomerId: ' C005 '.trim(), phone: '+86 138-0000-0005' }, 'lilei');
      expect(res.statusCode).toBe(200);
      expect(res.json().linked.bankCustomerId).toBe('C005');
    });
  });

  describe('rate limit per manager', () => {
    it(`after ${LIMIT} failures even a correct proof is 429 link_rate_limited, other managers are not affected, and the window ends`, async () => {
      for (let i = 0; i < LIMIT; i++) {
        expect((await link('wmC', { bankCustomerId: 'C005', phone: WRONG }, 'lilei')).statusCode).toBe(404);
      }
      const limited = await link('wmC', { bankCustomerId: 'C005', phone: PHONES.C005 }, 'lilei');
      expect(limited.statusCode).toBe(429);
      expect(limited.json().error).toEqual({
        code: 'link_rate_limited',
        message: expect.any(String),
        details: { retryAfterSeconds: WINDOW_MS / 1000 },
      });
      expect(await linkedTo('wmC')).toBeNull();
      // Phone alone is the same limit.
      expect((await link('wmC', { phone: PHONES.C005 }, 'lilei')).statusCode).toBe(429);

      // hanmei still links (her own count).
      expect((await link('wmF', { bankCustomerId: 'C004', phone: PHONES.C004 }, 'hanmei')).statusCode).toBe(403);
      expect((await link('wmF', { phone: PHONES.C001 }, 'hanmei')).statusCode).toBe(403); // lilei's C001, not hanmei's
      expect((await link('wmF', { bankCustomerId: 'C006', phone: PHONES.C005 }, 'hanmei')).statusCode).toBe(200);

      t.clock.now += WINDOW_MS - 60_000;
      expect((await link('wmC', { bankCustomerId: 'C005', phone: PHONES.C005 }, 'lilei')).statusCode).toBe(429);
      t.clock.now += 60_000;
      expect((await link('wmC', { bankCustomerId: 'C005', phone: PHONES.C005 }, 'lilei')).statusCode).toBe(200);
      await loginAll();
    });

    it('successes do not count: four failures, a success, then a fifth failure is still answered', async () => {
      for (let i = 0; i < LIMIT - 1; i++) {
        expect((await link('wmC', { bankCustomerId: 'C404', phone: WRONG }, 'lilei')).statusCode).toBe(404);
      }
      expect((await link('wmC', { bankCustomerId: 'C005', phone: PHONES.C005 }, 'lilei')).statusCode).toBe(200);
      expect((await link('wmG', { bankCustomerId: 'C404', phone: WRONG }, 'lilei')).statusCode).toBe(404);
      expect((await link('wmG', { bankCustomerId: 'C004', phone: PHONES.C004 }, 'lilei')).statusCode).toBe(429);
    });

    it('a failure after the window starts a new window at one', async () => {
      for (let i = 0; i < LIMIT; i++) await link('wmC', { bankCustomerId: 'C404', phone: WRONG }, 'lilei');
      t.clock.now += WINDOW_MS;
      await loginAll();
      expect((await link('wmC', { bankCustomerId: 'C404', phone: WRONG }, 'lilei')).statusCode).toBe(404);
      const rows = await t.db.query('SELECT userid, window_start, failures FROM sidebar_link_limits');
      expect(
        rows.map((r: { window_start: unknown; failures: unknown }) => [Number(r.window_start), Number(r.failures)]),
      ).toEqual([[t.clock.now, 1]]);
      for (let i = 1; i < LIMIT; i++) {
        expect((await link('wmC', { bankCustomerId: 'C404', phone: WRONG }, 'lilei')).statusCode).toBe(404);
      }
      expect((await link('wmC', { bankCustomerId: 'C404', phone: WRONG }, 'lilei')).statusCode).toBe(429);
    });

    it('a parallel burst cannot pass the limit (the failure is reserved atomically in the database)', async () => {
      const burst = await Promise.all(
        Array.from({ length: 20 }, () => link('wmC', { bankCustomerId: 'C404', phone: WRONG }, 'lilei')),
      );
      const codes = burst.map((r) => r.statusCode).sort();
      expect(codes.filter((c) => c === 404)).toHaveLength(LIMIT);
      expect(codes.filter((c) => c === 429)).toHaveLength(20 - LIMIT);
    });
  });

  describe('audit', () => {
    it('every attempt writes one row with its outcome, and never the phone number or its hash', async () => {
      await t.db.query(`DELETE FROM audit_log WHERE actor = 'lilei'`);
      await link('wmC', { bankCustomerId: 'C404', phone: WRONG }, 'lilei');
      await link('wmC', { phone: PHONES.C005 }, 'lilei'); // C005 and C006 share it
      await link('wmC', { bankCustomerId: 'C002', phone: PHONES.C002 }, 'lilei');
      await link('wmC', { bankCustomerId: 'C005', phone: '12' }, 'lilei');
      await link('wmB', { bankCustomerId: 'C005', phone: PHONES.C005 }, 'lilei'); // not lilei's contact
      await link('wmC', { bankCustomerId: 'C005', phone: PHONES.C005 }, 'lilei');
      expect(await reasons('lilei')).toEqual([
        'no_match',
        'ambiguous',
        'owned_elsewhere',
        'invalid_phone',
        'forbidden_customer',
        'linked',
      ]);
      const rows = await audits('lilei');
      expect(rows.every((r) => r.actor === 'lilei')).toBe(true);
      expect(rows.map((r) => r.subject)).toEqual(['wmC', 'wmC', 'wmC', 'wmC', 'wmB', 'wmC']);
      expect(JSON.parse(rows[0].detail ?? '')).toEqual({
        reason: 'no_match',
        by: 'customer_id_and_phone',
        enteredCustomerId: 'C404',
      });
      expect(JSON.parse(rows[1].detail ?? '')).toEqual({ reason: 'ambiguous', by: 'phone', enteredCustomerId: null });
      expect(JSON.parse(rows[5].detail ?? '')).toEqual({
        customerId: 'C005',
        previous: null,
        by: 'customer_id_and_phone',
      });
      const all = JSON.stringify(await t.db.query('SELECT * FROM audit_log'));
      const details = rows.map((r) => r.detail).join('\n');
      for (const phone of [WRONG, ...Object.values(PHONES)]) {
        if (!phone) continue;
        expect(all).not.toContain(phone);
        expect(all).not.toContain(hashPhone(phone, t.config.phoneHashSalt));
        expect(details).not.toContain(phone.slice(-4));
      }
    });

    it('a rate-limited attempt is audited too', async () => {
      await t.db.query(`DELETE FROM audit_log WHERE actor = 'lilei'`);
      for (let i = 0; i <= LIMIT; i++) await link('wmC', { bankCustomerId: 'C404', phone: WRONG }, 'lilei');
      expect(await reasons('lilei')).toEqual([...Array(LIMIT).fill('no_match'), 'rate_limited']);
    });
  });

  describe('phone alone', () => {
    it('finds the one customer with this phone and links it', async () => {
      const res = await link('wmC', { phone: '+86 138 0000 0004' }, 'lilei');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ linked: { externalUserId: 'wmC', bankCustomerId: 'C004' } });
      expect(await linkedTo('wmC')).toBe('C004');
      const card = await t.get('/api/sidebar/customers/wmC', cookies.lilei);
      expect(card.statusCode).toBe(200);
      expect(card.json().customer).toMatchObject({ bankCustomerId: 'C004', name: '周*' });
    });

    it('a phone shared by several customers is 409 customer_ambiguous, naming none of them', async () => {
      const res = await link('wmC', { phone: PHONES.C005 }, 'lilei');
      expect(res.statusCode).toBe(409);
      expect(res.json()).toEqual({ error: { code: 'customer_ambiguous', message: expect.any(String) } });
      for (const leak of ['C005', 'C006', '吴', '测']) expect(res.body).not.toContain(leak);
      expect(await linkedTo('wmC')).toBeNull();
      // With the number the same phone links.
      expect((await link('wmC', { bankCustomerId: 'C006', phone: PHONES.C005 }, 'lilei')).statusCode).toBe(200);
      expect(await linkedTo('wmC')).toBe('C006');
    });
  });

  describe('success path', () => {
    it('links a followed contact with customer number and phone; the card then loads; audited', async () => {
      expect((await t.get('/api/sidebar/customers/wmC', cookies.lilei)).statusCode).toBe(404);
      const res = await link('wmC', { bankCustomerId: 'C005', phone: PHONES.C005 }, 'lilei');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ linked: { externalUserId: 'wmC', bankCustomerId: 'C005' } });
      const cardRes = await t.get('/api/sidebar/customers/wmC', cookies.lilei);
      expect(cardRes.statusCode).toBe(200);
      expect(cardRes.json().customer).toMatchObject({ name: '吴*', bankCustomerId: 'C005', segment: '代发' });
      const [row] = await t.db.query(
        `SELECT customer_id, matched_by FROM external_contacts WHERE external_userid = 'wmC'`,
      );
      expect(row).toEqual({ customer_id: 'C005', matched_by: 'manual' });
    });

    it('the owner of a contact’s customer may relink it to another customer of their own', async () => {
      // lilei owns C004 and owns (via C004) wmE, which only hanmei follows: lilei may relink it to C001 (his own).
      const res = await link('wmE', { bankCustomerId: 'C001', phone: PHONES.C001 }, 'lilei');
      expect(res.statusCode).toBe(200);
      await setLink('wmE', 'C004');
    });

    it('a branch lead links a contact of the branch to a customer its follower owns', async () => {
      // lead1 sees wmG through lilei (B001); C004 is lilei’s and lilei follows wmG.
      const res = await link('wmG', { phone: PHONES.C004 }, 'lead1');
      expect(res.statusCode).toBe(200);
      expect(await linkedTo('wmG')).toBe('C004');
    });
  });

  describe('input and access', () => {
    it.each([
      ['no phone', { bankCustomerId: 'C005' }, 'bad_request'],
      ['an empty customer number', { bankCustomerId: '', phone: PHONES.C005 }, 'bad_request'],
      ['a customer number with spaces', { bankCustomerId: 'C0 05', phone: PHONES.C005 }, 'bad_request'],
      ['too short a phone', { phone: '12345' }, 'invalid_phone'],
      ['letters in the phone', { phone: '1380000abcd' }, 'invalid_phone'],
      ['too long a phone', { phone: '1'.repeat(20) }, 'invalid_phone'],
    ])('refuses %s with 400 and counts no failure', async (_label, body, code) => {
      const res = await link('wmC', body, 'lilei');
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe(code);
      expect(await t.db.query('SELECT * FROM sidebar_link_limits')).toEqual([]);
    });

    it('refuses a manager who does not follow the contact, operators, and requests without a session', async () => {
      expect((await link('wmC', { bankCustomerId: 'C005', phone: PHONES.C005 }, 'zhang')).statusCode).toBe(403);
      expect((await link('wmC', { bankCustomerId: 'C005', phone: PHONES.C005 }, 'op1')).statusCode).toBe(403);
      const anon = await t.post('/api/sidebar/customers/wmC/link', { bankCustomerId: 'C005', phone: PHONES.C005 });
      expect(anon.statusCode).toBe(401);
      expect(await linkedTo('wmC')).toBeNull();
    });
  });
});
