import type { DataSource } from 'typeorm';
import { CHURN_AFTER_TOUCH_MS } from './attribution';
import { EMPTY_SNAPSHOT, type PerformanceSnapshot, type VariantStats } from './variant-performance';

/** A real send: 发送, or a 复制 the manager confirmed as sent (same rule as attribution.ts). */
export const REAL_SEND_SQL = "(channel = 'send' OR (channel = 'copy' AND confirmed_at IS NOT NULL))";

/**
 * Sends, conversions and churn after touch per script version, aggregated in the database.
 * Conversions count distinct credited sends, so they never exceed sends.
 */
export async function loadPerformance(db: DataSource): Promise<PerformanceSnapshot> {
  const [sends, conversions, churns]: { template_id: number; n: number | string }[][] = await Promise.all([
    db.query(
      `SELECT template_id, COUNT(*) AS n FROM touches
        WHERE template_id IS NOT NULL AND ${REAL_SEND_SQL} GROUP BY template_id`,
    ),
    db.query(
      `SELECT template_id, COUNT(DISTINCT touch_id) AS n FROM outcomes
        WHERE template_id IS NOT NULL GROUP BY template_id`,
    ),
    db.query(
      `SELECT t.template_id, COUNT(*) AS n FROM touches t
         JOIN follows f ON f.external_userid = t.external_userid AND f.userid = t.userid
        WHERE t.template_id IS NOT NULL
          AND (t.channel = 'send' OR (t.channel = 'copy' AND t.confirmed_at IS NOT NULL))
          AND f.deleted_by = 'customer' AND f.deleted_at >= t.sent_at AND f.deleted_at <= t.sent_at + ?
        GROUP BY t.template_id`,
      [CHURN_AFTER_TOUCH_MS],
    ),
  ]);
  const byTemplate = new Map<number, VariantStats>();
  const at = (id: number) => {
    let s = byTemplate.get(id);
    if (!s) {
      s = { sends: 0, conversions: 0, churns: 0 };
      byTemplate.set(id, s);
    }
    return s;
  };
  for (const r of sends) at(Number(r.template_id)).sends = Number(r.n);
  for (const r of conversions) at(Number(r.template_id)).conversions = Number(r.n);
  for (const r of churns) at(Number(r.template_id)).churns = Number(r.n);
  let totalSends = 0;
  let totalConversions = 0;
  for (const s of byTemplate.values()) {
    totalSends += s.sends;
    totalConversions += Math.min(s.conversions, s.sends);
  }
  return { byTemplate, baseline: totalSends ? totalConversions / totalSends : 0 };
}

/**
 * The snapshot the ranking reads, refreshed in the background at most every `ttlMs`: a card waits
 * only for the very first load, later ones use the previous snapshot while a new one loads.
 */
export class PerformanceSource {
  private snapshot: PerformanceSnapshot | null = null;
  private loadedAt = 0;
  private loading: Promise<PerformanceSnapshot> | null = null;

  constructor(
    private readonly db: DataSource,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 5 * 60_000,
  ) {}

  async get(): Promise<PerformanceSnapshot> {
    if (this.snapshot && this.now() - this.loadedAt < this.ttlMs) return this.snapshot;
    const refresh = this.refresh();
    if (this.snapshot) {
      refresh.catch(() => undefined);
      return this.snapshot;
    }
    return refresh.catch(() => EMPTY_SNAPSHOT);
  }

  /** Drops the snapshot (after an outcome import in this process). */
  invalidate(): void {
    this.snapshot = null;
  }

  private refresh(): Promise<PerformanceSnapshot> {
    this.loading ??= loadPerformance(this.db)
      .then((s) => {
        this.snapshot = s;
        this.loadedAt = this.now();
        return s;
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }
}
