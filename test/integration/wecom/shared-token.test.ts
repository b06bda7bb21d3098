import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import { build } from '../../../server/app';
import { openDatabase } from '../../../server/db/data-source';
import { CachedSecret } from '../../../server/db/entities';
import { demoFakeSeed } from '../../../server/sandbox/demo-data';
import { buildFakeWecom, FakeWecom } from '../../../server/sandbox/fake-wecom';
import { DB_TARGETS, openFreshDb, testConfig } from '../../helpers/db';

const CORP = 'wwsharedtest0001';
const AGENT_SECRET = 'shared-agent-secret-000000001';
const CONTACT_SECRET = 'shared-contact-secret-00000001';
const CONTACT = 'wmsbxdemo0001AAAAbbbbCCCCdddd';

/**
 * Three app instances (three DataSources, as three processes would have) on one database, all
 * talking over real HTTP to ONE standalone fake WeCom: the DB lease gives one gettoken per secret.
 */
describe.each(DB_TARGETS)('shared token cache across 3 instances on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let fake: FakeWecom;
  const extra: DataSource[] = [];
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    fresh = await openFreshDb(target);
    fake = buildFakeWecom({
      corpId: CORP,
      agentId: '1000002',
      agentSecret: AGENT_SECRET,
      contactSecret: CONTACT_SECRET,
      seed: demoFakeSeed(),
    });
    const base = await fake.listen(0, '127.0.0.1');
    for (let i = 0; i < 3; i++) {
      const ds = i === 0 ? fresh.ds : await openDatabase({ url: fresh.url }, { migrate: false });
      if (i > 0) extra.push(ds);
      const config = testConfig(fresh.url);
      Object.assign(config.wecom, {
        corpId: CORP,
        agentSecret: AGENT_SECRET,
        contactSecret: CONTACT_SECRET,
        apiBase: base,
      });
      apps.push(await build(config, { db: ds, worker: false }));
    }
    await Promise.all(apps.map((a) => a.ready()));
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await fake.close();
    await Promise.all(extra.map((d) => d.destroy()));
    await fresh.ds.destroy();
    await fresh.drop();
  });

  const burst = (fn: (app: FastifyInstance, i: number) => Promise<unknown>) =>
    Promise.all(apps.flatMap((app) => Array.from({ length: 100 }, (_, i) => fn(app, i))));

  it('100 concurrent calls on each of 3 instances → exactly one gettoken per secret', async () => {
    fake.resetLog();
    const results = await burst((app, i) =>
      i % 2 ? app.wecom.getUser('hz_chenjing') : app.wecom.getExternalContact(CONTACT),
    );
    expect(results).toHaveLength(300);
    expect(fake.count('gettoken', 'agent')).toBe(1);
    expect(fake.count('gettoken', 'contact')).toBe(1);
    expect(fake.count('user/get')).toBe(150);
    expect(fake.count('externalcontact/get')).toBe(150);
    const rows = await fresh.ds.getRepository(CachedSecret).find();
    expect(rows.filter((r) => r.name.startsWith('token:'))).toHaveLength(2);
    expect(rows.every((r) => r.leaseHolder === null)).toBe(true);
  });

  it('a token revoked at WeCom → exactly one refresh per secret across all instances', async () => {
    fake.revokeTokens();
    fake.resetLog();
    await burst((app, i) => (i % 2 ? app.wecom.getUser('hz_chenjing') : app.wecom.getExternalContact(CONTACT)));
    expect(fake.count('gettoken', 'agent')).toBe(1);
    expect(fake.count('gettoken', 'contact')).toBe(1);
    const rejected = fake.calls.filter((c) => c.errcode === 40014).length;
    expect(rejected).toBeGreaterThan(0);
    // Every call succeeded in the end: one success per call.
    expect(fake.calls.filter((c) => c.api !== 'gettoken' && c.errcode === 0)).toHaveLength(300);
  });

  it('an expired token (42001) → exactly one refresh per secret', async () => {
    fake.expireTokens();
    fake.resetLog();
    await burst((app) => app.wecom.getUser('hz_chenjing'));
    expect(fake.count('gettoken', 'agent')).toBe(1);
    expect(fake.count('user/get')).toBeGreaterThanOrEqual(300);
  });

  it('both JS-SDK tickets are fetched once across instances and shared', async () => {
    fake.resetLog();
    const corp = await burst((app) => app.wecom.getJsapiTicket());
    const agent = await burst((app) => app.wecom.getAgentTicket());
    expect(new Set(corp).size).toBe(1);
    expect(new Set(agent).size).toBe(1);
    expect(corp[0]).not.toBe(agent[0]);
    expect(fake.count('get_jsapi_ticket')).toBe(1);
    expect(fake.count('ticket/get')).toBe(1);
    const names = (await fresh.ds.getRepository(CachedSecret).find()).map((r) => r.name.split(':')[0]).sort();
    expect(names).toEqual(['agent_ticket', 'jsapi_ticket', 'token', 'token']);
  });

  it("counts calls in each instance's /metrics by api and errcode", async () => {
    const res = await apps[0].metricsServer.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/wecom_api_calls_total\{api="user\/get",errcode="0"\} \d+/);
    expect(res.body).toMatch(/wecom_api_call_seconds_count\{api="user\/get"\} \d+/);
  });
});
