import type { DataSource } from 'typeorm';
import type { RewardOutbox } from '../db/entities';
import { REWARD_POST_TIMEOUT_MS } from './http';
import * as repo from './repo';
import { signReward } from './signature';

/**
 * The reward-delivery job's work: claim a small batch of due outbox rows under a lease (`FOR UPDATE
 * SKIP LOCKED` on MySQL, one atomic UPDATE on SQLite: concurrent senders take disjoint rows and two
 * instances never send the same row at once), POST each signed, record the batch's answers in one
 * commit, claim the next batch. Failures retry with exponential backoff and jitter; after
 * REWARD_MAX_ATTEMPTS the row is dead-lettered with the reason (`ops campaigns rewards --failed`,
 * replayable). A crash between a POST and its record leaves the claim to expire and the row is
 * POSTed again with the same idempotency key: the bank (and the sandbox receiver) accept a key
 * once, so exactly one reward results. A row is POSTed only while its lease has at least the POST
 * timeout left; the rest of a batch whose lease ran short (a slow receiver) is given back, so a
 * live sender's claim does not expire under a POST.
 */

export type RewardPost = (url: string, body: string, headers: Record<string, string>) => Promise<{ status: number }>;

export interface DeliveryOptions {
  url: string;
  secret: string;
  maxAttempts: number;
  holder: string;
  now: () => number;
  post: RewardPost;
  /** Rows this run POSTs at most (default 200). */
  limit?: number;
  /** Rows per claim (default 20): small enough that a batch's POSTs fit in the lease. */
  batch?: number;
  leaseMs?: number;
  /** The POST's own timeout: a row is only POSTed while its lease has at least this much left. */
  postTimeoutMs?: number;
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
  const leaseMs = o.leaseMs ?? 60_000;
  const postTimeoutMs = o.postTimeoutMs ?? REWARD_POST_TIMEOUT_MS;
  let budget = o.limit ?? 200;
  while (budget > 0 && !o.signal?.aborted) {
    const claimedAt = o.now();
    const until = claimedAt + leaseMs;
    const rows = await repo.claimDueRewards(db, o.holder, {
      now: claimedAt,
      until,
      limit: Math.min(budget, o.batch ?? 20),
    });
    if (!rows.length) break;
    budget -= rows.length;
    const answered: repo.RewardAnswer[] = [];
    let left: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (o.signal?.aborted || o.now() + postTimeoutMs > until) {
        // Given back unPOSTed, to be claimed again with a fresh lease (by us or another sender);
        // they don't count against `limit`.
        left = rows.slice(i).map((r) => r.id);
        break;
      }
      answered.push(await postOne(o, rows[i], out));
    }
    // One commit for the whole batch: a commit per row (an fsync each on MariaDB, 2 ms here) cost
    // more than the POST itself. A crash before it leaves the batch's lease to expire and its rows
    // are POSTed again with their keys, as for a crash right after one POST.
    await repo.recordRewardAnswers(db, o.holder, answered, left);
    budget += left.length;
    // A lease too short for even one POST ends the run.
    if (left.length && (!answered.length || o.signal?.aborted)) break;
  }
  return out;
}

/** POSTs one claimed row; returns what to record. */
async function postOne(
  o: DeliveryOptions,
  row: RewardOutbox,
  out: { sent: number; retried: number; dead: number },
): Promise<repo.RewardAnswer> {
  const ts = String(Math.floor(o.now() / 1000));
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
    out.sent++;
    return {
      id: row.id,
      set: { status: 'sent', attempts, httpStatus: status, sentAt: at, lastError: null, updatedAt: at },
    };
  }
  if (attempts >= o.maxAttempts) {
    out.dead++;
    return {
      id: row.id,
      set: {
        status: 'dead',
        attempts,
        httpStatus: status || null,
        lastError: `${error} after ${attempts} attempts`.slice(0, 255),
        updatedAt: at,
      },
    };
  }
  out.retried++;
  return {
    id: row.id,
    set: {
      attempts,
      httpStatus: status || null,
      lastError: error.slice(0, 255),
      nextAttemptAt: at + rewardBackoffMs(attempts, o.random),
      updatedAt: at,
    },
  };
}
