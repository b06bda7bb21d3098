import { randomBytes } from 'node:crypto';
import { decodeSecretsKey, SecretBox, sandboxSecretsKey } from '../../../server/lib/secret-box';

describe('SecretBox (AES-256-GCM at rest)', () => {
  const box = new SecretBox(randomBytes(32));
  const token = 'sbxtok_0123456789abcdefghijklmnopqrstuvwxyzABCDEF';

  it('round-trips, with a fresh IV each time and no trace of the clear text', () => {
    const a = box.seal(token, 'token:abc');
    const b = box.seal(token, 'token:abc');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^gcm1:[A-Za-z0-9_-]+$/);
    expect(a).not.toContain('sbxtok');
    expect(box.open(a, 'token:abc')).toBe(token);
    expect(box.open(box.seal('', 'x'), 'x')).toBe('');
  });

  it('answers null for clear legacy values, another row, another key, tampering or truncation', () => {
    const sealed = box.seal(token, 'token:abc');
    expect(box.open(token, 'token:abc')).toBeNull();
    expect(box.open(sealed, 'token:other')).toBeNull();
    expect(new SecretBox(randomBytes(32)).open(sealed, 'token:abc')).toBeNull();
    const raw = Buffer.from(sealed.slice(5), 'base64url');
    raw[raw.length - 1] ^= 1;
    expect(box.open(`gcm1:${raw.toString('base64url')}`, 'token:abc')).toBeNull();
    expect(box.open(sealed.slice(0, 20), 'token:abc')).toBeNull();
    expect(box.open('gcm1:', 'token:abc')).toBeNull();
  });

  it('SECRETS_KEY: 64 hex or base64 of 32 bytes; anything else is refused', () => {
    const key = randomBytes(32);
    expect(decodeSecretsKey(key.toString('hex'))).toEqual(key);
    expect(decodeSecretsKey(key.toString('base64'))).toEqual(key);
    expect(decodeSecretsKey(key.toString('base64url'))).toEqual(key);
    expect(() => decodeSecretsKey(randomBytes(16).toString('hex'))).toThrow(/32 bytes/);
    expect(() => decodeSecretsKey(randomBytes(24).toString('base64'))).toThrow(/32 bytes/);
    expect(() => decodeSecretsKey('correct horse battery staple')).toThrow(/32 bytes/);
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32-byte/);
    expect(sandboxSecretsKey()).toEqual(sandboxSecretsKey());
  });
});
