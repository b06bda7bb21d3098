import type { DataSource } from 'typeorm';
import * as repo from './repo';
import { signReward } from './signature';

/**
 * The reward-delivery job's work: claim due outbox rows one by one (a compare-and-set, so two
 * instances never send the same row at once), POST each signed, record the answer. Failures retry
 * with exponential backoff and jitter; after REWARD_MAX_ATTEMPTS the row is dead-lettered with the
 * reason (`ops campaigns rewards --failed`, replayable). A crash between the POST and its record
 * leaves the claim to expire and the row is POSTed again with the same idempotency key: the bank
 * (and the sandbox receiver) accept a key once, so exactly one reward results.
 */

export type RewardPost = (url: string, body: string, headers: Record<string, string>) => Promise<{ status: number }>;

export interface DeliveryOptions {
  url: string;
  secret: string;
  maxAttempts: number;
  holder: string;
  now: () => number;
  post: RewardPost;
  limit?: number;
  leaseMs?: number;
  random?: () => number;
  signal?: AbortSignal;
}

const BASE_DELAY_MS = 30_000;
const MAX_DELAY_MS = 6 * 3600_000;

export function rewardBackoffMs(attempts: number, random = Math.random): number {
  const d = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(d / 2 + random() * (d / 2));
}

export async function deliverDueRewards(
  db: DataSource,
  o: DeliveryOptions,
): Promise<{ sent: number; retried: number; dead: number }> {
  const out = { sent: 0, retried: 0, dead: 0 };
  const ids = await repo.dueRewardIds(db, o.now(), o.limit ?? 200);
  for (const id of ids) {
    if (o.signal?.aborted) break;
    const now = o.now();
    const row = await repo.claimReward(db, id, o.holder, now, now + (o.leaseMs ?? 60_000));
    if (!row) continue;
    const ts = String(Math.floor(now / 1000));
    let status = 0;
    let error: string | null = null;
    try {
      const res = await o.post(o.url, row.body, {
        'content-type': 'application/json',
        'x-reward-timestamp': ts,
        'x-reward-signature': signReward(o.secret, ts, row.body),
        'x-idempotency-key': row.idempotencyKey,
      });
      status = res.status;
      // 409: the bank already has this key (an earlier POST whose answer we lost): delivered.
      if (!((status >= 200 && status < 300) || status === 409)) error = `HTTP ${status}`;
    } catch (err) {
      // Only the code: transport errors carry URLs and headers.
      error = `network error ${(err as { code?: string }).code ?? 'unknown'}`;
    }
    const attempts = row.attempts + 1;
    const at = o.now();
    if (!error) {
      await repo.settleReward(db, id, o.holder, {
        status: 'sent',
        attempts,
        httpStatus: status,
        sentAt: at,
        lastError: null,
        updatedAt: at,
      });
      out.sent++;
    } else if (attempts >= o.maxAttempts) {
      await repo.settleReward(db, id, o.holder, {
        status: 'dead',
        attempts,
        httpStatus: status || null,
        lastError: `${error} after ${attempts} attempts`.slice(0, 255),
        updatedAt: at,
      });
      out.dead++;
    } else {
      await repo.settleReward(db, id, o.holder, {
        attempts,
        httpStatus: status || null,
        lastError: error.slice(0, 255),
        nextAttemptAt: at + rewardBackoffMs(attempts, o.random),
        updatedAt: at,
      });
      out.retried++;
    }
  }
  return out;
}
