// The sidebar's date labels follow the bank's calendar (China time, UTC+8) whatever the browser's
// time zone: the server says which day is today, so 今天 / 明天 must agree with it.
import { chinaToday, dayLabel, shortTime } from '../../../sidebar-app/src/components/format';

const at = (iso: string) => new Date(iso);

// Node re-reads TZ when it is assigned, so each case runs as in a browser in that zone.
const ZONES = ['UTC', 'America/New_York', 'Asia/Shanghai', 'Pacific/Kiritimati'];
const originalTz = process.env.TZ;
afterAll(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

describe.each(ZONES)('date labels in a browser set to %s', (zone) => {
  beforeEach(() => {
    process.env.TZ = zone;
  });

  it('chinaToday turns at midnight in China (16:00 UTC), not at the local midnight', () => {
    expect(chinaToday(at('2026-12-03T15:59:59Z'))).toBe('2026-12-03');
    expect(chinaToday(at('2026-12-03T16:00:00Z'))).toBe('2026-12-04');
  });

  it('dayLabel just after China midnight, when UTC and New York are still on the day before', () => {
    const now = at('2026-12-03T16:30:00Z'); // 2026-12-04 00:30 in China
    expect(dayLabel('2026-12-04', now)).toBe('今天');
    expect(dayLabel('2026-12-05', now)).toBe('明天');
    expect(dayLabel('2026-12-03', now)).toBe('昨天');
    expect(dayLabel('2026-12-10', now)).toBe('12-10');
  });

  it('dayLabel just before China midnight', () => {
    const now = at('2026-12-03T15:59:00Z'); // 2026-12-03 23:59 in China
    expect(dayLabel('2026-12-03', now)).toBe('今天');
    expect(dayLabel('2026-12-04', now)).toBe('明天');
    expect(dayLabel('2026-12-02', now)).toBe('昨天');
  });

  it('dayLabel across the new year in China: the year shown is China’s', () => {
    const now = at('2026-12-31T16:00:00Z'); // 2027-01-01 00:00 in China
    expect(dayLabel('2027-01-01', now)).toBe('今天');
    expect(dayLabel('2026-12-31', now)).toBe('昨天');
    expect(dayLabel('2027-01-05', now)).toBe('01-05');
    expect(dayLabel('2026-12-25', now)).toBe('2026-12-25');
    expect(dayLabel('not a day', now)).toBe('not a day');
  });

  it('shortTime shows the China wall clock', () => {
    const now = at('2026-12-03T17:00:00Z');
    expect(shortTime('2026-12-03T16:05:00Z', now)).toBe('12-04 00:05');
    expect(shortTime('2026-12-03T15:59:00Z', now)).toBe('12-03 23:59');
    expect(shortTime('2026-06-01T02:03:00.000Z', now)).toBe('06-01 10:03');
  });

  it('shortTime names the year when the instant is in another China year than now', () => {
    // 2027-01-01 00:30 in China, seen on 2026-12-31 23:00 China time.
    expect(shortTime('2026-12-31T16:30:00Z', at('2026-12-31T15:00:00Z'))).toBe('2027-01-01');
    // 2026-12-31 23:30 in China, seen just after the new year in China (still 2026 in UTC).
    expect(shortTime('2026-12-31T15:30:00Z', at('2026-12-31T16:30:00Z'))).toBe('2026-12-31');
    expect(shortTime('2026-12-31T15:30:00Z', at('2026-12-31T15:45:00Z'))).toBe('12-31 23:30');
  });

  it('shortTime of nothing or garbage is empty', () => {
    expect(shortTime(null)).toBe('');
    expect(shortTime(undefined)).toBe('');
    expect(shortTime('yesterday')).toBe('');
  });
});
