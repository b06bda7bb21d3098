import axios, { type AxiosAdapter } from 'axios';
import type { RewardPost } from './delivery';

/** A reward POST gives up after this long; delivery leases are sized against it. */
export const REWARD_POST_TIMEOUT_MS = 10_000;

/**
 * The POST the delivery job uses. Through `adapter` (the job context's `httpAdapter`: in sandbox
 * mode a URL on this server's own /sandbox/ goes through app.inject); otherwise plain HTTP.
 */
export function rewardPoster(adapter: AxiosAdapter | undefined, timeoutMs = REWARD_POST_TIMEOUT_MS): RewardPost {
  const http = axios.create({
    timeout: timeoutMs,
    validateStatus: () => true,
    responseType: 'text',
    transformResponse: (d) => d,
    adapter,
  });
  return async (url, body, headers) => {
    const res = await http.post(url, body, { headers });
    return { status: res.status };
  };
}
