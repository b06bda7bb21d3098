import { createCipheriv } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { inboxStats } from '../../server/callback/inbox-repo';
import { decodeAesKey } from '../../server/config';
import { InboxEvent } from '../../server/db/entities';
import { seededRandom } from '../../server/lib/seeded-random';
import { sha256Hex } from '../../server/wecom/crypto';
import { ADD_CONTACT, PROBE, qs } from '../helpers/callback';
import { DB_TARGETS, openFreshDb } from '../helpers/db';
import { useApp } from '../helpers/fixtures';

/**
 * Fuzz: thousands of mutated callbacks that are all validly signed (the signature is computed over
 * whatever Encrypt the mutation produced), from a seeded PRNG so a failure replays exactly. The
 * server must never answer 5xx or crash, every 200 must be the row of exactly that plaintext, and
 * nothing refused may leave a row.
 */

const CASES = 2500;
const SEED = 0x5eed_2026;

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

const NASTY = [
  '<',
  '>',
  '&',
  '&amp;',
  '&#0;',
  ']]>',
  '<![CDATA[',
  '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
  '<!ENTITY a "aaaaaaaaaa">',
  '&a;&a;&a;',
  '<?xml version="1.0" encoding="GBK"?>',
  '<!-- c -->',
  '\u0000',
  '\ud800',
  '\uffff',
  '手机13912345678',
  '<MsgType><![CDATA[event]]></MsgType>',
  '<Event><![CDATA[change_external_contact]]></Event>',
  '<ChangeType><![CDATA[del_follow_user]]></ChangeType>',
  '<ExternalUserID></ExternalUserID>',
  `<a>${'<b>'.repeat(300)}`,
  '\n\t ',
  'x'.repeat(2000),
];

function mutateText(r: Rand, s: string): string {
  let out = s;
  const edits = 1 + int(r, 4);
  for (let e = 0; e < edits; e++) {
    const at = int(r, out.length + 1);
    switch (int(r, 6)) {
      case 0: // flip one character
        out = out.slice(0, at) + String.fromCharCode(int(r, 0x3000)) + out.slice(at + 1);
        break;
      case 1: // delete a range
        out = out.slice(0, at) + out.slice(at + 1 + int(r, 40));
        break;
      case 2: // insert something hostile
        out = out.slice(0, at) + pick(r, NASTY) + out.slice(at);
        break;
      case 3: // duplicate a range
        out = out.slice(0, at) + out.slice(at, at + int(r, 60)) + out.slice(at);
        break;
      case 4: // truncate
        out = out.slice(0, at);
        break;
      default: // swap a tag name
        out = out.replace(/<(\w+)>/, `<${pick(r, ['Event', 'MsgType', 'xml', 'X', 'ChangeType'])}>`);
    }
  }
  return out;
}

interface Case {
  query: Record<string, string>;
  body: string;
  contentType: string;
  /** sha256 of the message bytes the server would store if it accepts the request. */
  key: string | null;
}

describe.each(DB_TARGETS)('callback fuzz on %s', (target) => {
  let fresh: Awaited<ReturnType<typeof openFreshDb>>;
  let app: FastifyInstance;

  const suite = useApp(target);
  beforeAll(() => {
    ({ app, fresh } = suite);
  });

  it(`${CASES} mutated, validly signed callbacks: no 5xx, no crash, a row only for what was accepted`, async () => {
    const r = seededRandom(SEED + (target === 'sqlite' ? 0 : 1));
    const crypto = app.callbackCrypto;
    const corp = app.config.wecom.corpId;
    const key = decodeAesKey(app.config.wecom.aesKey);
    const ts = () => String(Math.floor(Date.now() / 1000));
    const nonce = () => String(int(r, 1e9));
    const signed = (encrypt: string, timestamp = ts(), n = nonce()) => ({
      msg_signature: crypto.signature(timestamp, n, encrypt),
      timestamp,
      nonce: n,
    });
    const envelope = (encrypt: string) =>
      `<xml><ToUserName><![CDATA[${corp}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>`;
    /** AES-CBC over raw bytes exactly as WeCom lays them out, with the parts the mutation chose. */
    const sealRaw = (random: Buffer, lenField: number, msg: Buffer, receiveId: Buffer, padFix?: number) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(lenField >>> 0);
      const raw = Buffer.concat([random, len, msg, receiveId]);
      const pad = 32 - (raw.length % 32);
      const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
      c.setAutoPadding(false);
      return Buffer.concat([c.update(Buffer.concat([raw, Buffer.alloc(pad, padFix ?? pad)])), c.final()]).toString(
        'base64',
      );
    };
    const bases = [
      () => PROBE(corp, int(r, 1e9), 'fuzz_probe'),
      () => ADD_CONTACT(corp, `wm${int(r, 1e9)}`, 'hz_wangqiang'),
      () =>
        `<xml><ToUserName><![CDATA[${corp}]]></ToUserName><FromUserName><![CDATA[hz_sunlei]]></FromUserName>` +
        `<CreateTime>${ts()}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好 ${int(r, 1e6)}]]></Content>` +
        `<MsgId>${int(r, 1e15)}</MsgId><AgentID>1000002</AgentID></xml>`,
    ];

    const makeCase = (): Case => {
      const plain = pick(r, bases)();
      const kind = int(r, 10);
      if (kind <= 3) {
        // Mutated inner XML, properly encrypted for our corp and signed.
        const text = mutateText(r, plain);
        const bytes = Buffer.from(text, 'utf8');
        const encrypt = crypto.seal(text);
        return { query: signed(encrypt), body: envelope(encrypt), contentType: 'text/xml', key: sha256Hex(bytes) };
      }
      if (kind === 4) {
        // Mutated ciphertext (base64 characters changed, cut or extended), signed as it is.
        let encrypt = crypto.seal(plain);
        const at = int(r, encrypt.length);
        encrypt = pick(r, [
          () => encrypt.slice(0, at) + pick(r, ['A', 'z', '+', '/', '=', '-', '_', '!']) + encrypt.slice(at + 1),
          () => encrypt.slice(0, at),
          () => encrypt + pick(r, ['AAAA', 'A', '====', 'QUJDRA==']),
          () => encrypt.slice(16),
        ])();
        if (!encrypt) encrypt = 'AAAA';
        // A changed byte in the first block only garbles the random prefix and one byte after it: such a
        // ciphertext can still open to a (different) message. The opener tells which one, if any.
        let k: string | null = null;
        try {
          k = sha256Hex(crypto.open(encrypt).messageBytes);
        } catch {
          k = null;
        }
        return { query: signed(encrypt), body: envelope(encrypt), contentType: 'text/xml', key: k };
      }
      if (kind === 5) {
        // Raw layout mutations: wrong length field, foreign receiveId, bad padding, invalid UTF-8.
        const msg = Buffer.from(plain, 'utf8');
        const random = Buffer.alloc(16, int(r, 256));
        let lenField = msg.length;
        let receiveId = Buffer.from(corp);
        let padFix: number | undefined;
        let body = msg;
        switch (int(r, 6)) {
          case 0:
            lenField = msg.length + 1 + int(r, 100);
            break;
          case 1:
            lenField = Math.max(0, msg.length - 1 - int(r, msg.length));
            break;
          case 2:
            receiveId = Buffer.from(pick(r, ['wwother00000001', '', `${corp}x`, corp.toUpperCase()]));
            break;
          case 3:
            padFix = pick(r, [0, 33, 200]);
            break;
          case 4:
            body = Buffer.concat([msg.subarray(0, 10), Buffer.from([0xc3, 0x28, 0xff]), msg.subarray(10)]);
            lenField = body.length;
            break;
          default:
            lenField = 0xffffffff;
        }
        const encrypt = sealRaw(random, lenField, body, receiveId, padFix);
        // If the server accepts it, this is what it must have stored.
        const all = Buffer.concat([body, receiveId]);
        const k = lenField <= all.length ? sha256Hex(all.subarray(0, lenField)) : null;
        return { query: signed(encrypt), body: envelope(encrypt), contentType: 'text/xml', key: k };
      }
      if (kind === 6) {
        // Envelope mutations around a valid Encrypt.
        const encrypt = crypto.seal(plain);
        const env = envelope(encrypt);
        const body = pick(r, [
          () => `<!DOCTYPE xml [<!ENTITY x "y">]>${env}`,
          () => env.replace('<Encrypt>', '<Encrypt><Encrypt>'),
          () => env.replace('</xml>', `<Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`),
          () => env.replace('<![CDATA[', ''),
          () => env.replace('</xml>', ''),
          () => `\uFEFF<?xml version="1.0"?>\n${env}\n`,
          () => env.replace('<xml>', '<XML>'),
          () => mutateText(r, env),
          () => env.replace(']]></Encrypt>', ']]> </Encrypt>'),
          () => `${env}<!-- trailing -->`,
        ])();
        // Only an untouched Encrypt can be accepted: then the stored message is `plain`.
        return { query: signed(encrypt), body, contentType: 'text/xml', key: sha256Hex(Buffer.from(plain, 'utf8')) };
      }
      if (kind === 7) {
        // Query mutations: stale / future / malformed timestamps and odd nonces, signed as sent.
        const encrypt = crypto.seal(plain);
        const now = Math.floor(Date.now() / 1000);
        const timestamp = pick(r, [
          String(now - 2 * 86_400),
          String(now + 3_600),
          '',
          '-1',
          '1e10',
          '0x10',
          `${now}.5`,
          String(now),
          '９９',
          '99999999999999999999',
        ]);
        const n = pick(r, ['', ' ', '%00', '<x>', 'a'.repeat(300), nonce(), '你好']);
        return {
          query: signed(encrypt, timestamp, n),
          body: envelope(encrypt),
          contentType: 'text/xml',
          key: sha256Hex(Buffer.from(plain, 'utf8')),
        };
      }
      if (kind === 8) {
        // Content types and sizes.
        const text = r() < 0.3 ? `${plain}${'x'.repeat(70_000)}` : plain;
        const encrypt = crypto.seal(text);
        return {
          query: signed(encrypt),
          body: envelope(encrypt),
          contentType: pick(r, ['text/xml', 'application/json', 'application/x-www-form-urlencoded', 'text/plain', '']),
          key: sha256Hex(Buffer.from(text, 'utf8')),
        };
      }
      // An untouched callback now and then: the accepted path stays exercised.
      const encrypt = crypto.seal(plain);
      return {
        query: signed(encrypt),
        body: envelope(encrypt),
        contentType: 'text/xml',
        key: sha256Hex(Buffer.from(plain, 'utf8')),
      };
    };

    const statuses = new Map<number, number>();
    const accepted = new Set<string>();
    const bad: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const c = makeCase();
      const res = await app.inject({
        method: 'POST',
        url: `/wecom/callback?${qs(c.query)}`,
        headers: c.contentType ? { 'content-type': c.contentType } : {},
        payload: c.body,
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) bad.push(`case ${i}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      else if (res.statusCode === 200) {
        if (res.body !== 'success' || !c.key) bad.push(`case ${i}: 200 without a known message (${res.body})`);
        else accepted.add(c.key);
      } else {
        const err = JSON.parse(res.body) as { error?: { code?: string; message?: string } };
        if (!err.error?.code || !err.error.message) bad.push(`case ${i}: ${res.statusCode} without an error envelope`);
      }
    }
    expect(bad).toEqual([]);

    // Exactly the accepted messages have rows, one each: nothing refused was stored.
    const rows = await fresh.ds.getRepository(InboxEvent).find({ select: { dedupKey: true } });
    expect(new Set(rows.map((x) => x.dedupKey))).toEqual(accepted);
    expect(rows).toHaveLength(accepted.size);
    // The fuzz reached both sides: plenty accepted, plenty refused with several codes.
    expect(accepted.size).toBeGreaterThan(CASES / 4);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(4);

    // The worker gets through whatever was stored without crashing: nothing is left mid-flight.
    await app.worker.drain();
    const stats = await inboxStats(fresh.ds);
    expect(stats.processing).toBe(0);
    expect(stats.malformed).toBeGreaterThan(0);
    process.stdout.write(
      `[fuzz ${target}] ${CASES} cases: ${JSON.stringify(Object.fromEntries(statuses))}; inbox ${JSON.stringify(stats)}\n`,
    );
  });
});
