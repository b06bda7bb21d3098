import { UsageError } from './context';

/**
 * Times on the command line: an ISO date (2026-11-01, read as local midnight), a date-time
 * (2026-11-01T08:00, 2026-11-01 08:00), epoch milliseconds, or a span back from now (7d, 12h, 30m).
 */
export function parseTime(value: string, now: number, name = 'time'): number {
  const v = value.trim();
  const span = /^(\d+)\s*([dhm])$/.exec(v);
  if (span) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[span[2] as 'd' | 'h' | 'm'];
    return now - Number(span[1]) * unit;
  }
  if (/^\d{12,14}$/.test(v)) return Number(v);
  if (/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(v)) {
    const t = new Date(v.length === 10 ? `${v}T00:00:00` : v.replace(' ', 'T')).getTime();
    if (Number.isFinite(t)) return t;
  }
  throw new UsageError(`--${name} "${value}" is not a time: use 2026-11-01, 2026-11-01T08:00, or a span like 7d / 12h`);
}

export function parsePositiveInt(value: string, name: string, max = 1_000_000): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > max) {
    throw new UsageError(`--${name} "${value}" must be a whole number between 1 and ${max}`);
  }
  return Number(value);
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!allowed.includes(value as T)) throw new UsageError(`--${name} "${value}" must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
