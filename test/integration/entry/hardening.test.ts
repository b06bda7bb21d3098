import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { DataSource } from 'typeorm';
import { expireOpenAllocations, invalidateAllocationCache } from '../../../server/allocation/service';
import { build } from '../../../server/app';
import { openDatabase } from '../../../server/db/data-source';
import { Allocation, AuditEntry, ContactWay, EntryRequestRow, Manager } from '../../../server/db/entities';
import { signEntry } from '../../../server/entry/signature';
import { DB_TARGETS, type DbTarget, openFreshDb, testConfig } from '../../helpers/db';
import { HZ_WEST, seedOrg, seedWelcomeTemplate } from '../allocation/seed';
import { SANDBOX_MEMBERS } from '../contacts/harness';

/**
 * Issue 10 item 2: the entry API under replay, header rotation, concurrent bursts and two app
 * instances on one database. Each "instance" is its own copy of the server modules with its own
 * build() and DataSource (own engine cache, own in-process single flight, own sandbox WeCom), as
 * two servers would be.
 */

const H5_SECRET = 'h5-secret-0123456789abcdef';
const OUTBOUND_SECRET = 'outbound-secret-0123456789ab';
const ENV = { ENTRY_CLIENTS: `h5:${H5_SECRET},outbound:${OUTBOUND_SECRET}` };

interface Cluster {
  apps: FastifyInstance[];
  dbs: DataSource[];
  clock: { now: number };
  close(): Promise<void>;
}

async function cluster(target: DbTarget, instances: number, env: Record<string, string> = {}): Promise<Cluster> {
  const fresh = await openFreshDb(target);
  const clock = { now: Date.now() };
  await seedOrg(fresh.ds, clock.now);
  await seedWelcomeTemplate(fresh.ds, clock.now);
  const dbs = [fresh.ds];
  const apps: FastifyInstance[] = [];
  for (let i = 0; i < instances; i++) {
    // Every further instance is a separate copy of the server's modules (its own registry), so
    // nothing in process memory (single-flight maps, engine caches) is shared, as with two servers.
    let server = { build, openDatabase };
    if (i > 0) {
      jest.isolateModules(() => {
        server = {
          build: require('../../../server/app').build,
          openDatabase: require('../../../server/db/data-source').openDatabase,
        };
      });
      dbs.push(await server.openDatabase({ url: fresh.url }));
    }
    const db = dbs[i];
    const app = await server.build(testConfig(fresh.url, { ...ENV, ...env }), {
      db,
      now: () => clock.now,
      worker: false,
    });
    await app.ready();
    app.sandbox!.fake.load({
      users: SANDBOX_MEMBERS.map((userid) => ({
        userid,
        name: userid,
        department: [1],
        main_department: 1,
        status: 1,
      })),
    });
    apps.push(app);
  }
  return {
    apps,
    dbs,
    clock,
    close: async () => {
      for (const app of apps) await app.close();
      for (const db of dbs) await db.destroy();
      await fresh.drop();
    },
  };
}

interface Signed {
  raw: string;
  headers: Record<string, string>;
}

/** A signed request as a calling system makes it: the client's key over `${ts}.${rawBody}`. */
function sign(
  body: object | string,
  nowMs: number,
  client: { name?: string; secret: string } = { name: 'h5', secret: H5_SECRET },
): Signed {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const ts = String(Math.floor(nowMs / 1000));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-entry-timestamp': ts,
    'x-entry-signature': signEntry(client.secret, ts, raw),
  };
  if (client.name) headers['x-entry-client'] = client.name;
  return { raw, headers };
}

const send = (app: FastifyInstance, s: Signed, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
  app.inject({ method: 'POST', url: '/api/entry/allocate', headers: { ...s.headers, ...extra }, payload: s.raw });

const addContactWays = (c: Cluster) =>
  c.apps.reduce((n, app) => n + app.sandbox!.fake.count('externalcontact/add_contact_way'), 0);

const NEAR_HZ01 = { lat: HZ_WEST.lat, lng: HZ_WEST.lng + 0.001 };

describe.each(DB_TARGETS)('entry API hardening on %s', (target) => {
  describe('one instance', () => {
    let c: Cluster;
    let app: FastifyInstance;
    beforeAll(async () => {
      c = await cluster(target, 1, { ENTRY_RATE_LIMIT_PER_MINUTE: '1000' });
      app = c.apps[0];
    });
    afterAll(async () => c.close());

    test('a signed request replayed 200 times makes one allocation and one contact way', async () => {
      // Anonymous visitor: nothing but the signature tells the copies apart.
      const signed = sign({ ...NEAR_HZ01, campaign: 'replay' }, c.clock.now);
      const before = await app.db.manager.count(Allocation);
      const ways = addContactWays(c);
      const answers = await Promise.all(Array.from({ length: 200 }, () => send(app, signed)));
      const ok = answers.filter((r) => r.statusCode === 200);
      const replayed = answers.filter((r) => r.statusCode === 409);
      expect(ok.length + replayed.length).toBe(200);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      for (const r of replayed) expect(r.json().error.code).toBe('replayed');
      const first = ok[0].json();
      for (const r of ok) expect(r.json()).toEqual(first);
      expect(await app.db.manager.count(Allocation)).toBe(before + 1);
      expect(addContactWays(c)).toBe(ways + 1);
      expect(await app.db.manager.countBy(ContactWay, { allocationId: first.allocationId })).toBe(1);

      // Later replays inside the window: the first answer, marked as a replay.
      c.clock.now += 200_000;
      const late = await send(app, signed);
      expect(late.statusCode).toBe(200);
      expect(late.json()).toEqual(first);
      expect(late.headers['x-entry-replay']).toBe('true');
      expect(await app.db.manager.count(Allocation)).toBe(before + 1);
      // An upper-case copy of the hex signature is the same signature.
      const upper = await send(app, {
        ...signed,
        headers: { ...signed.headers, 'x-entry-signature': signed.headers['x-entry-signature'].toUpperCase() },
      });
      expect(upper.json()).toEqual(first);
      expect(addContactWays(c)).toBe(ways + 1);
    });

    test('a failed request gives its signature back: an identical retry may succeed once', async () => {
      const signed = sign({ customerId: 'C777', ...NEAR_HZ01 }, c.clock.now);
      app.sandbox!.fake.failNext('externalcontact/add_contact_way', 48002);
      expect((await send(app, signed)).statusCode).toBe(502);
      const retry = await send(app, signed);
      expect(retry.statusCode).toBe(200);
      const again = await send(app, signed);
      expect(again.json()).toEqual(retry.json());
      expect(await app.db.manager.countBy(Allocation, { customerId: 'C777' })).toBe(1);
    });

    test('expired replay rows are purged after the window', async () => {
      const rows = await app.db.manager.count(EntryRequestRow);
      expect(rows).toBeGreaterThan(0);
      c.clock.now += 30 * 60_000;
      // Any accepted request purges what is past its window.
      const res = await send(app, sign({ lat: 30.1, lng: 120.1, phone: 'abcdefg' }, c.clock.now));
      expect(res.statusCode).toBe(400);
      const { purgeExpiredRequests } = await import('../../../server/entry/replay');
      await purgeExpiredRequests(app.db, c.clock.now);
      expect(await app.db.manager.count(EntryRequestRow)).toBeLessThanOrEqual(1);
    });

    test('per-client secrets: x-entry-client names the key; another key or no name does not verify', async () => {
      const body = { customerId: 'C002', ...NEAR_HZ01, campaign: 'clients' };
      // h5's name with the outbound system's key, and h5's key without a name (= the default client).
      expect((await send(app, sign(body, c.clock.now, { name: 'h5', secret: OUTBOUND_SECRET }))).statusCode).toBe(401);
      expect((await send(app, sign(body, c.clock.now, { secret: H5_SECRET }))).statusCode).toBe(401);
      const unknown = await send(app, sign(body, c.clock.now, { name: 'nobody', secret: H5_SECRET }));
      expect(unknown.statusCode).toBe(401);
      expect(unknown.json().error.code).toBe('bad_entry_signature');
      const ok = await send(app, sign(body, c.clock.now, { name: 'outbound', secret: OUTBOUND_SECRET }));
      expect(ok.statusCode).toBe(200);
      // ENTRY_SECRET still works as the default client, without a header.
      const dflt = await send(
        app,
        sign({ ...body, campaign: 'dflt' }, c.clock.now, { secret: app.config.entrySecret }),
      );
      expect(dflt.statusCode).toBe(200);
      expect(dflt.json().allocationId).toBe(ok.json().allocationId);
      const audit = await app.db.manager.findOneByOrFail(AuditEntry, {
        action: 'allocation.decide',
        subject: `allocation:${ok.json().allocationId}`,
      });
      expect(audit.actor).toBe('entry:client:outbound');
    });

    test('coordinates must be finite JSON numbers: 400 naming the field, nothing written', async () => {
      const before = await app.db.manager.count(Allocation);
      const cases: [string, string][] = [
        ['lat', '{"customerId":"C002","lat":"30.2","lng":120.1}'],
        ['lat', '{"customerId":"C002","lat":[30.3],"lng":120.1}'],
        ['lat', '{"customerId":"C002","lat":true,"lng":120.1}'],
        ['lat', '{"customerId":"C002","lat":null,"lng":120.1}'],
        ['lng', '{"customerId":"C002","lat":30.2,"lng":"120.1"}'],
        ['lng', '{"customerId":"C002","lat":30.2,"lng":[120.1]}'],
        ['lat', '{"customerId":"C002","lat":1e999,"lng":120.1}'],
        ['lng', '{"customerId":"C002","lat":30.2,"lng":-1e999}'],
        ['customerId', '{"customerId":42,"lat":30.2,"lng":120.1}'],
        ['phone', '{"phone":13700001234}'],
        ['body', '[30.2,120.1]'],
      ];
      for (const [field, raw] of cases) {
        const res = await send(app, sign(raw, c.clock.now));
        expect({ raw, status: res.statusCode }).toEqual({ raw, status: 400 });
        expect(res.json().error.code).toBe('bad_request');
        expect(res.json().error.details).toEqual({ field });
        expect(res.json().error.message).toContain(field);
      }
      expect(await app.db.manager.count(Allocation)).toBe(before);
    });

    test('a customer being allocated elsewhere: the request waits for that QR code and answers it', async () => {
      const row = (await app.db.manager.findOneByOrFail(Allocation, { customerId: 'C777' })) as Allocation;
      // Another instance has reserved W1 and is still asking WeCom for the contact way.
      const pending = { ...row, id: 'w1pendingreserve', customerId: 'W1', openKey: 'W1', configId: null, qrCode: null };
      pending.state = `a:${pending.id}`;
      pending.expiresAt = c.clock.now + 120_000;
      await app.db.manager.insert(Allocation, pending);
      const ways = addContactWays(c);
      const asked = send(app, sign({ customerId: 'w1', ...NEAR_HZ01 }, c.clock.now));
      await new Promise((r) => setTimeout(r, 300));
      await app.db.manager.update(Allocation, { id: pending.id }, { configId: 'cw-other', qrCode: 'https://qr/other' });
      const res = await asked;
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ allocationId: pending.id, qrCode: 'https://qr/other' });
      expect(addContactWays(c)).toBe(ways);
    });

    test('customer ids are stored canonical: " c002 " and "C002" are one customer', async () => {
      const upper = await send(app, sign({ customerId: 'C002', ...NEAR_HZ01, campaign: 'ids-1' }, c.clock.now));
      const lower = await send(app, sign({ customerId: ' c002 ', ...NEAR_HZ01, campaign: 'ids-2' }, c.clock.now));
      expect(lower.statusCode).toBe(200);
      expect(lower.json().allocationId).toBe(upper.json().allocationId);
      const fresh = await send(app, sign({ customerId: 'c9001\t', ...NEAR_HZ01 }, c.clock.now));
      expect(fresh.statusCode).toBe(200);
      const row = await app.db.manager.findOneByOrFail(Allocation, { id: fresh.json().allocationId });
      expect(row.customerId).toBe('C9001');
      expect(row.openKey).toBe('C9001');
      const bad = await send(app, sign({ customerId: 'C 9002' }, c.clock.now));
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.details).toEqual({ field: 'customerId' });
    });
  });

  describe('rate limit keyed on the authenticated client', () => {
    let c: Cluster;
    beforeAll(async () => {
      c = await cluster(target, 1, { ENTRY_RATE_LIMIT_PER_MINUTE: '20' });
    });
    afterAll(async () => c.close());

    test('rotating X-Forwarded-For or x-entry-client does not buy more requests', async () => {
      const app = c.apps[0];
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) {
        // Cheap: passes the signature and the schema, fails in the handler, counted by the limiter.
        const s = sign({ lat: 30.1, lng: 120.1, phone: 'abcdefg', campaign: `r${i}` }, c.clock.now);
        const res = await send(app, s, { 'x-forwarded-for': `203.0.113.${i}`, 'x-real-ip': `198.51.100.${i}` });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) expect(res.json().error.code).toBe('rate_limited');
      }
      expect(statuses.filter((s) => s !== 429)).toHaveLength(20);
      // A made-up client name has no key: refused before it could pick a bucket.
      for (let i = 0; i < 20; i++) {
        const s = sign({ lat: 30.1, lng: 120.1, campaign: `n${i}` }, c.clock.now, {
          name: `h5-${i}`,
          secret: H5_SECRET,
        });
        expect((await send(app, s)).statusCode).toBe(401);
      }
      // Another authenticated client has its own budget.
      const other = await send(
        app,
        sign({ customerId: 'C002', ...NEAR_HZ01 }, c.clock.now, { name: 'outbound', secret: OUTBOUND_SECRET }),
      );
      expect(other.statusCode).toBe(200);
    });
  });

  describe('two instances on one database', () => {
    let c: Cluster;
    beforeAll(async () => {
      c = await cluster(target, 2, { ENTRY_RATE_LIMIT_PER_MINUTE: '10000' });
    });
    afterAll(async () => c.close());

    test('a replay on the other instance gets the first answer, never a second allocation', async () => {
      const [a, b] = c.apps;
      const signed = sign({ ...NEAR_HZ01, campaign: 'cross' }, c.clock.now);
      const before = await a.db.manager.count(Allocation);
      const ways = addContactWays(c);
      const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => send(i % 2 ? b : a, signed)));
      for (const r of burst) expect([200, 409]).toContain(r.statusCode);
      const first = burst.find((r) => r.statusCode === 200)!.json();
      const later = await send(b, signed);
      expect(later.json()).toEqual(first);
      expect(await a.db.manager.count(Allocation)).toBe(before + 1);
      expect(addContactWays(c)).toBe(ways + 1);
    });

    test('one open allocation per customer across instances', async () => {
      const [a, b] = c.apps;
      const ways = addContactWays(c);
      const customers = Array.from({ length: 8 }, (_, i) => `X${100 + i}`);
      const calls = customers.flatMap((id) =>
        [0, 1, 2, 3].map((k) =>
          send(k % 2 ? b : a, sign({ customerId: id, ...NEAR_HZ01, campaign: `k${k}` }, c.clock.now)),
        ),
      );
      const answers = await Promise.all(calls);
      for (const r of answers) expect(r.statusCode).toBe(200);
      for (const id of customers) {
        const rows = await a.db.manager.findBy(Allocation, { customerId: id });
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ status: 'open', openKey: id });
      }
      const byCustomer = new Map<string, Set<string>>();
      for (const r of answers) {
        const row = await a.db.manager.findOneByOrFail(Allocation, { id: r.json().allocationId });
        const set = byCustomer.get(row.customerId!) ?? new Set();
        set.add(row.id);
        byCustomer.set(row.customerId!, set);
      }
      for (const id of customers) expect(byCustomer.get(id)?.size).toBe(1);
      expect(addContactWays(c)).toBe(ways + customers.length);
    });

    test('capacity holds under a concurrent burst on both instances; expiry gives the slots back', async () => {
      const [a, b] = c.apps;
      // HZ01: wang takes 10, li is full (one follow, capacity 1); HZ02 and the rest take the others.
      await a.db.manager.update(Manager, { userid: 'wang_hz01' }, { capacity: 10 });
      await a.db.manager.update(Manager, { userid: 'li_hz01' }, { capacity: 1 });
      for (const app of c.apps) invalidateAllocationCache(app.db);
      const openFor = (userid: string) => a.db.manager.countBy(Allocation, { userid, status: 'open' });
      expect(await openFor('wang_hz01')).toBeLessThan(10);
      const liBefore = await openFor('li_hz01');
      const before = new Map<string, number>();
      for (const m of await a.db.manager.find(Manager)) before.set(m.userid, await openFor(m.userid));

      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          send(i % 2 ? b : a, sign({ customerId: `B${1000 + i}`, ...NEAR_HZ01 }, c.clock.now)),
        ),
      );
      for (const r of answers) expect([200, 422]).toContain(r.statusCode);
      expect(await openFor('wang_hz01')).toBe(10);
      expect(await openFor('li_hz01')).toBe(liBefore);
      const elsewhere = answers.filter((r) => r.statusCode === 200 && r.json().userid !== 'wang_hz01');
      expect(elsewhere.length).toBeGreaterThan(0);
      // Nobody went past their capacity (li was already past his new one: he got none).
      for (const m of await a.db.manager.find(Manager)) {
        expect(await openFor(m.userid)).toBeLessThanOrEqual(Math.max(m.capacity, before.get(m.userid) ?? 0));
      }

      // The TTL passes: the sweep expires them and wang has room again.
      c.clock.now += 8 * 24 * 3600 * 1000;
      await expireOpenAllocations(a.db, 'test', c.clock.now);
      expect(await a.db.manager.countBy(Allocation, { status: 'open' })).toBe(0);
      expect(await a.db.manager.count(Allocation, { where: { openKey: 'B1000' } })).toBe(0);
      for (const app of c.apps) invalidateAllocationCache(app.db);
      const again = await send(b, sign({ customerId: 'B1000', ...NEAR_HZ01 }, c.clock.now));
      expect(again.statusCode).toBe(200);
      expect(again.json().userid).toBe('wang_hz01');
    });
  });
});
