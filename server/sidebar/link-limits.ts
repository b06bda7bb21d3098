import type { DataSource } from 'typeorm';
import { isUniqueViolation } from '../db/data-source';

export interface LinkLimitOptions {
  /** Failed link attempts a manager may make per window. */
  maxFailures: number;
  windowMs: number;
}

/** SIDEBAR_LINK_MAX_FAILURES / SIDEBAR_LINK_WINDOW_MINUTES defaults (server/config.ts). */
export const DEFAULT_LINK_LIMITS: LinkLimitOptions = { maxFailures: 5, windowMs: 15 * 60_000 };

export type Reservation = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Per-manager limit on failed attempts to link a contact to a bank customer (each failure is a
 * guess at a customer number or phone). One row per manager in sidebar_link_limits: a fixed window
 * that starts with the first failure after the previous window ended.
 *
 * An attempt first reserves a failure with one conditional UPDATE (atomic on both databases, so
 * parallel requests on several instances cannot all read "4 so far" and all go ahead); a success
 * gives the reservation back. A read-then-write would let a burst through.
 */
export class LinkAttemptLimiter {
  constructor(
    private readonly db: DataSource,
    private readonly opts: LinkLimitOptions,
  ) {}

  async reserve(userid: string, now: number): Promise<Reservation> {
    if (await this.bump(userid, now)) return { ok: true };
    try {
      await this.run('INSERT INTO sidebar_link_limits (userid, window_start, failures) VALUES (?, ?, 1)', [
        userid,
        now,
      ]);
      return { ok: true };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    // Another request created the row meanwhile: count against it.
    if (await this.bump(userid, now)) return { ok: true };
    const rows: { window_start: number | string }[] = await this.db.query(
      'SELECT window_start FROM sidebar_link_limits WHERE userid = ?',
      [userid],
    );
    const until = Number(rows[0]?.window_start ?? now) + this.opts.windowMs;
    return { ok: false, retryAfterMs: Math.max(0, until - now) };
  }

  /** The attempt did not fail: it does not count. */
  async release(userid: string): Promise<void> {
    await this.run('UPDATE sidebar_link_limits SET failures = failures - 1 WHERE userid = ? AND failures > 0', [
      userid,
    ]);
  }

  /** One more failure in the current window, or the first of a new one; false at the limit or without a row. */
  private async bump(userid: string, now: number): Promise<boolean> {
    const expired = now - this.opts.windowMs;
    // `failures` is assigned first: MySQL evaluates SET left to right with the values assigned so far.
    const affected = await this.run(
      `UPDATE sidebar_link_limits
          SET failures = CASE WHEN window_start <= ? THEN 1 ELSE failures + 1 END,
              window_start = CASE WHEN window_start <= ? THEN ? ELSE window_start END
        WHERE userid = ? AND (window_start <= ? OR failures < ?)`,
      [expired, expired, now, userid, expired, this.opts.maxFailures],
    );
    return affected > 0;
  }

  private async run(sql: string, params: unknown[]): Promise<number> {
    const qr = this.db.createQueryRunner();
    try {
      const res = await qr.query(sql, params, true);
      return Number(res.affected ?? 0);
    } finally {
      await qr.release();
    }
  }
}
