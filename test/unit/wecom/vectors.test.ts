import { createCipheriv } from 'node:crypto';
import { getJsApiSignature, decrypt as libDecrypt } from '@wecom/crypto';
import { parseQuery } from '../../../server/callback/routes';
import { decodeAesKey } from '../../../server/config';
import { CallbackRejection, WecomCrypto } from '../../../server/wecom/crypto';
import { readEncrypt } from '../../../server/wecom/envelope';
import { parseEventXml } from '../../../server/wecom/xml';
import { loadVectors } from '../../helpers/vectors';

const vectors = loadVectors();
const byKind = (...kinds: string[]) => vectors.filter((v) => kinds.includes(v.kind)).map((v) => [v.name, v] as const);

const tag = (xml: string, name: string) =>
  new RegExp(`<${name}>(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))</${name}>`)
    .exec(xml)
    ?.slice(1)
    .find((x) => x !== undefined);

describe('WeCom crypto against the shared vectors', () => {
  it('covers every vector kind', () => {
    expect(new Set(vectors.map((v) => v.kind))).toEqual(
      new Set(['url-verify', 'event', 'message', 'reply', 'crypto-only', 'jsapi-signature', 'negative']),
    );
  });

  describe.each(byKind('url-verify', 'event', 'message', 'reply', 'crypto-only'))('%s', (_name, v) => {
    const c = new WecomCrypto(v.token, v.encodingAesKey, v.receiveId);

    it('verifies the signature and decrypts to the plaintext', () => {
      const opened = c.verifyAndOpen(v, v.encrypt);
      expect(opened.message).toBe(v.plaintext);
      expect(opened.receiveId).toBe(v.receiveId);
      if (v.randomHex) expect(opened.random.toString('hex')).toBe(v.randomHex);
    });

    it('agrees with @wecom/crypto on the happy path', () => {
      const lib = libDecrypt(v.encodingAesKey, v.encrypt);
      expect(c.open(v.encrypt).message).toBe(lib.message);
      expect(lib.id).toBe(v.receiveId);
    });

    it('re-encrypts byte-identically with the same random prefix', () => {
      if (!v.randomHex) return expect(v.randomHex).toBeUndefined();
      expect(c.seal(v.plaintext, Buffer.from(v.randomHex, 'hex'))).toBe(v.encrypt);
    });

    it('reads the wire form: query without form-decoding, Encrypt from the XML envelope', () => {
      if (v.query) {
        const q = parseQuery(`/wecom/callback?${v.query}`);
        expect(q.get('msg_signature')).toBe(v.msgSignature);
        expect(q.get('timestamp')).toBe(v.timestamp);
        expect(q.get('nonce')).toBe(v.nonce);
        if (v.kind === 'url-verify') expect(q.get('echostr')).toBe(v.encrypt);
      }
      if (v.body?.trimStart().startsWith('<')) expect(readEncrypt(v.body)).toBe(v.encrypt);
      if (v.body?.trimStart().startsWith('{')) expect(() => readEncrypt(v.body!)).toThrow(CallbackRejection);
    });

    it('parses the decrypted XML into string fields', () => {
      if (!v.fields || v.kind === 'reply') return expect(v.kind === 'reply' || !v.fields).toBe(true);
      const e = parseEventXml(v.plaintext);
      for (const [k, want] of Object.entries(v.fields)) expect(e[k]).toBe(want);
    });
  });

  describe.each(byKind('reply'))('%s passive reply', (_name, v) => {
    it('builds the reply envelope the vector shows', () => {
      const c = new WecomCrypto(v.token, v.encodingAesKey, v.receiveId);
      const env = c.replyEnvelope(v.plaintext, v.timestamp, v.nonce, Buffer.from(v.randomHex!, 'hex'));
      for (const name of ['Encrypt', 'MsgSignature', 'TimeStamp', 'Nonce'])
        expect(tag(env, name)).toBe(tag(v.envelope!, name));
      if (!v.envelope!.includes('\n')) expect(env).toBe(v.envelope);
    });
  });

  describe.each(byKind('negative'))('%s', (_name, v) => {
    it(`is rejected as ${v.rejectAs}`, () => {
      const c = new WecomCrypto(v.token, v.encodingAesKey, v.receiveId);
      let code: string | undefined;
      try {
        c.verifyAndOpen(v, v.encrypt);
      } catch (e) {
        expect(e).toBeInstanceOf(CallbackRejection);
        code = (e as CallbackRejection).code;
      }
      expect(code).toBe(v.rejectAs);
      if (v.rejectAs === 'foreign_corp' && v.decryptedReceiveId !== undefined) {
        const other = new WecomCrypto(v.token, v.encodingAesKey, v.decryptedReceiveId);
        const opened = other.verifyAndOpen(v, v.encrypt);
        expect(opened.receiveId).toBe(v.decryptedReceiveId);
        if (v.plaintext != null) expect(opened.message).toBe(v.plaintext);
      }
    });
  });

  describe.each(byKind('jsapi-signature'))('%s', (_name, v) => {
    it('signs the URL with the ticket', () => {
      expect(v.url).not.toContain('#');
      const s = getJsApiSignature({ url: v.url!, ticket: v.jsapiTicket!, nonceStr: v.nonce, timestamp: v.timestamp });
      expect(s.signature).toBe(v.signature);
    });
  });

  it('a message vector configured for another corp is foreign_corp (go-workwx-post-text-2)', () => {
    const v = vectors.find((x) => x.name === 'go-workwx-post-text-2')!;
    const other = vectors.find((x) => x.name === 'go-workwx-post-text')!;
    const c = new WecomCrypto(v.token, v.encodingAesKey, other.receiveId);
    expect(() => c.verifyAndOpen(v, v.encrypt)).toThrow(expect.objectContaining({ code: 'foreign_corp' }));
  });
});

describe('strict decrypt beyond the vectors', () => {
  const v = vectors.find((x) => x.name === 'fresh-add-external-contact')!;
  const c = new WecomCrypto(v.token, v.encodingAesKey, v.receiveId);
  const codeOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as CallbackRejection).code;
    }
    return 'accepted';
  };

  it('refuses non-canonical base64 that Node would silently accept', () => {
    expect(codeOf(() => c.open(`${v.encrypt.slice(0, 8)}*${v.encrypt.slice(9)}`))).toBe('bad_request');
    expect(codeOf(() => c.open(v.encrypt.slice(0, -1)))).toBe('bad_request');
    expect(codeOf(() => c.open(''))).toBe('bad_request');
  });

  it('refuses a wrong key (garbage padding) instead of returning garbage', () => {
    const wrong = new WecomCrypto(v.token, 'A'.repeat(43), v.receiveId);
    expect(codeOf(() => wrong.open(v.encrypt))).toBe('bad_request');
  });

  it('refuses a message that is not valid UTF-8', () => {
    const key = decodeAesKey(v.encodingAesKey);
    const msg = Buffer.from([0x3c, 0x78, 0xff, 0xfe, 0x3e]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(msg.length);
    const raw = Buffer.concat([Buffer.alloc(16, 1), len, msg, Buffer.from(v.receiveId)]);
    const pad = 32 - (raw.length % 32);
    const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    cipher.setAutoPadding(false);
    const enc = Buffer.concat([cipher.update(Buffer.concat([raw, Buffer.alloc(pad, pad)])), cipher.final()]).toString(
      'base64',
    );
    expect(codeOf(() => c.open(enc))).toBe('bad_request');
  });

  it('signature comparison is case-insensitive hex and length-checked', () => {
    expect(c.verify(v.timestamp, v.nonce, v.encrypt, v.msgSignature.toUpperCase())).toBe(true);
    expect(c.verify(v.timestamp, v.nonce, v.encrypt, v.msgSignature.slice(1))).toBe(false);
  });
});
