import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { build } from '../../../server/app';
import { CachedSecret, WelcomeMessage } from '../../../server/db/entities';
import { signEntry } from '../../../server/entry/signature';
import { loggerOptions } from '../../../server/logger';
import { simulateAddContact } from '../../../server/sandbox/simulator';
import { DB_TARGETS, openFreshDb, testConfig } from '../../helpers/db';

/**
 * End to end at trace level: an entry allocation with a phone number, a customer adding a
 * manager (WeCom API calls with tokens, a welcome code, the customer's name in
 * externalcontact/get) and the worker's processing. Nothing secret or personal reaches a log line.
 */
describe.each(DB_TARGETS)('logs stay clean of secrets and personal data on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let app: FastifyInstance;
  const lines: string[] = [];

  beforeAll(async () => {
    fresh = await openFreshDb(target);
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    app = await build(testConfig(fresh.url, { DEMO_DATA: 'true', LOG_LEVEL: 'trace' }), {
      db: fresh.ds,
      worker: false,
      logger: { ...loggerOptions('trace'), stream },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await fresh.ds.destroy();
    await fresh.drop();
  });

  it('after an entry allocation, an add with a welcome and the worker run', async () => {
    const phone = '13812345678';
    const customerName = '欧阳娜娜';
    const body = JSON.stringify({ phone, lat: 30.27, lng: 120.16, campaign: 'spring' });
    const ts = String(Math.floor(Date.now() / 1000));
    const entry = await app.inject({
      method: 'POST',
      url: '/api/entry/allocate',
      headers: {
        'content-type': 'application/json',
        'x-entry-timestamp': ts,
        'x-entry-signature': signEntry(app.config.entrySecret, ts, body),
      },
      payload: body,
    });
    expect(entry.statusCode).toBe(200);
    const { state, userid } = entry.json();

    const sim = await simulateAddContact(app, { userid, state, name: customerName });
    expect(sim.status).toBe(200);
    await app.worker.drain();
    // The welcome runs on the fast lane right after the ack: wait (bounded) until it has an outcome.
    const settled = async () =>
      (await fresh.ds.getRepository(WelcomeMessage).find()).some((w) => w.status !== 'sending');
    for (let i = 0; i < 200 && !(await settled()); i++) await new Promise((r) => setTimeout(r, 25));
    expect(await fresh.ds.getRepository(WelcomeMessage).countBy({ status: 'sent' })).toBe(1);

    const tokens = (await fresh.ds.getRepository(CachedSecret).find()).map((s) => s.value).filter(Boolean) as string[];
    expect(tokens.length).toBeGreaterThan(0);
    const c = app.config;
    const secrets = [
      c.wecom.token,
      c.wecom.aesKey,
      c.wecom.agentSecret,
      c.wecom.contactSecret,
      c.sessionSecret,
      c.entrySecret,
      c.phoneHashSalt,
      ...tokens,
      sim.welcomeCode!,
      phone,
      customerName,
    ];
    const log = lines.join('');
    expect(log.length).toBeGreaterThan(1000); // trace level really logged the flow
    expect(log).toContain('wecom api call');
    for (const s of secrets) expect(log).not.toContain(s);
    expect(log).not.toContain('<xml>');
  });
});
