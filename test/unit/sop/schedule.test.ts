import { dueOccurrences } from '../../../server/sop/delivery';
import type { PlanFile } from '../../../server/sop/plan-file';
import { chinaMinute, inQuietHours, latestTick, parseCron } from '../../../server/sop/schedule';

const cn = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h - 8, mi);
const fields = (expr: string) => {
  const c = parseCron(expr);
  if ('error' in c) throw new Error(c.error);
  return c.fields;
};

describe('SOP schedules in China time', () => {
  test('the latest weekly tick at or before now', () => {
    const monday10 = fields('0 10 * * 1');
    expect(chinaMinute(latestTick(monday10, cn(2026, 12, 7, 10, 0)) as number)).toBe('2026-12-07T10:00');
    expect(chinaMinute(latestTick(monday10, cn(2026, 12, 7, 9, 59)) as number)).toBe('2026-11-30T10:00');
    expect(chinaMinute(latestTick(monday10, cn(2026, 12, 10, 3)) as number)).toBe('2026-12-07T10:00');
    // Sunday as 0 or 7; a China Monday 01:00 is Sunday 17:00 UTC.
    expect(chinaMinute(latestTick(fields('30 8 * * 7'), cn(2026, 12, 7, 1)) as number)).toBe('2026-12-06T08:30');
    expect(chinaMinute(latestTick(fields('0 9 1 * *'), cn(2026, 12, 7, 1)) as number)).toBe('2026-12-01T09:00');
  });

  test('expressions the planner cannot honour are refused with a reason', () => {
    expect(parseCron('0 10 * *')).toEqual({ error: expect.stringMatching(/5-field/) });
    expect(parseCron('0 99 * * 1')).toEqual({ error: expect.stringMatching(/hour/) });
    expect(parseCron('0 10 L * *')).toEqual({ error: expect.stringMatching(/L, W and #/) });
  });

  test('quiet hours wrap midnight', () => {
    const q = { from: 21 * 60, to: 8 * 60 };
    expect(inQuietHours(q, cn(2026, 12, 7, 22))).toBe(true);
    expect(inQuietHours(q, cn(2026, 12, 7, 7, 59))).toBe(true);
    expect(inQuietHours(q, cn(2026, 12, 7, 8))).toBe(false);
    expect(inQuietHours(q, cn(2026, 12, 7, 20, 59))).toBe(false);
    expect(inQuietHours(null, cn(2026, 12, 7, 23))).toBe(false);
    expect(inQuietHours({ from: 12 * 60, to: 14 * 60 }, cn(2026, 12, 7, 13))).toBe(true);
  });

  test('journey steps: one occurrence per step a day, for the customers added that many days before', () => {
    const plan = {
      id: 'welcome-journey',
      name: 'n',
      channel: 'chat',
      audience: { customers: {} },
      schedule: {
        steps: [
          { day: 0, template: 1 },
          { day: 3, template: 2 },
        ],
        at: '10:00',
      },
    } as PlanFile;
    const due = dueOccurrences(plan, cn(2026, 12, 7, 10, 30));
    expect(due.map((d) => d.key)).toEqual(['2026-12-07#d0', '2026-12-07#d3']);
    expect(due[1].addedOnDay! - due[0].addedOnDay!).toBe(-3);
    expect(due.map((d) => d.templateId)).toEqual([1, 2]);
    // Before 10:00 the due day is yesterday.
    expect(dueOccurrences(plan, cn(2026, 12, 7, 9))[0].key).toBe('2026-12-06#d0');
  });
});
