import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { build } from '../../../server/app';
import { openDatabase } from '../../../server/db/data-source';
import { InboxEvent } from '../../../server/db/entities';
import { WecomCrypto } from '../../../server/wecom/crypto';
import { ADD_CONTACT, metricValue, PROBE, postEvent, qs } from '../../helpers/callback';
import { DB_TARGETS, openFreshDb, testConfig } from '../../helpers/db';
import { useApp } from '../../helpers/fixtures';

describe.each(DB_TARGETS)('WeCom callback endpoint on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let app: FastifyInstance;
  const inboxCount = () => fresh.ds.getRepository(InboxEvent).count();

  const suite = useApp(target);
  beforeAll(() => {
    ({ app, fresh } = suite);
  });

  it('answers URL verification with the decrypted echo as text/plain, percent-decoding without "+"→space', async () => {
    // Find an echo whose ciphertext contains "+" so a form decoder would break it.
    let sealed: ReturnType<WecomCrypto['sealedCallback']>;
    let echo: string;
    do {
      echo = String(BigInt(`0x${randomBytes(8).toString('hex')}`));
      sealed = app.callbackCrypto.sealedCallback(echo);
    } while (!sealed.encrypt.includes('+'));
    const url = `/wecom/callback?${qs({ ...sealed.query, echostr: sealed.encrypt })}`;
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toBe(echo);
    expect(await inboxCount()).toBe(0);
  });

  it('stores a signed add-contact once and processes it once when POSTed 5 times concurrently', async () => {
    const plaintext = ADD_CONTACT(app.config.wecom.corpId, 'wmConcurrent5x');
    const before = await metricValue(app, 'wecom_callbacks_duplicate_total');
    const sealedOnce = app.callbackCrypto.sealedCallback(plaintext);
    // WeCom may re-encrypt a retry: mix identical bytes and fresh encryptions of the same plaintext.
    const sends = [
      ...[0, 1].map(() =>
        app.inject({
          method: 'POST',
          url: `/wecom/callback?${qs(sealedOnce.query)}`,
          headers: { 'content-type': 'text/xml' },
          payload: sealedOnce.body,
        }),
      ),
      ...[0, 1, 2].map(() => postEvent(app, plaintext)),
    ];
    const answers = await Promise.all(sends);
    for (const a of answers) {
      expect(a.statusCode).toBe(200);
      expect(a.body).toBe('success');
    }
    const rows = await fresh.ds.getRepository(InboxEvent).findBy({ payload: plaintext });
    expect(rows).toHaveLength(1);
    expect(rows[0].status).toBe('pending');
    expect((await metricValue(app, 'wecom_callbacks_duplicate_total')) - before).toBe(4);

    await app.worker.drain();
    await app.worker.drain();
    const after = await fresh.ds.getRepository(InboxEvent).findOneByOrFail({ id: rows[0].id });
    expect(after.attempts).toBe(1);
    expect(after.event).toBe('change_external_contact');
    expect(after.changeType).toBe('add_external_contact');
    expect(after.status).not.toBe('pending');
    expect(after.status).not.toBe('processing');
  });

  describe('rejections: code, status, metric, and no row written', () => {
    const cases: [string, number, string, (app: FastifyInstance) => Promise<{ statusCode: number; body: string }>][] = [
      [
        'wrong signature',
        401,
        'bad_signature',
        async (a) => {
          const s = a.callbackCrypto.sealedCallback(PROBE(a.config.wecom.corpId, 'sig'));
          const sig = s.query.msg_signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
          return a.inject({
            method: 'POST',
            url: `/wecom/callback?${qs({ ...s.query, msg_signature: sig })}`,
            headers: { 'content-type': 'text/xml' },
            payload: s.body,
          });
        },
      ],
      [
        'foreign corp',
        403,
        'foreign_corp',
        async (a) => {
          const other = new WecomCrypto(a.config.wecom.token, a.config.wecom.aesKey, 'wwsomeothercorp000');
          const s = other.sealedCallback(PROBE('wwsomeothercorp000', 'foreign'));
          return a.inject({
            method: 'POST',
            url: `/wecom/callback?${qs(s.query)}`,
            headers: { 'content-type': 'text/xml' },
            payload: s.body,
          });
        },
      ],
      [
        'missing parameters',
        400,
        'bad_request',
        async (a) => {
          const s = a.callbackCrypto.sealedCallback(PROBE(a.config.wecom.corpId, 'missing'));
          return a.inject({
            method: 'POST',
            url: `/wecom/callback?${qs({ timestamp: s.query.timestamp, nonce: s.query.nonce })}`,
            headers: { 'content-type': 'text/xml' },
            payload: s.body,
          });
        },
      ],
      [
        'malformed base64 (validly signed)',
        400,
        'bad_request',
        async (a) => {
          const ts = String(Math.floor(Date.now() / 1000));
          const enc = 'QUJD*RUZH';
          const body = `<xml><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`;
          const q = { msg_signature: a.callbackCrypto.signature(ts, '1', enc), timestamp: ts, nonce: '1' };
          return a.inject({
            method: 'POST',
            url: `/wecom/callback?${qs(q)}`,
            headers: { 'content-type': 'text/xml' },
            payload: body,
          });
        },
      ],
      [
        'bad padding (validly signed)',
        400,
        'bad_request',
        async (a) => {
          const good = a.callbackCrypto.seal(PROBE(a.config.wecom.corpId, 'pad'));
          const raw = Buffer.from(good, 'base64');
          const enc = raw.subarray(0, raw.length - 32).toString('base64'); // whole blocks missing: padding breaks
          const ts = String(Math.floor(Date.now() / 1000));
          const q = { msg_signature: a.callbackCrypto.signature(ts, '2', enc), timestamp: ts, nonce: '2' };
          return a.inject({
            method: 'POST',
            url: `/wecom/callback?${qs(q)}`,
            headers: { 'content-type': 'text/xml' },
            payload: `<xml><Encrypt>${enc}</Encrypt></xml>`,
          });
        },
      ],
      [
        'malformed envelope XML',
        400,
        'bad_request',
        async (a) =>
          a.inject({
            method: 'POST',
            url: `/wecom/callback?${qs({ msg_signature: 'a', timestamp: '1', nonce: '1' })}`,
            headers: { 'content-type': 'text/xml' },
            payload: '<xml><Encrypt>abc',
          }),
      ],
      [
        'envelope with a DOCTYPE / entity',
        400,
        'bad_request',
        async (a) => {
          const s = a.callbackCrypto.sealedCallback(PROBE(a.config.wecom.corpId, 'xxe'));
          const body = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>${s.body.replace('<AgentID>', '<Foo>&x;</Foo><AgentID>')}`;
          return a.inject({
            method: 'POST',
            url: `/wecom/callback?${qs(s.query)}`,
            headers: { 'content-type': 'text/xml' },
            payload: body,
          });
        },
      ],
      [
        'timestamp older than the retention window',
        400,
        'stale_timestamp',
        async (a) =>
          postEvent(a, PROBE(a.config.wecom.corpId, 'old'), {
            timestamp: String(Math.floor(Date.now() / 1000) - 25 * 3600),
          }),
      ],
      [
        'timestamp more than 5 minutes ahead',
        400,
        'stale_timestamp',
        async (a) =>
          postEvent(a, PROBE(a.config.wecom.corpId, 'future'), {
            timestamp: String(Math.floor(Date.now() / 1000) + 600),
          }),
      ],
      [
        'body over 64 KiB',
        413,
        'body_too_large',
        async (a) => {
          const s = a.callbackCrypto.sealedCallback(PROBE(a.config.wecom.corpId, 'big'));
          return a.inject({
            method: 'POST',
            url: `/wecom/callback?${qs(s.query)}`,
            headers: { 'content-type': 'text/xml' },
            payload: s.body.replace('<AgentID>', `<Pad>${'x'.repeat(70 * 1024)}</Pad><AgentID>`),
          });
        },
      ],
      [
        'JSON content type',
        415,
        'unsupported_media_type',
        async (a) => {
          const s = a.callbackCrypto.sealedCallback(PROBE(a.config.wecom.corpId, 'json'));
          return a.inject({
            method: 'POST',
            url: `/wecom/callback?${qs(s.query)}`,
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify({ encrypt: s.encrypt }),
          });
        },
      ],
    ];

    it.each(cases)('%s → %i %s', async (_name, status, code, send) => {
      const rowsBefore = await inboxCount();
      const rejectedBefore = await metricValue(app, 'wecom_callbacks_rejected_total', { reason: code });
      const res = await send(app);
      expect(res.statusCode).toBe(status);
      expect(JSON.parse(res.body)).toEqual({ error: { code, message: expect.any(String) } });
      expect(await inboxCount()).toBe(rowsBefore);
      expect((await metricValue(app, 'wecom_callbacks_rejected_total', { reason: code })) - rejectedBefore).toBe(1);
    });

    it('GET verification with a wrong signature is 401 and with a missing echostr 400', async () => {
      const s = app.callbackCrypto.sealedCallback('12345');
      const bad = await app.inject({
        url: `/wecom/callback?${qs({ ...s.query, msg_signature: '0'.repeat(40), echostr: s.encrypt })}`,
      });
      expect(bad.statusCode).toBe(401);
      const missing = await app.inject({ url: `/wecom/callback?${qs(s.query)}` });
      expect(missing.statusCode).toBe(400);
      expect(JSON.parse(missing.body).error.code).toBe('bad_request');
    });
  });

  it('keeps a well-signed event whose inner XML is broken, marked malformed, never dropped', async () => {
    const broken = `<xml><ToUserName>${app.config.wecom.corpId}</ToUserName><MsgType>event</MsgType><Event>x</xml>`;
    const res = await postEvent(app, broken);
    expect(res.statusCode).toBe(200);
    await app.worker.drain();
    const row = await fresh.ds.getRepository(InboxEvent).findOneByOrFail({ payload: broken });
    expect(row.status).toBe('malformed');
    expect(row.lastError).toMatch(/malformed/);
  });

  it('stores unknown event types as unhandled and counts them', async () => {
    const unknown = PROBE(app.config.wecom.corpId, 'u1', 'brand_new_event_type');
    expect((await postEvent(app, unknown)).statusCode).toBe(200);
    await app.worker.drain();
    const row = await fresh.ds.getRepository(InboxEvent).findOneByOrFail({ payload: unknown });
    expect(row.status).toBe('unhandled');
    expect(await metricValue(app, 'wecom_events_unhandled_total', { type: 'brand_new_event_type' })).toBe(1);
  });

  it('answers 503 (never 200) when the database is down, and nothing stored is harmed', async () => {
    const db2 = await openFreshDb(target);
    const app2 = await build(testConfig(db2.url), { db: db2.ds, worker: false });
    await app2.ready();
    const kept = PROBE(app2.config.wecom.corpId, 'kept');
    expect((await postEvent(app2, kept)).statusCode).toBe(200);
    await db2.ds.destroy();
    const res = await postEvent(app2, PROBE(app2.config.wecom.corpId, 'lost?'));
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body).error.code).toBe('unavailable');
    const ready = await app2.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    await app2.close();
    const reopened = await openDatabase({ url: db2.url });
    const rows = await reopened.getRepository(InboxEvent).find();
    expect(rows.map((r) => r.payload)).toEqual([kept]);
    await reopened.destroy();
    await db2.drop();
  });
});
