import { hashPhone } from '../../../server/customers/phone';
import { Allocation, AuditEntry, ContactWay, Customer } from '../../../server/db/entities';
import { entryAllocate } from '../../../server/entry/service';
import { signEntry } from '../../../server/entry/signature';
import type { WecomApi } from '../../../server/wecom/api-types';
import { DB_TARGETS } from '../../helpers/db';
import { HZ_WEST } from '../allocation/seed';
import { type Harness, harness } from '../contacts/harness';

describe.each(DB_TARGETS)('POST /api/entry/allocate on %s', (target) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(target, {
      ENTRY_CLIENTS: 'outbound-calls:outbound-secret-0123456789,h5:h5-secret-0123456789abc',
    });
  });
  afterAll(async () => h.close());

  test('signed request: the engine picks the manager and WeCom gives the QR code for the state', async () => {
    const res = await h.allocate({
      customerId: 'C002',
      lat: HZ_WEST.lat,
      lng: HZ_WEST.lng + 0.001,
      campaign: 'spring',
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      userid: 'wang_hz01',
      managerName: '王经理',
      branchCode: 'HZ01',
      branchName: '杭州西湖支行',
      reason: 'nearest_branch',
      state: `a:${body.allocationId}`,
    });
    expect(body.distanceMeters).toBeGreaterThan(50);
    expect(body.distanceMeters).toBeLessThan(150);
    expect(body.state.length).toBeLessThanOrEqual(30);
    expect(body.qrCode).toMatch(/^http/);
    expect(body.expiresAt - h.clock.now).toBe(h.app.config.entry.allocationTtlHours * 3_600_000);
    expect(h.app.config.entry.allocationTtlHours).toBe(168);

    const way = await h.app.db.manager.findOneByOrFail(ContactWay, { allocationId: body.allocationId });
    expect(way).toMatchObject({ userid: 'wang_hz01', state: body.state, qrCode: body.qrCode });
    const atFake = h.fake.contactWays.get(way.configId);
    expect(atFake).toMatchObject({ type: 1, scene: 2, user: ['wang_hz01'], state: body.state });
    const row = await h.app.db.manager.findOneByOrFail(Allocation, { id: body.allocationId });
    expect(row).toMatchObject({ source: 'entry', status: 'open', campaign: 'spring', customerId: 'C002' });
  });

  test('idempotent: the same customer gets the same open allocation (by id and by phone)', async () => {
    const a = (await h.allocate({ customerId: 'C002' })).json();
    const b = (await h.allocate({ customerId: 'C002', lat: 31.2, lng: 121.5 })).json();
    expect(b.allocationId).toBe(a.allocationId);

    const phone = '13700001234';
    const calls = h.fake.count('externalcontact/add_contact_way');
    const [p1, p2] = await Promise.all([
      h.allocate({ phone, lat: HZ_WEST.lat, lng: HZ_WEST.lng }),
      h.allocate({ phone: `+86 ${phone}`, lat: HZ_WEST.lat, lng: HZ_WEST.lng }),
    ]);
    expect(p1.statusCode).toBe(200);
    expect(p2.json().allocationId).toBe(p1.json().allocationId);
    const p3 = await h.allocate({ phone, lat: HZ_WEST.lat, lng: HZ_WEST.lng });
    expect(p3.json().allocationId).toBe(p1.json().allocationId);
    expect(h.fake.count('externalcontact/add_contact_way')).toBe(calls + 1);

    // The prospect row carries the salted hash only; the number is nowhere in the database.
    const prospect = await h.app.db.manager.findOneByOrFail(Customer, {
      phoneHash: hashPhone(phone, h.app.config.phoneHashSalt),
    });
    expect(prospect.id).toMatch(/^p_/);
    const dump = JSON.stringify([
      await h.app.db.manager.find(Customer),
      await h.app.db.manager.find(Allocation),
      await h.app.db.manager.find(AuditEntry),
    ]);
    expect(dump).not.toContain(phone);
  });

  test('an expired allocation is not reused', async () => {
    const first = (await h.allocate({ customerId: 'C001' })).json();
    h.clock.now += 8 * 24 * 3600 * 1000;
    const second = (await h.allocate({ customerId: 'C001' })).json();
    expect(second.allocationId).not.toBe(first.allocationId);
    expect(second.userid).toBe('zhao_hz02'); // owner
  });

  test('auth: bad signature, stale timestamp, signature over a different body', async () => {
    const raw = JSON.stringify({ customerId: 'C002' });
    const ts = String(Math.floor(h.clock.now / 1000));
    const send = (headers: Record<string, string>, payload = raw) =>
      h.app.inject({
        method: 'POST',
        url: '/api/entry/allocate',
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      });
    const secret = h.app.config.entrySecret;

    let res = await send({ 'x-entry-timestamp': ts, 'x-entry-signature': 'f'.repeat(64) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('bad_entry_signature');

    res = await send({});
    expect(res.json().error.code).toBe('bad_entry_signature');

    // Same JSON, different bytes: the signature is over the raw body.
    res = await send({ 'x-entry-timestamp': ts, 'x-entry-signature': signEntry(secret, ts, raw) }, `${raw} `);
    expect(res.json().error.code).toBe('bad_entry_signature');

    const old = String(Number(ts) - 301);
    res = await send({ 'x-entry-timestamp': old, 'x-entry-signature': signEntry(secret, old, raw) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('stale_entry_timestamp');
  });

  test('bad requests answer 400 with a stable code', async () => {
    for (const body of [
      { lat: 30.1 },
      { lat: 200, lng: 1 },
      { phone: 'abcdefg' },
      { customerId: '' },
      { campaign: 'x'.repeat(31) },
    ]) {
      const res = await h.allocate(body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('bad_request');
    }
  });

  test('nobody within reach → 422 no_manager_available; WeCom failure → 502 wecom_error', async () => {
    const far = await h.allocate({ lat: 43.8, lng: 87.6 });
    expect(far.statusCode).toBe(422);
    expect(far.json().error.code).toBe('no_manager_available');

    h.fake.failNext('externalcontact/add_contact_way', 48002);
    const res = await h.allocate({ customerId: 'C404', lat: HZ_WEST.lat, lng: HZ_WEST.lng });
    expect(res.statusCode).toBe(502);
    expect(res.json().error.code).toBe('wecom_error');
    expect(await h.app.db.manager.countBy(Allocation, { customerId: 'C404' })).toBe(0);
  });

  test('rate limited per authenticated client: 429 rate_limited', async () => {
    const as = (client: string, secret: string, body: object) => {
      const raw = JSON.stringify(body);
      const ts = String(Math.floor(h.clock.now / 1000));
      return h.app.inject({
        method: 'POST',
        url: '/api/entry/allocate',
        headers: {
          'content-type': 'application/json',
          'x-entry-client': client,
          'x-entry-timestamp': ts,
          'x-entry-signature': signEntry(secret, ts, raw),
        },
        payload: raw,
      });
    };
    let limited = 0;
    for (let i = 0; i < 125; i++) {
      // Passes the signature and the schema, then fails in the handler: cheap but counted.
      const res = await as('outbound-calls', 'outbound-secret-0123456789', {
        lat: 30.1,
        lng: 120.1,
        phone: 'abcdefg',
        campaign: `c${i}`,
      });
      if (res.statusCode === 429) {
        limited++;
        expect(res.json().error.code).toBe('rate_limited');
      }
    }
    expect(limited).toBe(5);
    // Another client has its own budget.
    const other = await as('h5', 'h5-secret-0123456789abc', { customerId: 'C002', lat: HZ_WEST.lat, lng: HZ_WEST.lng });
    expect(other.statusCode).toBe(200);
  });

  test('a contact way WeCom keeps after a failed write is logged and audited (contact_way.orphaned)', async () => {
    const { app, fake } = h;
    const warnings: string[] = [];
    let configId = '';
    // A concurrent writer takes the config id first, so our transaction fails after WeCom made the
    // way; WeCom then refuses the clean-up.
    const wecom = new Proxy(app.wecom, {
      get(target, prop) {
        if (prop === 'addContactWay') {
          return async (body: Parameters<WecomApi['addContactWay']>[0]) => {
            const way = await target.addContactWay(body);
            configId = way.config_id;
            await app.db.getRepository(ContactWay).insert({
              configId,
              userid: 'wang_hz01',
              state: 'taken-elsewhere',
              purpose: 'allocation',
              campaign: null,
              qrCode: null,
              allocationId: null,
              createdAt: h.clock.now,
              deletedAt: null,
            });
            return way;
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    fake.failNext('externalcontact/del_contact_way', 60111);
    await expect(
      entryAllocate(
        {
          db: app.db,
          wecom,
          salt: app.config.phoneHashSalt,
          now: () => h.clock.now,
          client: 'test',
          log: { warn: (_o, msg) => warnings.push(msg) },
        },
        { lat: HZ_WEST.lat, lng: HZ_WEST.lng },
      ),
    ).rejects.toThrow();
    expect(configId).not.toBe('');
    expect(warnings).toContain('orphaned contact way could not be deleted at WeCom');
    const audited = await app.db
      .getRepository(AuditEntry)
      .findOneBy({ action: 'contact_way.orphaned', subject: `contact_way:${configId}` });
    expect(audited).not.toBeNull();
  });
});
