// Display helpers shared by components (pure, no Vue).
import { chinaDay, daysBetween } from '../../../server/lib/china-day';
import { clampStage } from '../../../server/playbook/stages';

export function stageLabel(stage: number): string {
  const s = clampStage(stage);
  return Number.isNaN(s) ? '' : `第${s}次触达`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Dates show on the bank's calendar, China time (UTC+8, no daylight saving), as the server counts
 * days: a browser in another time zone (a manager abroad, a test runner in UTC) sees the same 今天.
 */
const CHINA_OFFSET_MS = 8 * 3_600_000;

/** Today's China day, YYYY-MM-DD (what the server calls today). */
export function chinaToday(now: Date = new Date()): string {
  return chinaDay(now.getTime());
}

/** "11-23 10:05" this year, "2025-11-23" otherwise, in China time. */
export function shortTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return '';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '';
  // The UTC fields of the shifted instant are the China wall clock.
  const d = new Date(t + CHINA_OFFSET_MS);
  const day = `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (d.getUTCFullYear() !== Number(chinaToday(now).slice(0, 4))) return `${d.getUTCFullYear()}-${day}`;
  return `${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

export function channelLabel(channel: string): string {
  return channel === 'copy' ? '复制' : '发送';
}

/** The host a link card shows (bank.example), or '' for something that is not a URL. */
export function linkDomain(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** A YYYY-MM-DD day as 今天 / 明天 / 昨天 / 12-05 (this year) / 2027-01-05, today being China's. */
export function dayLabel(day: string, now: Date = new Date()): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  const today = chinaToday(now);
  const diff = daysBetween(today, day);
  if (diff === 0) return '今天';
  if (diff === 1) return '明天';
  if (diff === -1) return '昨天';
  return m[1] === today.slice(0, 4) ? `${m[2]}-${m[3]}` : day;
}
