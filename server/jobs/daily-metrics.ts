import { Between, type DataSource } from 'typeorm';
import { Follow, WelcomeMessage } from '../db/entities';

/** China Standard Time has no daylight saving: a fixed offset is exact. */
const CST_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 24 * 3600_000;

/** [start, end) in epoch ms of the China day before the one containing `now`. */
export function yesterdayCst(now: number): { day: string; start: number; end: number } {
  const todayStart = Math.floor((now + CST_OFFSET_MS) / DAY_MS) * DAY_MS - CST_OFFSET_MS;
  const start = todayStart - DAY_MS;
  return { day: new Date(start + CST_OFFSET_MS).toISOString().slice(0, 10), start, end: todayStart };
}

export interface DailyMetrics {
  day: string;
  /** New manager ↔ customer relations. */
  adds: number;
  /** Customers who deleted their manager (deleted_by = customer). */
  churn: number;
  /** Welcome messages by outcome, counted on the event time. */
  welcome: Record<string, number>;
}

/** Yesterday's adds, churn and welcome outcomes: counts only, nothing about people. */
export async function computeDailyMetrics(db: DataSource, now: number): Promise<DailyMetrics> {
  const { day, start, end } = yesterdayCst(now);
  const range = Between(start, end - 1);
  const adds = await db.getRepository(Follow).countBy({ addedAt: range });
  const churn = await db.getRepository(Follow).countBy({ deletedAt: range, deletedBy: 'customer' });
  const rows: { status: string; n: string | number }[] = await db
    .getRepository(WelcomeMessage)
    .createQueryBuilder('w')
    .select('w.status', 'status')
    .addSelect('COUNT(*)', 'n')
    .where('w.event_at >= :start AND w.event_at < :end', { start, end })
    .groupBy('w.status')
    .getRawMany();
  const welcome: Record<string, number> = {};
  for (const r of rows) welcome[r.status] = Number(r.n);
  return { day, adds, churn, welcome };
}
