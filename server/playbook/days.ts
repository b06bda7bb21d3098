/** The bank's calendar is China Standard Time (UTC+8, no daylight saving), as in the daily metrics job. */
const CST_OFFSET_MS = 8 * 3_600_000;

/** Epoch day number of `ms` in the bank's calendar: touches on one bank day share it. */
export function bankDay(ms: number): number {
  return Math.floor((ms + CST_OFFSET_MS) / 86_400_000);
}

/**
 * An approval's expiry date (YYYY-MM-DD, or a full ISO time): a date means "valid through that bank
 * day", so it ends at the next midnight in UTC+8. null when it is not a valid date.
 */
export function parseExpiry(value: string): number | null {
  const s = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const utc = Date.UTC(y, mo - 1, d + 1) - CST_OFFSET_MS;
    const check = new Date(Date.UTC(y, mo - 1, d));
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
    return utc;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(s)) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
}
