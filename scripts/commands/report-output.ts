import { writeFileSync } from 'node:fs';
import { CSV_BOM } from '../../server/lib/csv';
import { oneOf, parseTime } from './args';
import { type CommandResult, type ExitCode, UsageError } from './context';

/** What every report command shares: the period, the format and where the body goes. */

const DAY = 86_400_000;

export type ReportFormat = 'table' | 'csv' | 'html';

/** --from / --to; the period defaults to the 30 days before --to (now). */
export function reportPeriod(args: { from?: string; to?: string }, now: number): { from: number; to: number } {
  const to = args.to ? parseTime(args.to, now, 'to') : now;
  const from = args.from ? parseTime(args.from, now, 'from') : to - 30 * DAY;
  if (from >= to) throw new UsageError('--from must be before --to');
  return { from, to };
}

export const reportFormat = (arg: string | undefined): ReportFormat =>
  oneOf(arg ?? 'table', ['table', 'csv', 'html'] as const, 'format');

/**
 * The rendered report as the command's output, or written to --out (a CSV with a BOM, so Excel on
 * Chinese Windows opens the UTF-8 file without garbling) with a one-line note instead.
 */
export function reportResult(r: {
  report: object;
  body: string;
  format: ReportFormat;
  out?: string;
  exitCode: ExitCode;
  /** Appended to the "written to" line (e.g. the findings). */
  note?: string;
}): CommandResult {
  if (!r.out) return { exitCode: r.exitCode, json: r.report, output: r.body };
  writeFileSync(r.out, r.format === 'csv' ? `${CSV_BOM}${r.body}` : r.body);
  return {
    exitCode: r.exitCode,
    json: { ...r.report, out: r.out, format: r.format },
    output: `${r.format} report written to ${r.out}${r.note ?? ''}`,
  };
}
