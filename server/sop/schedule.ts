import cron from 'node-cron';

/**
 * Plan schedules in bank time (Asia/Shanghai, UTC+8 all year: no daylight saving), computed here
 * rather than by node-cron's scheduler because the planner asks "which tick is due now?" on every
 * run of the job, on any instance: the latest tick at or before now is the occurrence to create.
 */

const CN_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

export interface CronFields {
  minutes: number[];
  hours: number[];
  days: number[];
  months: number[];
  weekdays: number[];
}

/** The five numeric fields, or a reason the expression is refused (null when fine). */
export function parseCron(expr: string): { fields: CronFields } | { error: string } {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) return { error: 'must be a 5-field cron expression (minute hour day month weekday)' };
  const v = cron.validateDetailed(expr.trim());
  if (!v.valid) return { error: v.errors.map((e) => `${e.field}: ${e.message}`).join('; ') };
  const f = cron.parse(expr.trim());
  const numeric = (xs: (number | string)[]) => xs.every((x) => typeof x === 'number');
  if (!numeric(f.dayOfMonth) || !numeric(f.dayOfWeek)) {
    return { error: 'L, W and # day tokens are not supported: name the days' };
  }
  return {
    fields: {
      minutes: [...f.minute].sort((a, b) => a - b),
      hours: [...f.hour].sort((a, b) => a - b),
      days: f.dayOfMonth as number[],
      months: f.month,
      weekdays: (f.dayOfWeek as number[]).map((d) => d % 7),
    },
  };
}

/** China calendar parts of an instant. */
export function chinaParts(ms: number) {
  const d = new Date(ms + CN_OFFSET_MS);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
  };
}

/** China epoch day (days since 1970-01-01 in UTC+8). */
export const chinaDay = (ms: number) => Math.floor((ms + CN_OFFSET_MS) / DAY_MS);
/** 00:00 China time of a China epoch day, as an instant. */
export const chinaDayStart = (day: number) => day * DAY_MS - CN_OFFSET_MS;
/** The China epoch day of the first day of `ms`'s China month. */
export function chinaMonthStartDay(ms: number): number {
  const p = chinaParts(ms);
  return Math.floor(Date.UTC(p.year, p.month - 1, 1) / DAY_MS);
}

const pad = (n: number) => String(n).padStart(2, '0');
/** `2026-12-07` (China date). */
export function chinaDate(ms: number): string {
  const p = chinaParts(ms);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}
/** `2026-12-07T10:00` (China time, minute precision): the occurrence key of a cron tick. */
export function chinaMinute(ms: number): string {
  const p = chinaParts(ms);
  return `${chinaDate(ms)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** The latest tick at or before `now` (ms), looking back at most `lookbackDays`; null if none. */
export function latestTick(fields: CronFields, now: number, lookbackDays = 400): number | null {
  const today = chinaDay(now);
  const nowMin = chinaParts(now);
  for (let back = 0; back <= lookbackDays; back++) {
    const day = today - back;
    const start = chinaDayStart(day);
    const p = chinaParts(start);
    if (!fields.months.includes(p.month) || !fields.days.includes(p.day) || !fields.weekdays.includes(p.weekday)) {
      continue;
    }
    for (let h = fields.hours.length - 1; h >= 0; h--) {
      const hour = fields.hours[h];
      if (back === 0 && hour > nowMin.hour) continue;
      for (let m = fields.minutes.length - 1; m >= 0; m--) {
        const minute = fields.minutes[m];
        if (back === 0 && hour === nowMin.hour && minute > nowMin.minute) continue;
        return start + hour * 3_600_000 + minute * 60_000;
      }
    }
  }
  return null;
}

/** `HH:MM` → minutes after midnight, or null. */
export function clockMinutes(v: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(v);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** Quiet hours `21:00-08:00` (may wrap midnight): is `now` inside them (China time)? */
export function inQuietHours(quiet: { from: number; to: number } | null, now: number): boolean {
  if (!quiet || quiet.from === quiet.to) return false;
  const p = chinaParts(now);
  const t = p.hour * 60 + p.minute;
  return quiet.from < quiet.to ? t >= quiet.from && t < quiet.to : t >= quiet.from || t < quiet.to;
}
