import { isUtf8 } from 'node:buffer';
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { getSignature } from '@wecom/crypto';
import { decodeAesKey } from '../config';

/** A rejection of a callback with the project's error code (see PROTOCOL.md's decrypt checklist). */
export class CallbackRejection extends Error {
  constructor(
    public readonly code: 'bad_request' | 'bad_signature' | 'foreign_corp' | 'stale_timestamp',
    message: string,
  ) {
    super(message);
    this.name = 'CallbackRejection';
  }

  get statusCode(): number {
    return this.code === 'bad_signature' ? 401 : this.code === 'foreign_corp' ? 403 : 400;
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface Opened {
  message: string;
  /** The message's UTF-8 bytes (hash these rather than re-encoding the string). */
  messageBytes: Buffer;
  receiveId: string;
  random: Buffer;
}

/**
 * WeCom callback crypto for one app (token, EncodingAESKey, receiveId = corpId).
 *
 * Signing and sealing use @wecom/crypto. Opening is done here with node:crypto because
 * @wecom/crypto's decrypt checks neither base64 well-formedness, nor padding, nor the length field,
 * nor the receiveId, and returns garbage instead of throwing on a wrong key. The key is decoded
 * once (leniently, as WeCom's keys need) instead of on every message.
 */
export class WecomCrypto {
  private readonly key: Buffer;
  private readonly iv: Buffer;

  constructor(
    readonly token: string,
    readonly encodingAesKey: string,
    readonly receiveId: string,
  ) {
    this.key = decodeAesKey(encodingAesKey);
    this.iv = this.key.subarray(0, 16);
  }

  signature(timestamp: string, nonce: string, encrypt: string): string {
    return getSignature(this.token, timestamp, nonce, encrypt);
  }

  /** Constant-time comparison of msg_signature (hex, case-insensitive). */
  verify(timestamp: string, nonce: string, encrypt: string, msgSignature: string): boolean {
    const want = Buffer.from(this.signature(timestamp, nonce, encrypt), 'latin1');
    const got = Buffer.from(msgSignature.toLowerCase(), 'latin1');
    return want.length === got.length && timingSafeEqual(want, got);
  }

  /** Decrypts strictly; throws CallbackRejection('bad_request' | 'foreign_corp'). Does not verify the signature. */
  open(encrypt: string): Opened {
    if (encrypt.length === 0 || encrypt.length % 4 !== 0 || !BASE64.test(encrypt)) {
      throw new CallbackRejection('bad_request', 'Encrypt is not canonical base64');
    }
    const ct = Buffer.from(encrypt, 'base64');
    if (ct.length === 0 || ct.length % 16 !== 0) {
      throw new CallbackRejection('bad_request', `ciphertext length ${ct.length} is not a multiple of 16`);
    }
    const decipher = createDecipheriv('aes-256-cbc', this.key, this.iv);
    decipher.setAutoPadding(false); // WeCom pads to 32 bytes, not to the AES block
    const plain = Buffer.concat([decipher.update(ct), decipher.final()]);
    const pad = plain[plain.length - 1];
    if (pad < 1 || pad > 32 || pad > plain.length) throw new CallbackRejection('bad_request', 'bad padding');
    for (let i = plain.length - pad; i < plain.length - 1; i++) {
      if (plain[i] !== pad) throw new CallbackRejection('bad_request', 'bad padding');
    }
    const body = plain.subarray(0, plain.length - pad);
    if (body.length < 20) throw new CallbackRejection('bad_request', 'decrypted payload too short');
    const msgLen = body.readUInt32BE(16);
    if (20 + msgLen > body.length) throw new CallbackRejection('bad_request', 'length field exceeds the payload');
    const messageBytes = body.subarray(20, 20 + msgLen);
    const idBytes = body.subarray(20 + msgLen);
    if (!isUtf8(messageBytes) || !isUtf8(idBytes)) {
      throw new CallbackRejection('bad_request', 'decrypted message is not valid UTF-8');
    }
    const receiveId = idBytes.toString('utf8');
    if (receiveId !== this.receiveId) {
      throw new CallbackRejection('foreign_corp', 'message is addressed to another corp');
    }
    return { message: messageBytes.toString('utf8'), messageBytes, receiveId, random: body.subarray(0, 16) };
  }

  /** Verify then open: the order of the checklist. */
  verifyAndOpen(q: { msgSignature: string; timestamp: string; nonce: string }, encrypt: string): Opened {
    if (!this.verify(q.timestamp, q.nonce, encrypt, q.msgSignature)) {
      throw new CallbackRejection('bad_signature', 'msg_signature does not match');
    }
    return this.open(encrypt);
  }

  /** Encrypts a message for this receiveId (sandbox sender, passive replies, tests). */
  seal(message: string, random: Buffer = randomBytes(16), receiveId = this.receiveId): string {
    // Same layout as @wecom/crypto's encrypt, with the key decoded once.
    const msg = Buffer.from(message, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(msg.length);
    const raw = Buffer.concat([random, len, msg, Buffer.from(receiveId, 'utf8')]);
    const pad = 32 - (raw.length % 32);
    const cipher = createCipheriv('aes-256-cbc', this.key, this.iv);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(Buffer.concat([raw, Buffer.alloc(pad, pad)])), cipher.final()]).toString(
      'base64',
    );
  }

  /** A complete signed POST as WeCom sends it: query parameters and XML envelope. */
  sealedCallback(
    plaintext: string,
    opts: { timestamp?: string; nonce?: string; agentId?: string; random?: Buffer } = {},
  ): { query: { msg_signature: string; timestamp: string; nonce: string }; body: string; encrypt: string } {
    const encrypt = this.seal(plaintext, opts.random);
    const timestamp = opts.timestamp ?? String(Math.floor(Date.now() / 1000));
    const nonce = opts.nonce ?? String(randomBytes(5).readUIntBE(0, 5));
    const body =
      `<xml><ToUserName><![CDATA[${this.receiveId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt>` +
      `<AgentID><![CDATA[${opts.agentId ?? ''}]]></AgentID></xml>`;
    return { query: { msg_signature: this.signature(timestamp, nonce, encrypt), timestamp, nonce }, body, encrypt };
  }

  /** Passive reply envelope (PROTOCOL.md §3). */
  replyEnvelope(replyXml: string, timestamp: string, nonce: string, random?: Buffer): string {
    const encrypt = this.seal(replyXml, random);
    const sig = this.signature(timestamp, nonce, encrypt);
    return `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt><MsgSignature><![CDATA[${sig}]]></MsgSignature><TimeStamp>${timestamp}</TimeStamp><Nonce><![CDATA[${nonce}]]></Nonce></xml>`;
  }
}

export const sha256Hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
