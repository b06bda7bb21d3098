/**
 * Client-side token buckets per API so one busy process never trips WeCom's per-corp limits
 * (PROTOCOL.md §5 "Rate limits": 10,000/min and 150,000/h per API; tickets 400/h per corp and
 * 100/h per app). With N processes, divide by N (`processes`) because WeCom counts per corp.
 */

export interface Window {
  /** Calls allowed per window. */
  max: number;
  /** Window length in ms. */
  perMs: number;
}

export type RateLimits = Record<string, Window[]>;

const MINUTE = 60_000;
const EPS = 1e-9;
const HOUR = 3_600_000;

export const DEFAULT_LIMITS: RateLimits = {
  '*': [
    { max: 10_000, perMs: MINUTE },
    { max: 150_000, perMs: HOUR },
  ],
  get_jsapi_ticket: [{ max: 400, perMs: HOUR }],
  'ticket/get': [{ max: 100, perMs: HOUR }],
  // PROTOCOL-SOP.md §4: at most 10 moment tasks created per minute per corp.
  'externalcontact/add_moment_task': [{ max: 10, perMs: MINUTE }],
};

/** A bucket that refills continuously: `max` tokens per `perMs`, burst up to `max`. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly ratePerMs: number;

  constructor(
    readonly max: number,
    readonly perMs: number,
    now: number,
  ) {
    this.tokens = max;
    this.last = now;
    this.ratePerMs = max / perMs;
  }

  private refill(now: number) {
    if (now > this.last) {
      this.tokens = Math.min(this.max, this.tokens + (now - this.last) * this.ratePerMs);
      this.last = now;
    }
  }

  /** ms until one token is available (0 = now). */
  waitMs(now: number): number {
    this.refill(now);
    // The epsilon absorbs float drift of the continuous refill (0.999 + 0.001 < 1).
    return this.tokens >= 1 - EPS ? 0 : Math.ceil((1 - this.tokens) / this.ratePerMs - EPS);
  }

  take(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }
}

export interface RateLimiterOptions {
  limits?: RateLimits;
  /** Processes sharing the corp's quota (each gets 1/N). */
  processes?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Longer waits fail the call instead (the caller's retry machinery takes over). */
  maxWaitMs?: number;
}

export class RateLimitExceeded extends Error {
  constructor(
    readonly api: string,
    readonly waitMs: number,
  ) {
    super(`client-side rate limit for ${api}: next slot in ${waitMs} ms`);
    this.name = 'RateLimitExceeded';
  }
}

export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket[]>();
  private readonly limits: RateLimits;
  private readonly processes: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxWaitMs: number;

  constructor(opts: RateLimiterOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.processes = Math.max(1, opts.processes ?? 1);
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.maxWaitMs = opts.maxWaitMs ?? 10_000;
  }

  private bucketsFor(api: string): TokenBucket[] {
    let b = this.buckets.get(api);
    if (!b) {
      const windows = this.limits[api] ?? this.limits['*'] ?? [];
      const now = this.now();
      b = windows.map((w) => new TokenBucket(Math.max(1, Math.floor(w.max / this.processes)), w.perMs, now));
      this.buckets.set(api, b);
    }
    return b;
  }

  /** ms the next call of `api` would wait (0 = go). */
  waitMs(api: string): number {
    const now = this.now();
    return Math.max(0, ...this.bucketsFor(api).map((b) => b.waitMs(now)));
  }

  /** Waits for a slot of every window of `api`, then consumes it. Throws RateLimitExceeded past maxWaitMs. */
  async acquire(api: string): Promise<void> {
    for (;;) {
      const wait = this.waitMs(api);
      if (wait === 0) {
        const now = this.now();
        for (const b of this.bucketsFor(api)) b.take(now);
        return;
      }
      if (wait > this.maxWaitMs) throw new RateLimitExceeded(api, wait);
      await this.sleep(wait);
    }
  }
}
