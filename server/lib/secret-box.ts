import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for values we must keep at rest but must not hand out with a database dump
 * (`secrets_cache`: WeCom access tokens and JS-SDK tickets).
 *
 * Stored form: `gcm1:` + base64url(iv[12] ‖ tag[16] ‖ ciphertext). A fresh random IV per value, and
 * the row's name as additional authenticated data, so a ciphertext copied into another row does not
 * open there. `open` answers null — never throws — for anything it cannot authenticate: a clear
 * value written by an older version, a value sealed with another key (SECRETS_KEY rotated), a
 * truncated or tampered one. The caller treats that as a cache miss.
 */

const PREFIX = 'gcm1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
    this.key = Buffer.from(key);
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url');
  }

  open(stored: string, context: string): string | null {
    if (!stored.startsWith(PREFIX)) return null;
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}

/**
 * SECRETS_KEY: 32 bytes as 64 hex characters or base64 (standard or url-safe, padding optional).
 * Throws a message for the config error otherwise.
 */
export function decodeSecretsKey(text: string): Buffer {
  const v = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(v)) {
    const key = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return key;
  }
  throw new Error('must be 32 bytes as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)');
}

/** The sandbox's key: fixed and public, like its other secrets (nothing real is stored with it). */
export function sandboxSecretsKey(): Buffer {
  return createHash('sha256').update('wecom-bank-cm sandbox SECRETS_KEY, not for production').digest();
}
