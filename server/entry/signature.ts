import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Entry API request signing: hex HMAC-SHA256(ENTRY_SECRET, `${timestamp}.${rawBody}`) over the
 * exact bytes received, so a re-serialised body can never verify by accident.
 */

export const MAX_SKEW_SECONDS = 300;

export function signEntry(secret: string, timestamp: string | number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}

export type EntryAuthFailure = 'bad_entry_signature' | 'stale_entry_timestamp';

/** null when the request is authentic and fresh, else the error code to answer with. */
export function checkEntrySignature(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  rawBody: string,
  nowMs: number,
): EntryAuthFailure | null {
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || !signature || !/^[0-9a-fA-F]{64}$/.test(signature)) {
    return 'bad_entry_signature';
  }
  const expected = Buffer.from(signEntry(secret, timestamp, rawBody), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad_entry_signature';
  // Checked after the signature: an unsigned request learns nothing about our clock.
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > MAX_SKEW_SECONDS) return 'stale_entry_timestamp';
  return null;
}
