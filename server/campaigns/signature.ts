import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Reward webhook signature: `x-reward-signature` = hex HMAC-SHA256(REWARD_WEBHOOK_SECRET,
 * `${x-reward-timestamp}.${rawBody}`), the timestamp in Unix seconds. The bank verifies it over the
 * raw body bytes exactly as received (verifyRewardSignature is what it can copy).
 */
export function signReward(secret: string, timestamp: string, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}

export type RewardSignatureFailure = 'missing_signature' | 'bad_signature' | 'stale_timestamp';

/** null when valid; the timestamp must be within ±`skewSeconds` of `nowMs`. */
export function verifyRewardSignature(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  rawBody: string,
  nowMs: number,
  skewSeconds = 300,
): RewardSignatureFailure | null {
  if (!timestamp || !signature) return 'missing_signature';
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > skewSeconds)
    return 'stale_timestamp';
  if (!/^[0-9a-f]{64}$/.test(signature)) return 'bad_signature';
  const want = Buffer.from(signReward(secret, timestamp, rawBody), 'hex');
  return timingSafeEqual(want, Buffer.from(signature, 'hex')) ? null : 'bad_signature';
}
